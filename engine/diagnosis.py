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
    message: str                       # the evidence and what to check, for people
    evidence: dict                     # the figures behind it, for machines

    def to_json(self) -> dict:
        return {"pattern": self.pattern, "stages": list(self.stages), "message": self.message,
                "evidence": self.evidence}


def percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def days(seconds: float) -> str:
    value = seconds / 86400
    return f"{value:.1f} days" if value < 10 else f"{value:.0f} days"


def diagnose(metrics: FunnelMetrics, thresholds: Thresholds = Thresholds()) -> list[Finding]:
    """Every pattern the funnel's figures show, in the order of the patterns above."""
    if not metrics.stages:
        return []
    findings = []
    for check in (_lead_quality, _price_below_market, _late_losses, _slow_stage, _rework_loop):
        findings.extend(check(metrics, thresholds))
    return findings


def _lead_quality(m: FunnelMetrics, t: Thresholds) -> list[Finding]:
    first = m.stages[0]
    passed = first.passed                        # went on down the path, whether it came back later or not
    dropped = first.dropped
    decided = passed + dropped
    if decided < t.min_deals or dropped / decided < t.first_stage_drop:
        return []
    share = dropped / decided
    return [Finding("lead-quality", (first.id,),
                    f"{percent(share)} of deals never leave {first.title} ({dropped} of {decided} decided deals "
                    f"were lost there): check lead quality and the first contact",
                    {"stage": first.id, "share": share, "lost_in_first": dropped, "decided": decided,
                     "threshold": t.first_stage_drop})]


def _price_below_market(m: FunnelMetrics, t: Thresholds) -> list[Finding]:
    rates = [(s, s.conversion_next) for s in m.stages]
    if m.stages[0].reached < t.min_deals or any(r is None or r < t.high_conversion for _, r in rates):
        return []
    lowest, rate = min(rates, key=lambda sr: sr[1])
    return [Finding("price-below-market", tuple(s.id for s in m.stages),
                    f"every stage converts at least {percent(t.high_conversion)} (lowest: {lowest.title}, "
                    f"{percent(rate)}; win rate {percent(m.win_rate or 0)}): deals close too easily, check "
                    f"whether the price is below market",
                    {"lowest_stage": lowest.id, "lowest_conversion": rate, "win_rate": m.win_rate,
                     "threshold": t.high_conversion})]


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
    names = _join([s.title for s in late])
    return [Finding("late-losses", tuple(s.id for s in late),
                    f"{percent(share)} of lost deals ({lost_late} of {lost_known}) drop out in the last stages, "
                    f"{names}: check selling skill and the price",
                    {"share": share, "lost_late": lost_late, "lost": lost_known,
                     "by_stage": {s.id: s.lost_from for s in late}, "threshold": t.late_loss_share})]


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
        against = (f"{factor:.1f}× the other stages' {days(others)}" if factor is not None
                   else "while deals pass the other stages at once")
        findings.append(Finding(
            "slow-stage", (stage.id,),
            f"deals wait a median of {days(mine)} in {stage.title}, {against}: check whether the stage is "
            f"needed or blocked",
            {"stage": stage.id, "median_seconds": mine, "others_median_seconds": others, "ratio": factor,
             "stays": stage.every_stay.count, "threshold": t.slow_stage_ratio}))
    return findings


def _rework_loop(m: FunnelMetrics, t: Thresholds) -> list[Finding]:
    titles = {s.id: s.title for s in m.stages + m.side_stages}
    findings = []
    for back in m.moves_back:                    # the most frequent first
        reached = next(s.reached for s in m.stages if s.id == back.source)   # a move back starts on the path
        if reached < t.min_deals or back.share is None or back.share < t.rework_share:
            continue
        source, target = titles[back.source], titles.get(back.target, back.target)
        findings.append(Finding(
            "rework-loop", (back.source, back.target),
            f"{percent(back.share)} of deals go back from {source} to {target} ({back.deals} of {reached} deals "
            f"that reached {source}, {back.moves} move{'s' if back.moves != 1 else ''}): find out what sends "
            f"them back",
            {"from": back.source, "to": back.target, "share": back.share, "deals": back.deals, "moves": back.moves,
             "reached": reached, "threshold": t.rework_share}))
    return findings


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
