"""What metrics need to know of a funnel: its stages in order, their kinds, probabilities and slas.

The *main path* is the open stages in declaration order less those off it:
stages declared `side`, and stages deals can only enter by moving back up the
path (every declared move into them comes from a stage written after them).
Conversion is measured along the main path; the others are shown apart.

A `FunnelShape` is built either from the checked model (`from_funnel`) or from
the `funnels` section of a saved simulate result (`from_json`), so that
`funnel report RESULT.json` computes the same figures without the spec.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..lang import LANGUAGES

OPEN, WON, LOST = "open", "won", "lost"
STAGE_KINDS = (OPEN, WON, LOST)


@dataclass(frozen=True)
class StageShape:
    id: str
    title: str
    kind: str                  # open | won | lost
    probability: float | None  # 0..1
    sla: float | None          # seconds
    order: int                 # position in the declaration, from 0
    side: bool = False         # declared `side`: off the main path

    @property
    def is_open(self) -> bool:
        return self.kind == OPEN

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "kind": self.kind, "probability": self.probability,
                "sla_seconds": self.sla, "order": self.order,
                "side": self.side}


@dataclass(frozen=True)
class FunnelShape:
    id: str
    title: str
    currency: str | None
    value_field: str | None
    stages: tuple[StageShape, ...]
    fields: tuple[str, ...] = ()                          # declared field names, for `--by`
    transitions: tuple[tuple[str | None, str], ...] = ()  # declared edges; None source is `any`
    timezone: str | None = None                           # IANA zone reports cut periods in; None: UTC
    language: str | None = None                           # the reports' words (`language ru`); None: English

    @cached_property
    def stage_by_id(self) -> dict[str, StageShape]:
        return {s.id: s for s in self.stages}

    @cached_property
    def open_stages(self) -> tuple[StageShape, ...]:
        return tuple(s for s in self.stages if s.is_open)

    @cached_property
    def open_index(self) -> dict[str, int]:
        """Position of each open stage among the open stages, in declaration order."""
        return {s.id: i for i, s in enumerate(self.open_stages)}

    @cached_property
    def side_ids(self) -> frozenset[str]:
        """Open stages off the main path: declared `side`, or entered only by moving back up the path."""
        order = {s.id: s.order for s in self.stages}
        sources: dict[str, set[int]] = {}
        for source, target in self.transitions:
            # `any ->` and moves out of won or lost stages say nothing of where a stage stands on the path
            if source is not None and source in order and self.stage_by_id[source].is_open:
                sources.setdefault(target, set()).add(order[source])
        side = set()
        for i, stage in enumerate(self.open_stages):
            behind = sources.get(stage.id)
            if stage.side or (i > 0 and behind and min(behind) > stage.order):
                side.add(stage.id)
        return frozenset(side)

    @cached_property
    def main_stages(self) -> tuple[StageShape, ...]:
        """The main path: the open stages that are not off it, in declaration order."""
        return tuple(s for s in self.open_stages if s.id not in self.side_ids)

    @cached_property
    def side_stages(self) -> tuple[StageShape, ...]:
        return tuple(s for s in self.open_stages if s.id in self.side_ids)

    @cached_property
    def main_index(self) -> dict[str, int]:
        """Position of each main-path stage on the path, from 0."""
        return {s.id: i for i, s in enumerate(self.main_stages)}

    @cached_property
    def path_places(self) -> dict[str, tuple[str, int]]:
        """Every stage's kind and place on the main path (len(main path) for won, -1 off the path), looked up
        once a stay when metrics read a deal's path."""
        end = len(self.main_stages)
        return {s.id: (s.kind, self.main_index.get(s.id, end if s.kind == WON else -1)) for s in self.stages}

    def title_of(self, stage_id: str | None) -> str:
        stage = self.stage_by_id.get(stage_id) if stage_id is not None else None
        return stage.title if stage is not None else (stage_id or "")

    def declared_edges(self) -> tuple[tuple[str, str], ...]:
        """Every declared transition as concrete (source, target) pairs; `any ->` expands to each open stage."""
        edges: list[tuple[str, str]] = []
        for source, target in self.transitions:
            sources = [s.id for s in self.open_stages if s.id != target] if source is None else [source]
            edges.extend((s, target) for s in sources if (s, target) not in edges)
        return tuple(edges)

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "currency": self.currency, "value_field": self.value_field,
                "stages": [s.to_json() for s in self.stages], "fields": list(self.fields),
                "transitions": [{"from": a, "to": b} for a, b in self.transitions],
                **({"timezone": self.timezone} if self.timezone else {}),
                **({"language": self.language} if self.language else {})}

    @classmethod
    def from_funnel(cls, funnel) -> "FunnelShape":
        """From a checked model Funnel (dsl/model.py)."""
        stages = tuple(
            StageShape(s.id, s.title, s.kind.value, s.probability, s.sla, i, s.side)
            for i, s in enumerate(funnel.stages))
        moves = [(t.source, t.target) for t in funnel.transitions]
        for rule in funnel.rules:
            for action in rule.actions:
                if action.kind == "move" and action.target is not None:
                    moves.append((rule.stage, action.target))
        transitions = tuple(dict.fromkeys(moves))
        return cls(funnel.id, funnel.title, funnel.currency, funnel.value_field, stages,
                   tuple(f.name for f in funnel.fields), transitions, funnel.timezone,
                   funnel.language)

    @classmethod
    def from_json(cls, data: dict, where: str = "funnel") -> "FunnelShape":
        """From one entry of a saved result's `funnels`; raises ValueError naming what is wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object")
        fid = _text(data, "id", where)
        where = f"funnel `{fid}`"
        raw_stages = data.get("stages")
        if not isinstance(raw_stages, list) or not raw_stages:
            raise ValueError(f"{where}: `stages` must be a non-empty list")
        stages = []
        for i, raw in enumerate(raw_stages):
            if not isinstance(raw, dict):
                raise ValueError(f"{where}: stage {i + 1} is not an object")
            sid = _text(raw, "id", f"{where}, stage {i + 1}")
            kind = raw.get("kind")
            if kind not in STAGE_KINDS:
                raise ValueError(f"{where}, stage `{sid}`: `kind` must be one of open, won, lost, not {kind!r}")
            probability = _number(raw.get("probability"), f"{where}, stage `{sid}`: `probability`")
            sla = _number(raw.get("sla_seconds"), f"{where}, stage `{sid}`: `sla_seconds`")
            order = raw.get("order", i)
            if not isinstance(order, int) or isinstance(order, bool):
                raise ValueError(f"{where}, stage `{sid}`: `order` must be an integer")
            side = raw.get("side", False)
            if not isinstance(side, bool):
                raise ValueError(f"{where}, stage `{sid}`: `side` must be true or false")
            stages.append(StageShape(sid, str(raw.get("title") or sid), kind, probability, sla, order, side))
        stages.sort(key=lambda s: s.order)
        ids = [s.id for s in stages]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{where}: duplicate stage ids")
        transitions = []
        for t in data.get("transitions") or ():
            if isinstance(t, dict) and isinstance(t.get("to"), str):
                transitions.append((t.get("from"), t["to"]))
        fields = data.get("fields") or ()
        names = tuple(f["name"] if isinstance(f, dict) else str(f) for f in fields)
        timezone = data.get("timezone")
        if timezone is not None and not isinstance(timezone, str):
            raise ValueError(f"{where}: `timezone` must be an IANA zone name or null")
        language = data.get("language")
        if language is not None and language not in LANGUAGES:
            raise ValueError(f"{where}: `language` must be one of {', '.join(LANGUAGES)} or null, not {language!r}")
        return cls(fid, str(data.get("title") or fid), data.get("currency"), data.get("value_field"),
                   tuple(stages), names, tuple(transitions), timezone, language)


def _text(data: dict, key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: `{key}` must be a non-empty string")
    return value


def _number(value, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} must be a number or null")
    return value
