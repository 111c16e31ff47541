"""Bitrix24: deal funnels from crm.category.list + crm.status.list (SEMANTICS S won, F lost), plans for the REST API."""
from __future__ import annotations

from . import CrmError, CrmStage, Pipeline, field
from .ids import slug
from .plan import Plan, Request, checklist, percent

AUTOMATION = "Роботы и триггеры (automation rules)"


def read_pipelines(data, where: str) -> list[Pipeline]:
    """{"crm.category.list": ..., "crm.status.list": ...}, or crm.status.list's answer alone (`result`)."""
    if isinstance(data, dict) and "crm.status.list" in data:
        categories = _result(data.get("crm.category.list", {"result": {"categories": []}}), where)
        statuses = _result(data["crm.status.list"], where)
    elif isinstance(data, dict) and isinstance(data.get("result"), list):
        categories, statuses = {"categories": []}, data["result"]
    else:
        raise CrmError(f"{where}: not a Bitrix24 export: expected {{\"crm.category.list\": ..., \"crm.status.list\": "
                       "...}} or the answer of crm.status.list (`result`)")
    names = {str(c.get("id")): c.get("name") for c in (categories.get("categories", [])
                                                         if isinstance(categories, dict) else [])}
    groups: dict[str, list] = {}
    for status in statuses:
        entity = str(field(status, "ENTITY_ID", where))
        if entity == "DEAL_STAGE" or entity.startswith("DEAL_STAGE_"):
            groups.setdefault(entity.removeprefix("DEAL_STAGE").lstrip("_") or "0", []).append(status)
    if not groups:
        raise CrmError(f"{where}: no deal stages (ENTITY_ID DEAL_STAGE...) in crm.status.list")
    out = []
    for category, rows in groups.items():
        stages = []
        for row in sorted(rows, key=lambda r: int(r.get("SORT") or 0)):
            semantics = row.get("SEMANTICS") or (row.get("EXTRA") or {}).get("SEMANTICS")
            kind = {"S": "won", "success": "won", "F": "lost", "failure": "lost"}.get(semantics or "", "open")
            stages.append(CrmStage(str(field(row, "STATUS_ID", where)), str(field(row, "NAME", where)), kind))
        title = names.get(category) or ("Общая" if category == "0" else f"Воронка {category}")
        out.append(Pipeline(category, str(title), tuple(stages)))
    return out


def plan(spec, funnel) -> Plan:
    """crm.category.add, then crm.status.add per stage in the new category's DEAL_STAGE_{id}."""
    requests = [Request("POST", "/rest/crm.category.add.json",
                        {"entityTypeId": 2, "fields": {"name": funnel.title, "sort": 500}},
                        f"the deal funnel «{funnel.title}»; its id is {{category_id}} below")]
    for n, stage in enumerate(funnel.stages, 1):
        semantics = {"won": "S", "lost": "F"}.get(stage.kind.value)
        fields = {"ENTITY_ID": "DEAL_STAGE_{category_id}", "STATUS_ID": "C{category_id}:" + slug(stage.id).upper(),
                  "NAME": stage.title, "SORT": 10 * n}
        if semantics:
            fields["SEMANTICS"] = semantics
        requests.append(Request("POST", "/rest/crm.status.add.json", {"fields": fields}, f"stage «{stage.title}»"))

    def extra(stage):
        if stage.probability is not None:
            yield f"no probability per stage in Bitrix24: {percent(stage.probability)}% is kept in the spec only"
    return Plan("Bitrix24", tuple(requests), tuple(checklist(spec, funnel, AUTOMATION, extra)))


def applied(plan: Plan, category_id: int = 7) -> dict:
    """What crm.category.list and crm.status.list answer once `plan` is applied: for round trips."""
    name = plan.requests[0].body["fields"]["name"]
    statuses = []
    for request in plan.requests[1:]:
        fields = {k: v.replace("{category_id}", str(category_id)) if isinstance(v, str) else v
                  for k, v in request.body["fields"].items()}
        statuses.append({"CATEGORY_ID": str(category_id), **fields})
    return {"crm.category.list": {"result": {"categories": [{"id": category_id, "name": name}]}},
            "crm.status.list": {"result": statuses}}


def _result(answer, where: str):
    if not isinstance(answer, dict) or "result" not in answer:
        raise CrmError(f"{where}: a Bitrix24 answer has no `result`")
    return answer["result"]


def read_history(data, where: str) -> list:
    """crm.stagehistory.list (entityTypeId 2): OWNER_ID in STAGE_ID from CREATED_TIME, per row."""
    from . import items
    from .history import Change, iso

    rows = items(data, where, "result", "items")
    out = []
    for n, row in enumerate(rows):
        at = f"{where}: result.items[{n}]"
        out.append(Change(str(field(row, "OWNER_ID", at)), iso(field(row, "CREATED_TIME", at), at),
                          str(field(row, "STAGE_ID", at)), at, str(row.get("CATEGORY_ID", "0"))))
    return out
