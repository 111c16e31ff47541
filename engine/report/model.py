"""What every report format shows: per funnel the metrics, the groups set against the whole, the diagnosis."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from ...lang import _, ngettext
from ..diagnosis import Finding, Thresholds, diagnose
from ..metrics import FunnelMetrics, FunnelResult, GroupMetrics, compute_metrics
from ..outcome import DealOutcome
from ..shape import FunnelShape
from . import units


@dataclass(frozen=True)
class ReplaySummary:
    """The replay's own counts, shown above the metrics (all zero when a saved result does not carry them)."""

    lines: int = 0
    applied: int = 0
    rejected: int = 0
    actions: int = 0
    violations: int = 0
    problems: int = 0

    def to_json(self) -> dict:
        return {"lines": self.lines, "applied": self.applied, "rejected": self.rejected, "actions": self.actions,
                "violations": self.violations, "problems": self.problems}


@dataclass(frozen=True)
class FunnelReport:
    shape: FunnelShape
    whole: FunnelMetrics
    groups: tuple[GroupMetrics, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class Report:
    spec: str
    as_of: float
    by: tuple[str, ...]
    thresholds: Thresholds
    funnels: tuple[FunnelReport, ...]
    summary: ReplaySummary = field(default_factory=ReplaySummary)
    window: tuple[float | None, float | None] = (None, None)   # deals created in [since, until] only
    zone: str | None = None          # IANA zone times are shown and periods cut in (--tz, or the spec's); None: UTC
    snapshot: str | None = None      # the stream was rebuilt from a snapshot of current stages: this caveat
    language: str | None = None      # the first funnel's `language`: text and HTML are worded in it without --lang

    @property
    def snapshot_text(self) -> str | None:
        return _("Built from a snapshot: {caveat}.").format(caveat=self.snapshot) if self.snapshot else None

    @property
    def window_text(self) -> str | None:
        since, until = self.window
        if since is None and until is None:
            return None
        return _("deals created {since} – {until}").format(
            since=units.date(since, self.zone) if since is not None else "…",
            until=units.date(until, self.zone) if until is not None else "…")


def build_report(outcomes: list[DealOutcome], shapes: list[FunnelShape], until: float | None,
                 by: tuple[str, ...] = (), thresholds: Thresholds | None = None, spec: str = "",
                 summary: ReplaySummary | None = None,
                 window: tuple[float | None, float | None] = (None, None), trend: str | None = None,
                 zone: str | None = None, snapshot: str | None = None) -> Report:
    """Metrics, groups and diagnosis of every funnel, of the deals created in `window` (since, until; either
    None: open). `zone` (an IANA name, `--tz`) overrides each funnel's `timezone` for cohorts, trends and times
    shown; `snapshot` is the caveat of a stream rebuilt from a snapshot. ValueError names an unknown funnel, stage or field, or a window that ends before it starts."""
    thresholds = thresholds or Thresholds()
    if zone is not None:
        shapes = [replace(s, timezone=zone) for s in shapes]
    since, until_created = window
    if since is not None and until_created is not None and until_created < since:
        raise ValueError("the window ends (--until) before it starts (--since)")
    if since is not None or until_created is not None:
        low = -math.inf if since is None else since
        high = math.inf if until_created is None else until_created
        outcomes = [o for o in outcomes if low <= o.created <= high]
    results: list[FunnelResult] = compute_metrics(outcomes, shapes, until, by, trend)
    funnels = tuple(FunnelReport(r.shape, r.whole, r.groups, tuple(diagnose(r.whole, thresholds)))
                    for r in results)
    as_of = results[0].whole.as_of if results else (until or 0.0)
    shown_zone = zone or next((s.timezone for s in shapes if s.timezone), None)
    language = next((s.language for s in shapes if s.language), None)
    return Report(spec, as_of, tuple(by), thresholds, funnels, summary or ReplaySummary(), window, shown_zone,
                  snapshot, language)


def group_label(by: tuple[str, ...], key: tuple) -> str:
    """`manager=Иванова, region=(none)`: a group's name for people."""
    return ", ".join(f"{name}={value_text(value)}" for name, value in zip(by, key))


def value_text(value) -> str:
    if value is None:
        return _("(none)")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Comparison:
    """A group set against the whole: differences of shares (group - whole), the value as a ratio."""

    win_rate: float | None
    won_to_first: float | None
    won_value_mean: float | None       # group's average won value / the whole's
    cycle_won_median: float | None     # seconds, group - whole
    conversion_next: tuple[tuple[str, float | None], ...]


def _minus(a, b):
    return None if a is None or b is None else a - b


def compare(group: FunnelMetrics, whole: FunnelMetrics) -> Comparison:
    value_ratio = (group.won_value_mean / whole.won_value_mean
                   if group.won_value_mean is not None and whole.won_value_mean else None)
    return Comparison(
        win_rate=_minus(group.win_rate, whole.win_rate),
        won_to_first=_minus(group.won_to_first, whole.won_to_first),
        won_value_mean=value_ratio,
        cycle_won_median=_minus(group.cycle_won.median, whole.cycle_won.median),
        conversion_next=tuple((g.id, _minus(g.conversion_next, w.conversion_next))
                              for g, w in zip(group.stages, whole.stages)))


def has_paths(m: FunnelMetrics) -> bool:
    """Whether deals left the straight way down the path: side stages, moves back, skips, repeated losses."""
    return bool(m.side_stages or m.moves_back or m.skipped_deals or m.lost_again)


def _shares(shape, pairs) -> str:
    created = _("(created there)")
    return ", ".join(f"{shape.title_of(stage) if stage else created} ({units.count(n)})"
                     for stage, n in pairs)


def path_lines(shape, m: FunnelMetrics) -> list[str]:
    """The paths' headline figures as sentences (the text and HTML reports share them)."""
    of = m.deals - m.never_open
    lines = [ngettext("Rework: {count} of {of} deal ({share}) moved back at least once (up the path or into a side "
                      "stage).",
                      "Rework: {count} of {of} deals ({share}) moved back at least once (up the path or into a side "
                      "stage).", of).format(count=units.count(m.rework), of=units.count(of),
                                             share=units.percent(m.rework_rate))]
    skipped = [(s.id, s.skipped) for s in m.stages if s.skipped]
    if skipped:
        lines.append(ngettext("Skipped by hand: {count} deal jumped over a stage they never entered: {stages}.",
                              "Skipped by hand: {count} deals jumped over a stage they never entered: {stages}.",
                              m.skipped_deals).format(count=units.count(m.skipped_deals),
                                                      stages=_shares(shape, skipped)))
    repeat = [(s.id, s.repeat_losses) for s in m.stages + m.side_stages if s.repeat_losses]
    if m.lost_again:
        lines.append(ngettext("Lost again: {count} deal lost more than once (reopened, then lost); repeat losses "
                              "from {stages}.",
                              "Lost again: {count} deals lost more than once (reopened, then lost); repeat losses "
                              "from {stages}.", m.lost_again).format(count=units.count(m.lost_again),
                                                                     stages=_shares(shape, repeat)))
    return lines


def side_lines(shape, m: FunnelMetrics) -> list[str]:
    return [_("{stage}: came from {sources}; at the end in {ends}.").format(
        stage=s.title, sources=_shares(shape, s.came_from) or _("nowhere"), ends=_shares(shape, s.ended) or _("nothing"))
        for s in m.side_stages]


def instant_lines(m: FunnelMetrics) -> list[str]:
    """Why a median may read 0 min: the stays an automatic move ended the moment they began, per stage."""
    stages = [_("{stage} {count} of {stays}").format(stage=s.title, count=units.count(s.instant),
                                                    stays=units.count(s.time.count))
              for s in m.stages + m.side_stages if s.instant]
    if not stages:
        return []
    return [_("Stays of 0 min, ended by an automatic criterion or rule the moment the deal entered (they pull "
              "the median and mean down): {stages}.").format(stages=", ".join(stages))]


def no_reason_line(m: FunnelMetrics) -> str | None:
    """Losses without a reason, flagged with their share (a reason tells why deals are lost; none tells nothing)."""
    n = m.lost_without_reason
    if not n:
        return None
    return ngettext("{count} of {lost} lost deal ({share}) has no reason: give one with `because` in the spec, or "
                    "a `reason` on the move",
                    "{count} of {lost} lost deals ({share}) have no reason: give one with `because` in the spec, or "
                    "a `reason` on the move", m.lost).format(count=units.count(n), lost=units.count(m.lost),
                                                             share=units.percent(n / m.lost))
