"""HubSpot: deal pipelines from /crm/v3/pipelines/deals (metadata.isClosed, probability), plans for it."""
from __future__ import annotations

from . import CrmError, CrmStage, Pipeline, field, items
from .plan import Plan, Request, checklist

AUTOMATION = "Workflows"
WON_IDS, LOST_IDS = ("closedwon",), ("closedlost",)


def read_pipelines(data, where: str) -> list[Pipeline]:
    """GET /crm/v3/pipelines/deals (`results`), one pipeline of it, or the v1 {stages: [{stageId, label}]}."""
    if isinstance(data, dict) and "results" in data:
        raw = items(data, where, "results")
    elif isinstance(data, dict) and "stages" in data:
        raw = [{"id": data.get("id", data.get("pipelineId", "default")), "label": data.get("label", "Sales Pipeline"),
                **data}]
    else:
        raise CrmError(f"{where}: not a HubSpot pipeline export: expected the answer of GET /crm/v3/pipelines/deals "
                       "(`results`)")
    out = []
    for pipeline in sorted(raw, key=lambda p: p.get("displayOrder", 0)):
        stages = []
        for n, stage in enumerate(items(pipeline, where, "stages")):
            crm_id = str(stage.get("id", stage.get("stageId")) or field(stage, "id", where))
            meta = stage.get("metadata") or {}
            raw_probability = meta.get("probability", stage.get("probability"))
            probability = float(raw_probability) if raw_probability not in (None, "") else None
            closed = str(meta.get("isClosed", stage.get("closedWon") is not None)).lower() == "true"
            kind = ("won" if crm_id in WON_IDS or closed and probability == 1.0 else
                    "lost" if crm_id in LOST_IDS or closed and probability == 0.0 else "open")
            stages.append((stage.get("displayOrder", n), CrmStage(
                crm_id, str(field(stage, "label", where)), kind, probability if kind == "open" else None)))
        stages.sort(key=lambda pair: pair[0])
        out.append(Pipeline(str(field(pipeline, "id", where)), str(field(pipeline, "label", where)),
                            tuple(s for _, s in stages)))
    return out


def plan(spec, funnel) -> Plan:
    """POST /crm/v3/pipelines/deals with every stage: closed ones at probability 1.0 (won) or 0.0 (lost)."""
    stages = []
    for n, stage in enumerate(funnel.stages):
        kind = stage.kind.value
        probability = {"won": 1.0, "lost": 0.0}.get(kind, stage.probability)
        metadata = {"isClosed": "true" if kind != "open" else "false"}
        if probability is not None:
            metadata["probability"] = str(probability)
        stages.append({"label": stage.title, "displayOrder": n, "metadata": metadata})
    body = {"label": funnel.title, "displayOrder": 0, "stages": stages}
    requests = (Request("POST", "/crm/v3/pipelines/deals", body, f"the deal pipeline «{funnel.title}»"),)

    def extra(stage):
        if stage.kind.value == "open" and stage.probability is None:
            yield "HubSpot asks a win probability for every open deal stage: set it (the spec has none)"
    return Plan("HubSpot", requests, tuple(checklist(spec, funnel, AUTOMATION, extra)))


def applied(plan: Plan) -> dict:
    """What GET /crm/v3/pipelines/deals answers once `plan` is applied: for round trips."""
    body = plan.requests[0].body
    stages = [{**s, "id": f"{1000 + n}"} for n, s in enumerate(body["stages"])]
    return {"results": [{"id": "1", "label": body["label"], "displayOrder": 0, "stages": stages}]}


def read_history(data, where: str) -> list:
    """Deals read with `propertiesWithHistory=dealstage` (`results`, or one deal): every dealstage value and time."""
    from .history import Change, iso

    deals = items(data, where, "results") if isinstance(data, dict) and "results" in data else [data]
    out = []
    for n, deal in enumerate(deals):
        at = f"{where}: results[{n}]"
        history = items(deal, at, "propertiesWithHistory", "dealstage")
        pipeline = (deal.get("properties") or {}).get("pipeline")
        for m, value in enumerate(history):
            spot = f"{at}.propertiesWithHistory.dealstage[{m}]"
            out.append(Change(str(field(deal, "id", at)), iso(field(value, "timestamp", spot), spot),
                              str(field(value, "value", spot)), spot, pipeline))
    return out
