"""The CRMs' own shapes: pipelines in (`funnel import`), histories in (`funnel convert`),
plans out (`funnel export --to`).

One module per CRM reads its pipeline export and writes the API requests
that create the pipeline; funnel.py and mapping.py turn the pipelines into a
`.funnel` file and the `[amocrm]`-style mapping `funnel serve` and
`funnel convert` read (serve/mapping.py). Nothing in dsl/ or engine/
imports this package: it only produces text they read.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass

CRMS = ("amocrm", "bitrix24", "hubspot", "pipedrive")


class CrmError(ValueError):
    """An export this package cannot read; the message names the file and the part at fault."""


@dataclass(frozen=True)
class CrmStage:
    """One stage as the CRM has it: its id there, title, kind (open/won/lost) and probability (0..1)."""

    crm_id: str
    title: str
    kind: str = "open"
    probability: float | None = None


@dataclass(frozen=True)
class Pipeline:
    """One CRM pipeline, its stages in the CRM's order."""

    crm_id: str
    title: str
    stages: tuple[CrmStage, ...]


def module(crm: str):
    """The module that knows `crm` (amocrm, bitrix24, hubspot, pipedrive)."""
    if crm not in CRMS:
        raise CrmError(f"unknown CRM `{crm}`; the CRMs are {', '.join(CRMS)}")
    return importlib.import_module(f"{__name__}.{crm}")


def items(data, where: str, *keys: str) -> list:
    """The list at data[keys[0]][keys[1]]..., or a CrmError naming the path that is missing."""
    value = data
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise CrmError(f"{where}: no `{'.'.join(keys)}` here: is this the right export?")
        value = value[key]
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise CrmError(f"{where}: `{'.'.join(keys)}` must be a list of objects")
    return value


def field(entry: dict, key: str, where: str):
    """entry[key], or a CrmError naming the object that lacks it."""
    if key not in entry or entry[key] in (None, ""):
        raise CrmError(f"{where}: an entry has no `{key}`: {str(entry)[:80]}")
    return entry[key]


def read_json(path: str):
    """A CRM's JSON file; CrmError naming its line and column when it is not JSON."""
    with open(path, encoding="utf-8") as handle:
        try:
            return json.load(handle)
        except json.JSONDecodeError as err:
            raise CrmError(f"{path}:{err.lineno}:{err.colno}: not valid JSON: {err.msg}") from None
