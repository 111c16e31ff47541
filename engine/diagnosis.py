"""The funnel's shape, diagnosed: the four patterns of DESIGN.md, each naming the stage and the evidence.

- `lead-quality`: most decided deals never pass the first stage.
- `price-below-market`: near 100 % conversion at every stage.
- `late-losses`: losses concentrated in the last stages (selling skill or price).
- `slow-stage`: deals wait far longer in one stage than in the others (superfluous or blocked).
- `rework-loop`: many deals go back from a stage (up the path, or into a side stage such as rework).

Thresholds are a `Thresholds` record: defaults below, overridden by a
`[tool.funnel.diagnosis]` table in pyproject.toml and by `--threshold NAME=VALUE`.
docs/metrics.md "Diagnosis" documents each one.
"""
from __future__ import annotations

import dataclasses
import os
import statistics
import tomllib
from dataclasses import dataclass

from ..lang import _, ngettext, using
from .metrics import FunnelMetrics


@dataclass(frozen=True)
class Thresholds:
    min_deals: int = 20               # fewer deals (in the population a pattern looks at): no finding
    first_stage_drop: float = 0.5     # share of decided deals lost in the first stage, at or above
    high_conversion: float = 0.9      # every stage's conversion at or above this
    late_stages: int = 2              # the last N open stages count as late
    late_loss_share: float = 0.6      # share of losses in the late stages, at or above
    slow_stage_ratio: float = 3.0     # a stage's median wait against the other stages' typical median
    slow_stage_min_days: float = 1.0  # ...and at least this many days, so hours against minutes is no finding
    min_stays: int = 5                # stays a stage needs to take part in the slow-stage comparison
    slow_stage_min_stages: int = 3    # stages taking part, so that "elsewhere" is more than one other stage
    rework_share: float = 0.2         # share of the deals that reached a stage and went back from it, at or above

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def updated(self, values: dict, where: str) -> "Thresholds":
        """These thresholds with `values` (names with - or _) applied; ValueError names a bad one."""
        known = {f.name: f.type for f in dataclasses.fields(self)}
        changes = {}
        for raw_name, raw in values.items():
            name = str(raw_name).replace("-", "_")
            if name not in known:
                raise ValueError(f"{where}: unknown diagnosis threshold `{raw_name}`; known: "
                                 + ", ".join(f"`{n.replace('_', '-')}`" for n in known))
            changes[name] = _coerce(raw, known[name], f"{where}: `{raw_name}`")
        return dataclasses.replace(self, **changes)


def _coerce(raw, kind: str, where: str):
    try:
        value = int(raw) if kind == "int" and not isinstance(raw, float) else float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be a number, not {raw!r}") from None
    if isinstance(raw, bool) or value < 0:
        raise ValueError(f"{where} must be a number at or above 0, not {raw!r}")
    return value


def parse_overrides(pairs: tuple[str, ...]) -> dict:
    """`NAME=VALUE` strings (from the command line) as a dict; ValueError for a malformed one."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--threshold `{pair}`: expected NAME=VALUE, e.g. first-stage-drop=0.6")
        values[name.strip()] = value.strip()
    return values


def load_thresholds(directory: str, overrides: dict | None = None) -> Thresholds:
    """Defaults, then the nearest pyproject.toml's `[tool.funnel.diagnosis]` from `directory` up, then overrides."""
    thresholds = Thresholds()
    path = _nearest_pyproject(directory)
    if path is not None:
        with open(path, "rb") as handle:
            try:
                table = tomllib.load(handle).get("tool", {}).get("funnel", {}).get("diagnosis", {})
            except tomllib.TOMLDecodeError as err:
                raise ValueError(f"{path}: {err}") from None
        if not isinstance(table, dict):
            raise ValueError(f"{path}: [tool.funnel.diagnosis] must be a table")
        thresholds = thresholds.updated(table, f"{path} [tool.funnel.diagnosis]")
    if overrides:
        thresholds = thresholds.updated(overrides, "--threshold")
    return thresholds


def _nearest_pyproject(directory: str) -> str | None:
    current = os.path.abspath(directory)
    while True:
        candidate = os.path.join(current, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


@dataclass(frozen=True)
class Finding:
    pattern: str                       # lead-quality | price-below-market | late-losses | slow-stage | rework-loop
    stages: tuple[str, ...]            # the stage ids it is about
    evidence: dict                     # the figures behind it, for machines
    titles: tuple[tuple[str, str], ...] = ()     # stage id -> display name, for the message

    @property
    def message(self) -> str:
        """The evidence and what to check, for people, in the language in use (lang.using)."""
        return _WORDING[self.pattern](self.evidence, dict(self.titles))

    def to_json(self) -> dict:
        with using("en"):              # machine output reads the same whatever the report's language
            message = self.message
        return {"pattern": self.pattern, "stages": list(self.stages), "message": message,
                "evidence": self.evidence}


def percent(share: float) -> str:
    from .report.units import percent as shown

    return shown(share, 0)


def days(seconds: float) -> str:
    from .report.units import grouped

    value = seconds / 86400
    return _("{days} days").format(days=grouped(value, 1 if value < 10 else 0))


def diagnose(metrics: FunnelMetrics, thresholds: Thresholds = Thresholds()) -> list[Finding]:
    """Every pattern the funnel's figures show, in the order of the patterns above."""
    if not metrics.stages:
        return []
    findings = []
    for check in (_lead_quality, _price_below_market, _late_losses, _slow_stage, _rework_loop):
        findings.extend(check(metrics, thresholds))
    return findings


def _titles(m: FunnelMetrics, *ids: str) -> tuple[tuple[str, str], ...]:
    names = {s.id: s.title for s in m.stages + m.side_stages}
    return tuple((i, names.get(i, i)) for i in ids)


def _lead_quality(m: FunnelMetrics, t: Thresholds) -> list[Finding]:
    first = m.stages[0]
    passed = first.passed                        # went on down the path, whether it came back later or not
    dropped = first.dropped
    decided = passed + dropped
    if decided < t.min_deals or dropped / decided < t.first_stage_drop:
        return []
    share = dropped / decided
    return [Finding("lead-quality", (first.id,),
                    {"stage": first.id, "share": share, "lost_in_first": dropped, "decided": decided,
                     "threshold": t.first_stage_drop}, _titles(m, first.id))]


def _say_lead_quality(e: dict, titles: dict) -> str:
    return _("{share} of deals never leave {stage} ({lost} of {decided} decided deals were lost there): check lead "
             "quality and the first contact").format(share=percent(e["share"]), stage=titles[e["stage"]],
                                                     lost=e["lost_in_first"], decided=e["decided"])


def _price_below_market(m: FunnelMetrics, t: Thresholds) -> list[Finding]:
    rates = [(s, s.conversion_next) for s in m.stages]
    if m.stages[0].reached < t.min_deals or any(r is None or r < t.high_conversion for _, r in rates):
        return []
    lowest, rate = min(rates, key=lambda sr: sr[1])
    return [Finding("price-below-market", tuple(s.id for s in m.stages),
                    {"lowest_stage": lowest.id, "lowest_conversion": rate, "win_rate": m.win_rate,
                     "threshold": t.high_conversion}, _titles(m, lowest.id))]


def _say_price_below_market(e: dict, titles: dict) -> str:
    return _("every stage converts at least {threshold} (lowest: {stage}, {rate}; win rate {win_rate}): deals close "
             "too easily, check whether the price is below market").format(
        threshold=percent(e["threshold"]), stage=titles[e["lowest_stage"]], rate=percent(e["lowest_conversion"]),
        win_rate=percent(e["win_rate"] or 0))


def _late_losses(m: FunnelMetrics, t: Thresholds) -> list[Finding]:
    late_count = int(t.late_stages)
    if late_count < 1 or len(m.stages) <= late_count:
        return []
    late = m.stages[-late_count:]
    lost_known = sum(s.lost_from for s in m.stages)
    lost_late = sum(s.lost_from for s in late)
    if lost_known < t.min_deals or lost_late / lost_known < t.late_loss_share:
        return []
    share = lost_late / lost_known
    return [Finding("late-losses", tuple(s.id for s in late),
                    {"share": share, "lost_late": lost_late, "lost": lost_known,
                     "by_stage": {s.id: s.lost_from for s in late}, "threshold": t.late_loss_share},
                    _titles(m, *(s.id for s in late)))]


def _say_late_losses(e: dict, titles: dict) -> str:
    return _("{share} of lost deals ({late} of {lost}) drop out in the last stages, {stages}: check selling skill "
             "and the price").format(share=percent(e["share"]), late=e["lost_late"], lost=e["lost"],
                                     stages=_join([titles[i] for i in e["by_stage"]]))


def _slow_stage(m: FunnelMetrics, t: Thresholds) -> list[Finding]:
    medians = {}
    for stage in m.stages:
        if stage.every_stay.count >= t.min_stays:
            medians[stage.id] = stage.every_stay.median
    if len(medians) < max(2, t.slow_stage_min_stages):
        return []
    findings = []
    for stage in m.stages:
        if stage.id not in medians:
            continue
        others = statistics.median(v for k, v in medians.items() if k != stage.id)
        mine = medians[stage.id]
        if mine < t.slow_stage_min_days * 86400 or mine < t.slow_stage_ratio * others:
            continue
        factor = mine / others if others else None
        findings.append(Finding(
            "slow-stage", (stage.id,),
            {"stage": stage.id, "median_seconds": mine, "others_median_seconds": others, "ratio": factor,
             "stays": stage.every_stay.count, "threshold": t.slow_stage_ratio}, _titles(m, stage.id)))
    return findings


def _say_slow_stage(e: dict, titles: dict) -> str:
    from .report.units import grouped

    if e["ratio"] is not None:
        against = _("{factor}× the other stages' {days}").format(factor=grouped(e["ratio"], 1),
                                                                 days=days(e["others_median_seconds"]))
    else:
        against = _("while deals pass the other stages at once")
    return _("deals wait a median of {days} in {stage}, {against}: check whether the stage is needed or "
             "blocked").format(days=days(e["median_seconds"]), stage=titles[e["stage"]], against=against)


def _rework_loop(m: FunnelMetrics, t: Thresholds) -> list[Finding]:
    findings = []
    for back in m.moves_back:                    # the most frequent first
        reached = next(s.reached for s in m.stages if s.id == back.source)   # a move back starts on the path
        if reached < t.min_deals or back.share is None or back.share < t.rework_share:
            continue
        findings.append(Finding(
            "rework-loop", (back.source, back.target),
            {"from": back.source, "to": back.target, "share": back.share, "deals": back.deals, "moves": back.moves,
             "reached": reached, "threshold": t.rework_share}, _titles(m, back.source, back.target)))
    return findings


def _say_rework_loop(e: dict, titles: dict) -> str:
    return ngettext("{share} of deals go back from {source} to {target} ({deals} of {reached} deals that reached "
                    "{source}, {moves} move): find out what sends them back",
                    "{share} of deals go back from {source} to {target} ({deals} of {reached} deals that reached "
                    "{source}, {moves} moves): find out what sends them back", e["moves"]).format(
        share=percent(e["share"]), source=titles[e["from"]], target=titles[e["to"]], deals=e["deals"],
        reached=e["reached"], moves=e["moves"])


_WORDING = {"lead-quality": _say_lead_quality, "price-below-market": _say_price_below_market,
            "late-losses": _say_late_losses, "slow-stage": _say_slow_stage, "rework-loop": _say_rework_loop}


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else _("{names} and {last}").format(names=", ".join(names[:-1]),
                                                                           last=names[-1])
