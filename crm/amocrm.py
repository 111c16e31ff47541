"""amoCRM: pipelines from /api/v4/leads/pipelines (statuses 142 won, 143 lost), plans for the same API."""
from __future__ import annotations

from . import CrmError, CrmStage, Pipeline, field, items
from .plan import Plan, Request, checklist, percent

WON, LOST = "142", "143"
WON_TITLE, LOST_TITLE = "Успешно реализовано", "Закрыто и не реализовано"
AUTOMATION = "Digital Pipeline (Цифровая воронка)"


def read_pipelines(data, where: str) -> list[Pipeline]:
    """/api/v4/leads/pipelines (`_embedded.pipelines`), one pipeline of it, or {pipeline, statuses}."""
    if isinstance(data, dict) and "pipeline" in data and "statuses" in data:   # v2 answer, one pipeline
        raw = [{**data["pipeline"], "_embedded": {"statuses": data["statuses"]}}]
    elif isinstance(data, dict) and isinstance(data.get("_embedded"), dict) and "pipelines" in data["_embedded"]:
        raw = items(data, where, "_embedded", "pipelines")
    elif isinstance(data, dict) and "id" in data:
        raw = [data]
    else:
        raise CrmError(f"{where}: not an amoCRM pipeline export: expected the answer of GET /api/v4/leads/pipelines "
                       "(`_embedded.pipelines`)")
    out = []
    for pipeline in sorted(raw, key=lambda p: p.get("sort", 0)):
        statuses = sorted(items(pipeline, where, "_embedded", "statuses"), key=lambda s: s.get("sort", 0))
        stages = []
        for status in statuses:
            crm_id = str(field(status, "id", where))
            kind = {WON: "won", LOST: "lost"}.get(crm_id, "open")
            stages.append(CrmStage(crm_id, str(field(status, "name", where)), kind))
        out.append(Pipeline(str(field(pipeline, "id", where)), str(field(pipeline, "name", where)), tuple(stages)))
    return out


def plan(spec, funnel) -> Plan:
    """POST /api/v4/leads/pipelines with the open stages; 142/143 come with every pipeline."""
    opens = [s for s in funnel.stages if s.kind.value == "open"]
    statuses = [{"name": s.title, "sort": 10 * (i + 1), "color": "#99ccff"} for i, s in enumerate(opens)]
    body = [{"name": funnel.title, "sort": 10, "is_main": False, "is_unsorted_on": False,
             "_embedded": {"statuses": statuses}}]
    requests = [Request("POST", "/api/v4/leads/pipelines", body,
                        f"the pipeline «{funnel.title}» and its {len(opens)} open stages")]

    def extra(stage):
        if stage.kind.value == "won":
            yield f"system status 142 «{WON_TITLE}»: rename it «{stage.title}» in the pipeline settings"
        elif stage.kind.value == "lost":
            yield f"system status 143 «{LOST_TITLE}»: rename it «{stage.title}»; as a loss reason if several"
        elif stage.probability is not None:
            yield f"no probability per status in amoCRM: {percent(stage.probability)}% is kept in the spec only"
    return Plan("amoCRM", tuple(requests), tuple(checklist(spec, funnel, AUTOMATION, extra)))


def applied(plan: Plan, pipeline_id: int = 1) -> dict:
    """What GET /api/v4/leads/pipelines answers once `plan` is applied (ids given in order): for round trips."""
    pipelines = []
    for request in plan.requests:
        for n, pipeline in enumerate(request.body):
            statuses = [{**s, "id": 1000 * (pipeline_id + n) + i} for i, s in enumerate(pipeline["_embedded"]
                                                                                       ["statuses"], 1)]
            statuses += [{"id": 142, "name": WON_TITLE, "sort": 10000}, {"id": 143, "name": LOST_TITLE, "sort": 11000}]
            pipelines.append({"id": pipeline_id + n, "name": pipeline["name"], "sort": pipeline["sort"],
                              "_embedded": {"statuses": statuses}})
    return {"_embedded": {"pipelines": pipelines}}


def read_history(data, where: str) -> list:
    """GET /api/v4/events?filter[type]=lead_status_changed: each lead's status before and after, per event."""
    from .history import Change, iso

    out = []
    for n, event in enumerate(items(data, where, "_embedded", "events")):
        at = f"{where}: _embedded.events[{n}]"
        if event.get("type") != "lead_status_changed":
            continue
        deal, ts = str(field(event, "entity_id", at)), iso(field(event, "created_at", at), at)
        for key, moment in (("value_before", ts), ("value_after", ts)):
            for value in event.get(key) or []:
                status = (value or {}).get("lead_status") or {}
                if "id" in status:
                    pipeline = status.get("pipeline_id")
                    # the status before is where the deal was; it counts only if nothing earlier said so
                    out.append(Change(deal, moment, str(status["id"]), f"{at}.{key}",
                                      None if pipeline is None else str(pipeline)))
    return out
