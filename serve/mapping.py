"""Which CRM stage and field is which spec stage and field: the `[tool.funnel.crm]` table, read once.

```toml
[tool.funnel.crm.amocrm]
funnel = "security"                        # default: the spec's routing chooses
secret-env = "AMOCRM_SECRET"               # the secret is read from this environment variable
stages = { "19283710" = "new", "9217056/20067736" = "meeting" }   # "PIPELINE/STAGE" beats "STAGE"
fields = { price = "budget", "66339" = "source" }                 # CRM field (or custom field id) -> spec field
pipelines = { "9217056" = "security" }     # optional: only these pipelines, each to a funnel
```

Secrets are never written in the file, only the names of the environment
variables that hold them. The same tables may live in a mapping file of
their own (`--mapping crm.toml`, top-level `[amocrm]`, `[hubspot]`, ...).
Every mapped stage and field is checked against the spec when the server
starts: a mistake stops it with the file, the key and the closest name.
Each CRM's won and lost system stages (amoCRM 142/143, HubSpot
closedwon/closedlost, Bitrix24 WON/LOSE, Pipedrive's won/lost status) go to
the funnel's won and lost stage unless mapped otherwise.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field

from ..dsl.model import Spec, StageKind
from ..dsl.spelling import closest
from ..dsl.types import NUMERIC, TIMES
from .hooks import CRMS
from .hooks.delivery import Refused

NAMES = {"amocrm": "amoCRM", "hubspot": "HubSpot", "pipedrive": "Pipedrive", "bitrix24": "Bitrix24"}
SECRETS = {"amocrm": ("secret",), "hubspot": ("client-secret",), "pipedrive": ("user", "password"),
           "bitrix24": ("application-token",)}
SYSTEM = {"amocrm": {"142": "won", "143": "lost"}, "hubspot": {"closedwon": "won", "closedlost": "lost"},
          "bitrix24": {"WON": "won", "LOSE": "lost"}, "pipedrive": {"won": "won", "lost": "lost"}}
COMMON_KEYS = ("funnel", "stages", "fields", "pipelines")
EXTRA_KEYS = {"hubspot": ("url",), "bitrix24": ("url", "url-env")}
TRUE = frozenset(("true", "y", "yes", "1", "on"))
FALSE = frozenset(("false", "n", "no", "0", "off"))


class MappingError(ValueError):
    """The mapping cannot be used; the message names the file, the key and what is wrong."""


@dataclass(frozen=True)
class CrmMapping:
    """One CRM's mapping, checked against the spec; secrets resolved (and kept out of repr)."""

    crm: str
    funnel: str | None                # None: the spec routes each new deal
    stages: dict                      # "STAGE" or "PIPELINE/STAGE" -> spec stage id
    fields: dict                      # CRM field -> spec field
    pipelines: dict                   # CRM pipeline -> spec funnel; empty: every pipeline to `funnel`
    spec_stages: frozenset            # stage ids a mapped stage may name
    field_kinds: dict                 # spec field -> its type's kind
    url: str | None = None
    secrets: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return NAMES[self.crm]

    def accepts(self, pipeline) -> bool:
        """False for a pipeline the mapping does not list (when it lists any): its deals are not this spec's."""
        return not self.pipelines or pipeline is None or str(pipeline) in self.pipelines

    def funnel_of(self, pipeline=None) -> str | None:
        """The spec funnel a CRM pipeline feeds; None lets the spec's routing choose."""
        return self.pipelines.get(str(pipeline), self.funnel) if pipeline is not None else self.funnel

    def stage(self, crm_stage, pipeline=None) -> str:
        """The spec stage of a CRM stage id; refuses (422) an unknown one with its value and the closest stage."""
        key = str(crm_stage)
        for candidate in ((f"{pipeline}/{key}",) if pipeline is not None else ()) + (key,):
            if candidate in self.stages:
                return self.stages[candidate]
        if key in self.spec_stages:
            return key
        where = f" (pipeline {pipeline})" if pipeline is not None else ""
        near = closest(key, list(self.stages) + sorted(self.spec_stages))
        hint = f'; did you mean "{near}"?' if near else \
            f"; the spec's stages are {', '.join(sorted(self.spec_stages))}"
        raise Refused(422, f'{self.name}: unknown stage "{key}"{where}: map it in [tool.funnel.crm.{self.crm}] '
                           f"stages{hint}")

    def stage_or_none(self, crm_stage, pipeline=None) -> str | None:
        """The spec stage of a CRM stage id, None when unknown (for where a deal stood before, never refused)."""
        try:
            return self.stage(crm_stage, pipeline) if crm_stage not in (None, "") else None
        except Refused:
            return None

    def fields_of(self, values: dict) -> dict:
        """The mapped fields among a CRM's field values, as the spec's types want them (text to numbers...)."""
        out = {}
        for crm_field, spec_field in self.fields.items():
            if crm_field in values:
                out[spec_field] = coerce(self.field_kinds.get(spec_field), values[crm_field])
        return out


def coerce(kind: str | None, value):
    """A CRM's text value in the JSON form the spec's field type reads: forms and most CRMs send only text."""
    if kind in ("text", "enum") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)                      # ids (owners, users) arrive as numbers, a text field wants text
    if not isinstance(value, str):
        return value
    text = value.strip()
    if kind in NUMERIC or kind in TIMES and re.fullmatch(r"\d+(\.\d+)?", text):
        if text == "":
            return None
        try:
            number = float(text.replace(" ", "").replace(",", "."))
        except ValueError:
            return value
        return int(number) if number.is_integer() and kind != "percent" else number
    if kind == "bool" and text.lower() in TRUE | FALSE:
        return text.lower() in TRUE
    return value


# reading ----------------------------------------------------------------------------

def read_mappings(spec: Spec, path: str, environ=os.environ) -> dict[str, CrmMapping]:
    """Every CRM mapped in `path` (a pyproject.toml with [tool.funnel.crm], or a mapping file), checked."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as err:
        raise MappingError(f"{path}: cannot read the mapping: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise MappingError(f"{path}: not valid TOML: {err}") from None
    is_pyproject = os.path.basename(path) == "pyproject.toml"
    table = data.get("tool", {}).get("funnel", {}).get("crm") if is_pyproject else data
    prefix = "tool.funnel.crm." if is_pyproject else ""
    if not isinstance(table, dict) or not table:
        raise MappingError(f"{path}: no [{prefix or 'tool.funnel.crm.'}amocrm|hubspot|pipedrive|bitrix24] table: "
                           "map at least one CRM (docs/serve.md)")
    out = {}
    for crm, raw in table.items():
        where = f"{path}: [{prefix}{crm}]"
        if crm not in CRMS:
            near = closest(crm, CRMS)
            raise MappingError(f"{where}: unknown CRM" + (f'; did you mean "{near}"?' if near else
                                                           f"; the CRMs are {', '.join(CRMS)}"))
        if not isinstance(raw, dict):
            raise MappingError(f"{where}: must be a table")
        out[crm] = _read_crm(spec, crm, raw, where, environ)
    return out


def _read_crm(spec: Spec, crm: str, raw: dict, where: str, environ) -> CrmMapping:
    known = COMMON_KEYS + tuple(f"{s}-env" for s in SECRETS[crm]) + EXTRA_KEYS.get(crm, ())
    for key in raw:
        if key not in known:
            near = closest(key, known)
            if key in SECRETS[crm]:
                raise MappingError(f"{where}: `{key}` would put a secret in the file: name the environment "
                                   f'variable that holds it, `{key}-env = "NAME"`')
            raise MappingError(f"{where}: unknown key `{key}`" + (f'; did you mean "{near}"?' if near else
                                                                    f"; the keys are {', '.join(known)}"))
    funnel_id = raw.get("funnel")
    pipelines = _strings(raw.get("pipelines", {}), f"{where} pipelines")
    named = [f for f in (funnel_id, *pipelines.values()) if f is not None]
    for funnel_name in named:
        if funnel_name not in spec.funnel_by_id:
            near = closest(funnel_name, spec.funnel_by_id)
            hint = f'; did you mean "{near}"?' if near else ""
            raise MappingError(f'{where}: unknown funnel "{funnel_name}"{hint}')
    funnels = [spec.funnel_by_id[f] for f in dict.fromkeys(named)] or list(spec.funnels)
    stage_ids = frozenset(s.id for f in funnels for s in f.stages)
    stages = {**_system_stages(crm, funnels[0]), **_strings(raw.get("stages", {}), f"{where} stages")}
    for crm_stage, stage in stages.items():
        if stage not in stage_ids:
            near = closest(stage, stage_ids)
            raise MappingError(f'{where} stages: "{crm_stage}" = "{stage}": no such stage in funnel '
                               f"`{'`, `'.join(f.id for f in funnels)}`"
                               + (f'; did you mean "{near}"?' if near else ""))
    kinds = {fl.name: fl.type.kind for f in funnels for fl in f.fields}
    fields = _strings(raw.get("fields", {}), f"{where} fields")
    for crm_field, name in fields.items():
        if name not in kinds:
            near = closest(name, kinds)
            raise MappingError(f'{where} fields: "{crm_field}" = "{name}": no such field'
                               + (f'; did you mean "{near}"?' if near else f"; the fields are {', '.join(kinds)}"))
    secrets = {}
    for secret in SECRETS[crm]:
        variable = raw.get(f"{secret}-env")
        if variable is None:
            raise MappingError(f'{where}: `{secret}-env = "NAME"` is missing: the environment variable that holds '
                               f"the {secret.replace('-', ' ')} (requests cannot be verified without it)")
        if not environ.get(str(variable)):
            raise MappingError(f"{where}: the environment variable `{variable}` ({secret}-env) is not set")
        secrets[secret] = environ[str(variable)]
    url = raw.get("url")
    if crm == "bitrix24":
        if "url-env" in raw:
            url = environ.get(str(raw["url-env"]))
            if not url:
                raise MappingError(f"{where}: the environment variable `{raw['url-env']}` (url-env) is not set")
        if not url:
            raise MappingError(f'{where}: `url = "https://PORTAL/rest/..."` (or `url-env`) is missing: the portal\'s '
                               "REST address the deals are read back from")
    return CrmMapping(crm, funnel_id, stages, fields, pipelines, stage_ids, kinds, url, secrets)


def _system_stages(crm: str, funnel) -> dict:
    """The CRM's won/lost system stages -> the funnel's only won and only lost stage, where it has one each."""
    out = {}
    for crm_stage, kind in SYSTEM[crm].items():
        matching = [s.id for s in funnel.stages if s.kind is (StageKind.WON if kind == "won" else StageKind.LOST)]
        if len(matching) == 1:
            out[crm_stage] = matching[0]
    return out


def _strings(raw, where: str) -> dict:
    if not isinstance(raw, dict) or not all(isinstance(v, (str, int)) for v in raw.values()):
        raise MappingError(f'{where}: must be a table of names, e.g. {{ "142" = "won" }}')
    return {str(k): str(v) for k, v in raw.items()}
