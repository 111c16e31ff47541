"""CRM pipelines as `.funnel` text and as the mapping back from the CRM's ids (serve/mapping.py's format)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from . import Pipeline
from .ids import unique_ids

SECRET_KEYS = {"amocrm": ('secret-env = "AMOCRM_SECRET"',), "hubspot": ('client-secret-env = "HUBSPOT_SECRET"',),
               "pipedrive": ('user-env = "PIPEDRIVE_USER"', 'password-env = "PIPEDRIVE_PASSWORD"'),
               "bitrix24": ('application-token-env = "BITRIX24_TOKEN"', 'url-env = "BITRIX24_URL"')}


@dataclass(frozen=True)
class Imported:
    """What `funnel import` writes: the spec's text and the mapping's text."""

    spec: str
    mapping: str


def quote(text: str) -> str:
    """A DSL or TOML string: JSON's escapes are a subset both read."""
    return json.dumps(text, ensure_ascii=False)


def pipelines_to_spec(crm: str, pipelines: list[Pipeline], name: str) -> Imported:
    """One funnel per pipeline (ids from titles), and the mapping from the CRM's ids to them."""
    funnel_ids = unique_ids([p.title for p in pipelines], fallback="pipeline")
    blocks, stage_map, pipeline_map = [], {}, {}
    for pipeline, funnel_id in zip(pipelines, funnel_ids):
        ids = unique_ids([s.title for s in pipeline.stages])
        blocks.append(_funnel(crm, pipeline, funnel_id, ids))
        pipeline_map[pipeline.crm_id] = funnel_id
        for stage, stage_id in zip(pipeline.stages, ids):
            key = f"{pipeline.crm_id}/{stage.crm_id}" if len(pipelines) > 1 or stage.crm_id in stage_map else \
                stage.crm_id
            stage_map[key] = stage_id
    header = f"# Imported from {_label(crm)} by `funnel import {crm}`; {name} maps the CRM's ids to these stages.\n"
    lines = [f"# The {_label(crm)} mapping of this spec's stages, written by `funnel import {crm}`.",
             "# `funnel convert` and `funnel serve --mapping` read it (docs/crm.md, docs/serve.md).",
             f"[{crm}]", *SECRET_KEYS[crm]]
    if len(pipelines) > 1:
        lines.append(f"pipelines = {_table(pipeline_map)}")
    else:
        lines.append(f"funnel = {quote(funnel_ids[0])}")
    lines.append(f"stages = {_table(stage_map)}")
    return Imported(header + "\n".join(blocks), "\n".join(lines) + "\n")


def _funnel(crm: str, pipeline: Pipeline, funnel_id: str, ids: list[str]) -> str:
    lines = [f"funnel {funnel_id} {quote(pipeline.title)} {{"]
    opens = [i for s, i in zip(pipeline.stages, ids) if s.kind == "open"]
    first = True
    for stage, stage_id in zip(pipeline.stages, ids):
        items = []
        if stage.kind == "open" and first:
            items.append("start")
            first = False
        if stage.kind != "open":
            items.append(stage.kind)
        elif stage.probability is not None:
            items.append(f"probability {_percent(stage.probability)}")
        body = f" {'  '.join(items)} " if items else " "
        lines.append(f"  stage {stage_id} {quote(stage.title)} {{{body}}}")
    lines.append("")
    # The CRM lets a deal move anywhere; the spec keeps the order the CRM shows (docs/crm.md).
    lines += [f"  {a} -> {b}" for a, b in zip(opens, opens[1:])]
    for stage, stage_id in zip(pipeline.stages, ids):
        if stage.kind == "won" and opens:
            lines.append(f"  {opens[-1]} -> {stage_id}")
        elif stage.kind == "lost":
            lines.append(f"  any -> {stage_id}")
    lines.append("}\n")
    return "\n".join(lines)


def _percent(probability: float) -> str:
    value = round(probability * 100, 6)
    return f"{int(value) if value == int(value) else value}%"


def _table(mapping: dict) -> str:
    return "{ " + ", ".join(f"{quote(k)} = {quote(v)}" for k, v in mapping.items()) + " }"


def _label(crm: str) -> str:
    from ..serve.mapping import NAMES

    return NAMES[crm]


def import_export(crm: str, path: str, mapping_name: str) -> Imported:
    """The spec and mapping of a CRM's pipeline export file; CrmError (file named) when it cannot be read."""
    from . import CrmError, module, read_json

    pipelines = module(crm).read_pipelines(read_json(path), path)
    if not pipelines or not any(p.stages for p in pipelines):
        raise CrmError(f"{path}: no pipeline with stages in this export")
    return pipelines_to_spec(crm, [p for p in pipelines if p.stages], mapping_name)
