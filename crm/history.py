"""CRM stage histories as a deal stream: each deal `created` in its first stage, then `moved` at each change.

Each CRM module reads its history into `Change`s; `StageNames` turns the
CRM's stage value into the spec's stage: the mapping's ids first, then the
spec's stage ids, then exact titles, then titles compared without case,
spacing and punctuation (dsl/stage_names.py). An unknown value stops the conversion with the value, where it is,
and the closest stage by id or title ("did you mean `lost` (Сделка провалена)?").
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timezone

from . import CrmError
from ..dsl.spelling import closest
from ..dsl.stage_names import folded


@dataclass(frozen=True)
class Change:
    """A deal seen in a CRM stage at a time; `where` says where the input says so (line, entry)."""

    deal: str
    ts: str                  # ISO 8601, UTC
    stage: str               # the CRM's stage id or title
    where: str
    pipeline: str | None = None


class StageNames:
    """The spec's stage for a CRM's stage value, by the mapping, id, title, or folded title."""

    def __init__(self, spec, mapping=None):
        self.spec, self.mapping = spec, mapping
        self.ids, self.titles, self.folded = {}, {}, {}
        self.known: dict = {}                 # (value, pipeline) -> (funnel, stage), or False: each value looked up once
        for funnel in spec.funnels:
            for stage in funnel.stages:
                self.ids.setdefault(stage.id, (funnel.id, stage))
                self.titles.setdefault(stage.title, (funnel.id, stage))
                self.folded.setdefault(folded(stage.title), (funnel.id, stage))

    def stage(self, change: Change) -> tuple[str | None, str]:
        """(funnel id or None, stage id) of a change; CrmError naming the value, where, and the closest stage."""
        key = (change.stage, change.pipeline)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = self._lookup(change.stage, change.pipeline)
        if found is False:
            raise CrmError(f'{change.where}: unknown stage "{change.stage}"{self.hint(change.stage)}')
        return found

    def _lookup(self, value: str, pipeline):
        if self.mapping is not None:
            for key in ((f"{pipeline}/{value}",) if pipeline is not None else ()) + (value,):
                if key in self.mapping.stages:
                    return self.mapping.funnel_of(pipeline), self.mapping.stages[key]
        for table, key in ((self.ids, value), (self.titles, value), (self.folded, folded(value))):
            if key in table:
                funnel_id, stage = table[key]
                return funnel_id, stage.id
        return False

    def hint(self, value: str) -> str:
        by_title = {t: s for t, (_, s) in self.titles.items()}
        near = closest(value, list(self.ids) + list(by_title))
        if near is None:
            return f"; the spec's stages are {', '.join(f'`{i}`' for i in self.ids)}"
        stage = self.ids[near][1] if near in self.ids else by_title[near]
        return f"; did you mean `{stage.id}` ({stage.title})?"


def to_events(changes, names: StageNames) -> list[dict]:
    """The deal stream of `changes`: ordered by time (ties in input order), a repeated stage dropped."""
    events, current, counts = [], {}, {}
    for change in sorted(changes, key=lambda c: c.ts):
        funnel_id, stage = names.stage(change)
        if current.get(change.deal) == stage:
            continue
        counts[change.deal] = n = counts.get(change.deal, 0) + 1
        event = {"id": f"{change.deal}-{n}", "deal": change.deal, "ts": change.ts}
        if change.deal not in current:
            event |= {"type": "created", "stage": stage} | ({"funnel": funnel_id} if funnel_id else {})
        else:
            event |= {"type": "moved", "to": stage}
        current[change.deal] = stage
        events.append(event)
    return events


def iso(value, where: str) -> str:
    """A CRM's time (unix seconds or ms, ISO 8601 with or without offset, `YYYY-MM-DD HH:MM:SS` UTC) in UTC ISO."""
    try:
        if isinstance(value, (int, float)) or isinstance(value, str) and value.isdigit():
            number = float(value)
            moment = datetime.fromtimestamp(number / 1000 if number > 1e11 else number, timezone.utc)
        else:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        raise CrmError(f"{where}: `{value}` is not a time") from None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def csv_changes(text: str, path: str, columns: dict) -> list[Change]:
    """A flat export, one row per deal and stage: `--csv-map deal=COLUMN,ts=COLUMN,stage=COLUMN`."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [f"{key}={column}" for key, column in columns.items() if column not in (reader.fieldnames or ())]
    if missing:
        raise CrmError(f"{path}:1: no column {', '.join(missing)} in the header; its columns are "
                       f"{', '.join(reader.fieldnames or ())}")
    out = []
    for row in reader:
        where = f"{path}:{reader.line_num}"
        values = {key: (row.get(column) or "").strip() for key, column in columns.items()}
        for key, value in values.items():
            if not value:
                raise CrmError(f"{where}: column `{columns[key]}` ({key}) is empty")
        out.append(Change(values["deal"], iso(values["ts"], where), values["stage"], where))
    return out


def convert_history(kind: str, path: str, spec, mapping_path: str | None = None,
                    csv_columns: dict | None = None) -> list[dict]:
    """The deal stream of a CRM history file (`kind` a CRM, or `csv` with its columns), for `spec`."""
    from . import module, read_json
    from ..serve.mapping import MappingError, read_mappings

    mapping = None
    if mapping_path is not None:
        try:
            mappings = read_mappings(spec, mapping_path, secrets=False)
        except MappingError as err:
            raise CrmError(str(err)) from None
        if kind != "csv" and kind not in mappings:
            raise CrmError(f"{mapping_path}: no [{kind}] table; it maps {', '.join(mappings)}")
        mapping = mappings.get(kind) or next(iter(mappings.values()))
    if kind == "csv":
        with open(path, encoding="utf-8", newline="") as handle:
            changes = csv_changes(handle.read(), path, csv_columns or {})
    else:
        changes = module(kind).read_history(read_json(path), path)
    return to_events(changes, StageNames(spec, mapping))
