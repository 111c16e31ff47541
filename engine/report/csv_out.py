"""The report as CSV in long format: one row a figure, `funnel,group,section,key,metric,value`.

The rows carry the same figures as the JSON report, flattened: nested names
joined with dots (`time_in_stage_seconds.median`). `group` is empty for the
whole stream, `manager=Иванова` for a group. Sections: summary, stage (key:
the stage id), trend (key: the period; `reached.STAGE`, `conversion_next.STAGE`),
side_stage (key: the stage id; `from.STAGE` and `ended.STAGE`
metrics), move_back (key `from->to`), lost_by_stage, lost_by_reason, stuck (key: the deal), flow
(key: `from->to`, `->to` for creations), diagnosis (key: the pattern) and, for a stream rebuilt
from a snapshot, caveat (key `snapshot`, metric `message`: the caveat's text).
A spreadsheet's pivot table or `pandas.pivot` turns it into any wide table.
"""
from __future__ import annotations

import csv
import io

from .json_out import report_json

COLUMNS = ("funnel", "group", "section", "key", "metric", "value")


def _flat(prefix: str, value, rows: list) -> None:
    if isinstance(value, dict):
        for name, inner in value.items():
            _flat(f"{prefix}.{name}" if prefix else name, inner, rows)
    else:
        rows.append((prefix, value))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _metric_rows(metrics: dict):
    summary = {k: v for k, v in metrics.items() if k not in ("stages", "side_stages", "stuck", "flows", "trend")}
    summary["lost"] = {k: v for k, v in metrics["lost"].items() if k not in ("by_stage", "by_reason")}
    summary["rework"] = {k: v for k, v in metrics["rework"].items() if k != "moves_back"}
    flat: list = []
    _flat("", summary, flat)
    for name, value in flat:
        yield "summary", "", name, value
    for section, stages in (("stage", metrics["stages"]), ("side_stage", metrics["side_stages"])):
        for stage in stages:
            flat = []
            _flat("", {k: v for k, v in stage.items() if k not in ("id", "from", "ended")}, flat)
            for name, value in flat:
                yield section, stage["id"], name, value
            for key in ("from", "ended"):
                for item in stage.get(key, ()):
                    yield section, stage["id"], f"{key}.{item['stage'] or ''}", item["count"]
    for item in metrics["rework"]["moves_back"]:
        for name in ("moves", "deals", "share"):
            yield "move_back", f"{item['from']}->{item['to']}", name, item[name]
    for item in metrics["lost"]["by_stage"]:
        yield "lost_by_stage", item["stage"] or "", "count", item["count"]
    for item in metrics["lost"]["by_reason"]:
        yield "lost_by_reason", item["reason"] or "", "count", item["count"]
    for item in metrics["stuck"]:
        for name in ("stage", "entered", "age_seconds", "sla_seconds"):
            yield "stuck", item["deal"], name, item[name]
    for item in metrics["flows"]:
        yield "flow", f"{item['from'] or ''}->{item['to']}", "count", item["count"]
    for point in metrics.get("trend", {}).get("points", ()):
        for name in ("won", "lost", "win_rate", "won_value", "cycle_won_median_seconds"):
            yield "trend", point["period"], name, point[name]
        for stage in point["stages"]:
            for name in ("reached", "conversion_next"):
                yield "trend", point["period"], f"{name}.{stage['stage']}", stage[name]


def render_csv(report) -> str:
    data = report_json(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for funnel in data["funnels"]:
        fid = funnel["id"]
        if data["snapshot"]:
            writer.writerow((fid, "", "caveat", "snapshot", "message", data["snapshot"]))
        for section, key, metric, value in _metric_rows(funnel["metrics"]):
            writer.writerow((fid, "", section, key, metric, _cell(value)))
        for group in funnel["groups"]:
            for section, key, metric, value in _metric_rows(group["metrics"]):
                writer.writerow((fid, group["label"], section, key, metric, _cell(value)))
        for finding in funnel["diagnosis"]:
            writer.writerow((fid, "", "diagnosis", finding["pattern"], "message", finding["message"]))
    return out.getvalue()
