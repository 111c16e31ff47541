"""The report as JSON: a stable, documented shape (docs/metrics.md "JSON report").

Times are ISO 8601 UTC; durations are seconds (keys end in `_seconds`);
shares are fractions 0..1 (not percents); a figure that cannot be computed
(no deals to divide by, no value field) is null.
"""
from __future__ import annotations

import json

from ..metrics import Distribution, FunnelMetrics, StageMetrics
from ..outcome import iso
from .model import FunnelReport, Report, compare, group_label

SCHEMA_VERSION = 2        # 2: figures follow the paths deals took (reached = entered), side stages, moves back


def distribution_json(d: Distribution) -> dict:
    return {"count": d.count, "mean": d.mean, "median": d.median, "p90": d.p90, "min": d.minimum,
            "p10": d.p10, "p25": d.p25, "p75": d.p75, "max": d.maximum}


def _stage_json(s: StageMetrics) -> dict:
    data = {"id": s.id, "title": s.title, "reached": s.reached, "entries": s.entries}
    if s.side:
        data.update({"from": [{"stage": stage, "count": n} for stage, n in s.came_from], "returned": s.returned,
                     "ended": [{"stage": stage, "count": n} for stage, n in s.ended]})
    else:
        data.update({"passed": s.passed, "conversion_next": s.conversion_next, "conversion_first": s.conversion_first,
                     "skipped": s.skipped})
    data.update({
        "lost_from": s.lost_from, "dropped": s.dropped, "losses": s.losses, "repeat_losses": s.repeat_losses,
        "open": s.open, "stuck": s.stuck, "sla_seconds": s.sla,
        "time_in_stage_seconds": distribution_json(s.time), "instant_stays": s.instant, "over_sla": s.over_sla,
        "open_stays_seconds": distribution_json(s.waiting),
        "pipeline": {"value": s.pipeline_value, "without_value": s.without_value, "probability": s.probability,
                     "forecast": s.forecast}})
    return data


def trend_json(trend) -> dict:
    return {"period": trend.period, "points": [
        {"period": p.period, "won": p.won, "lost": p.lost, "win_rate": p.win_rate, "won_value": p.won_value,
         "cycle_won_median_seconds": p.cycle_won_median,
         "stages": [{"stage": stage, "reached": n, "conversion_next": rate} for stage, n, rate in p.stages]}
        for p in trend.points]}


def metrics_json(m: FunnelMetrics) -> dict:
    data = {
        "deals": {"total": m.deals, "open": m.open, "won": m.won, "lost": m.lost, "reopened": m.reopened,
                  "never_open": m.never_open, "lost_again": m.lost_again, "skipped": m.skipped_deals},
        "win_rate": m.win_rate,
        "velocity_per_day": m.velocity,
        "won": {"count": m.won, "reached": m.won_reached, "conversion_first": m.won_to_first,
                "value_total": m.won_value_total, "value_mean": m.won_value_mean,
                "without_value": m.won_without_value, "cycle_seconds": distribution_json(m.cycle_won)},
        "lost": {"count": m.lost, "cycle_seconds": distribution_json(m.cycle_lost),
                 "without_reason": m.lost_without_reason,
                 "without_reason_share": m.lost_without_reason / m.lost if m.lost else None,
                 "by_stage": [{"stage": stage, "count": n} for stage, n in m.lost_by_stage],
                 "by_reason": [{"reason": reason, "count": n} for reason, n in m.lost_by_reason]},
        "stages": [_stage_json(s) for s in m.stages],
        "side_stages": [_stage_json(s) for s in m.side_stages],
        "rework": {"deals": m.rework, "rate": m.rework_rate,
                   "moves_back": [{"from": b.source, "to": b.target, "moves": b.moves, "deals": b.deals,
                                   "share": b.share} for b in m.moves_back]},
        "pipeline": {"value": m.pipeline_value, "forecast": m.forecast},
        "stuck": [{"deal": s.deal, "stage": s.stage, "entered": iso(s.entered), "age_seconds": s.age,
                   "sla_seconds": s.sla} for s in m.stuck],
        "flows": [{"from": f.source, "to": f.target, "count": f.count} for f in m.flows],
    }
    if m.trend is not None:
        data["trend"] = trend_json(m.trend)
    return data


def funnel_json(report: Report, funnel: FunnelReport) -> dict:
    shape = funnel.shape
    groups = []
    for group in funnel.groups:
        diff = compare(group.metrics, funnel.whole)
        groups.append({
            "key": dict(zip(report.by, group.key)),
            "label": group_label(report.by, group.key),
            "metrics": metrics_json(group.metrics),
            "vs_whole": {"win_rate": diff.win_rate, "conversion_first_won": diff.won_to_first,
                         "won_value_mean_ratio": diff.won_value_mean,
                         "cycle_won_median_seconds": diff.cycle_won_median,
                         "conversion_next": [{"stage": sid, "difference": d} for sid, d in diff.conversion_next]},
        })
    return {"id": shape.id, "title": shape.title, "currency": shape.currency, "value_field": shape.value_field,
            "stages": [s.to_json() for s in shape.stages], "metrics": metrics_json(funnel.whole),
            "groups": groups, "diagnosis": [f.to_json() for f in funnel.findings]}


def report_json(report: Report) -> dict:
    return {"schema_version": SCHEMA_VERSION, "kind": "funnel-report", "spec": report.spec,
            "as_of": iso(report.as_of), "timezone": report.zone, "snapshot": report.snapshot, "window": {"since": iso(report.window[0]), "until": iso(report.window[1])},
            "by": list(report.by), "thresholds": report.thresholds.to_json(),
            "replay": report.summary.to_json(), "funnels": [funnel_json(report, f) for f in report.funnels]}


def render_json(report: Report) -> str:
    return json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"
