"""What a replay produces: per-deal outcomes, the action log, violations and run-time problems.

These records are the contract between the replay engine (engine/replay.py)
and everything that reads its results: metrics, reports, diff, explain.
Times are seconds since the epoch (UTC) as floats; `iso()` renders them.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from functools import lru_cache


def iso(ts: float | None) -> str | None:
    """An instant as ISO 8601 in UTC with a `Z`, seconds precision unless it has a fraction."""
    if ts is None:
        return None
    return _iso(ts)


@lru_cache(maxsize=4096)        # a replay writes the same few instants many times over
def _iso(ts: float) -> str:
    if ts == int(ts) and 0 <= ts < 253402300800:          # whole seconds, 1970-9999: the same text, faster
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    stamp = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
    text = stamp.isoformat(timespec="microseconds" if stamp.microsecond else "seconds")
    return text.replace("+00:00", "Z")


@dataclass(frozen=True)
class Visit:
    """One stay of a deal in a stage. `left` is None while the deal is still there.

    via: how the deal got there: created | auto (a transition's criterion) |
    manual (a `moved` event) | rule (a rule's `move to`).
    """

    stage: str
    entered: float
    left: float | None
    via: str

    def to_json(self) -> dict:
        return {"stage": self.stage, "entered": iso(self.entered), "left": iso(self.left), "via": self.via}


@dataclass(slots=True)
class ActionRecord:
    """An action a rule or transition took: move, set, task, notify, emit.

    Read-only by convention, not frozen: one is built for every action a
    replay takes, and a frozen dataclass costs three times as much to build.
    """

    deal: str
    time: float
    kind: str
    payload: dict
    rule: str                  # the rule's label (name, or file:line)
    span: dict                 # the rule's source span as JSON

    def to_json(self) -> dict:
        return {"deal": self.deal, "time": iso(self.time), "kind": self.kind, "payload": self.payload,
                "rule": self.rule, "span": self.span}


@dataclass(frozen=True)
class Violation:
    """A person's `moved` event that the spec does not allow.

    kind: no-transition | require-failed | from-terminal. `applied` is True
    under `--moves record` (history kept as it was), False under enforce.
    """

    deal: str
    time: float
    line: int
    kind: str
    source: str
    target: str
    message: str
    applied: bool

    def to_json(self) -> dict:
        return {"deal": self.deal, "time": iso(self.time), "line": self.line, "kind": self.kind,
                "from": self.source, "to": self.target, "message": self.message, "applied": self.applied}


@dataclass(frozen=True)
class RuntimeProblem:
    """A rule that failed for one deal, or a runaway chain of moves; the replay went on."""

    deal: str
    time: float
    kind: str                  # loop | error | refused (a rule's move the spec does not allow)
    message: str
    rules: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"deal": self.deal, "time": iso(self.time), "kind": self.kind, "message": self.message,
                "rules": list(self.rules)}


@dataclass(frozen=True)
class DealOutcome:
    """Where one deal ended. status: open | won | lost."""

    deal: str
    funnel: str
    created: float
    stage: str
    status: str
    lost_reason: str | None
    closed: float | None
    path: tuple[Visit, ...]
    fields: dict

    def to_json(self) -> dict:
        return {"deal": self.deal, "funnel": self.funnel, "created": iso(self.created), "stage": self.stage,
                "status": self.status, "lost_reason": self.lost_reason, "closed": iso(self.closed),
                "path": [v.to_json() for v in self.path], "fields": self.fields}


@dataclass
class Totals:
    """Every input line is accounted for: lines == applied + rejected + blank + after_until.

    blank: empty lines, `#` comment lines and a CSV header; after_until:
    events later than `--until`, read and not replayed.
    """

    lines: int = 0
    applied: int = 0
    rejected: int = 0
    blank: int = 0
    deals: int = 0
    after_until: int = 0

    def add(self, other: "Totals") -> None:
        """Count `other`'s lines too (a share of the stream replayed elsewhere: engine/parallel.py)."""
        for name in ("lines", "applied", "rejected", "blank", "deals", "after_until"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def balanced(self) -> bool:
        return self.lines == self.applied + self.rejected + self.blank + self.after_until

    def to_json(self) -> dict:
        return {"lines": self.lines, "applied": self.applied, "rejected": self.rejected, "blank": self.blank,
                "after_until": self.after_until, "deals": self.deals}


@dataclass(frozen=True)
class Rejection:
    """An input line set aside (`--on-error skip`): where, why, and the line exactly as read."""

    line: int
    reason: str
    text: str

    def to_json(self) -> dict:
        return {"line": self.line, "reason": self.reason, "text": self.text}


@dataclass
class ReplayResult:
    """Everything a replay produced, sorted for byte-identical output."""

    spec: str
    until: float | None
    outcomes: list[DealOutcome] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    problems: list[RuntimeProblem] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)
    funnels: list[dict] = field(default_factory=list)     # each funnel's shape as JSON (engine/serialize.py)
    moves: str = "enforce"                                 # enforce | record
    rejects: list[Rejection] = field(default_factory=list)
    snapshot: str | None = None                            # the caveat of a stream rebuilt from a snapshot
