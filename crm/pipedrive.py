"""Pipedrive: pipelines and stages (/v1/pipelines, /v1/stages, deal_probability); won and lost are deal statuses."""
from __future__ import annotations

from . import CrmError, CrmStage, Pipeline, field, items
from .plan import Plan, Request, checklist, percent

AUTOMATION = "Workflow automation"


def read_pipelines(data, where: str) -> list[Pipeline]:
    """{"pipelines": GET /v1/pipelines, "stages": GET /v1/stages}, or the stages' answer alone (`data`)."""
    if isinstance(data, dict) and "stages" in data:
        stages, pipelines = items(data["stages"], where, "data"), items(data.get("pipelines", {"data": []}), where,
                                                                        "data")
    elif isinstance(data, dict) and "data" in data:
        stages, pipelines = items(data, where, "data"), []
    else:
        raise CrmError(f"{where}: not a Pipedrive export: expected the answer of GET /v1/stages (`data`)")
    names = {str(p.get("id")): p.get("name") for p in pipelines}
    groups: dict[str, list] = {}
    for stage in stages:
        groups.setdefault(str(field(stage, "pipeline_id", where)), []).append(stage)
        names.setdefault(str(stage["pipeline_id"]), stage.get("pipeline_name"))
    out = []
    for pipeline_id, rows in groups.items():
        stages_out = []
        for row in sorted(rows, key=lambda r: r.get("order_nr") or 0):
            probability = row.get("deal_probability")
            stages_out.append(CrmStage(str(field(row, "id", where)), str(field(row, "name", where)), "open",
                                       None if probability is None else probability / 100))
        # won and lost are the deal's status, not stages: a stage of each for the spec, mapped from the status
        stages_out += [CrmStage("won", "Won", "won"), CrmStage("lost", "Lost", "lost")]
        out.append(Pipeline(pipeline_id, str(names.get(pipeline_id) or f"Pipeline {pipeline_id}"), tuple(stages_out)))
    return out


def plan(spec, funnel) -> Plan:
    """POST /v1/pipelines, then POST /v1/stages per open stage (the sla as rotten days)."""
    requests = [Request("POST", "/v1/pipelines", {"name": funnel.title, "deal_probability": True, "active": True},
                        f"the pipeline «{funnel.title}»; its id is {{pipeline_id}} below")]
    for n, stage in enumerate([s for s in funnel.stages if s.kind.value == "open"], 1):
        body = {"name": stage.title, "pipeline_id": "{pipeline_id}", "order_nr": n}
        if stage.probability is not None:
            body["deal_probability"] = percent(stage.probability)
        if stage.sla:
            body |= {"rotten_flag": True, "rotten_days": max(1, stage.sla // 86400)}
        requests.append(Request("POST", "/v1/stages", body, f"stage «{stage.title}»"))

    def extra(stage):
        if stage.kind.value != "open":
            yield f"a deal status in Pipedrive, not a stage: mark the deal {stage.kind.value}"
    return Plan("Pipedrive", tuple(requests), tuple(checklist(spec, funnel, AUTOMATION, extra)))


def applied(plan: Plan, pipeline_id: int = 3) -> dict:
    """What GET /v1/pipelines and GET /v1/stages answer once `plan` is applied: for round trips."""
    name = plan.requests[0].body["name"]
    stages = [{**r.body, "id": 100 + n, "pipeline_id": pipeline_id, "pipeline_name": name}
              for n, r in enumerate(plan.requests[1:])]
    return {"pipelines": {"data": [{"id": pipeline_id, "name": name}]}, "stages": {"data": stages}}


def read_history(data, where: str) -> list:
    """GET /v1/deals/{id}/flow (one answer, or a list of them): `stage_id` and `status` (won/lost) changes."""
    from .history import Change, iso

    answers = data if isinstance(data, list) else [data]
    out = []
    for k, answer in enumerate(answers):
        for n, entry in enumerate(items(answer, where, "data")):
            at = f"{where}: [{k}].data[{n}]" if isinstance(data, list) else f"{where}: data[{n}]"
            change = entry.get("data") or {}
            if entry.get("object") != "dealChange" or change.get("field_key") not in ("stage_id", "status"):
                continue
            deal = str(field(change, "item_id", at))
            ts = iso(change.get("log_time") or field(entry, "timestamp", at), at)
            new = str(field(change, "new_value", at))
            if change["field_key"] == "status" and new not in ("won", "lost"):
                continue            # reopened: the deal is back in its stage, which the flow names next
            if change["field_key"] == "stage_id" and change.get("old_value") not in (None, ""):
                out.append(Change(deal, ts, str(change["old_value"]), at))
            out.append(Change(deal, ts, new, at))
    return out
