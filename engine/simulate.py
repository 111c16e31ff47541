"""A whole replay: lines in, every one applied or rejected, records out to a sink, outcomes at the end.

`run_replay` drives engine/replay.py over what engine/events.py reads. The
sink decides what is kept: `CollectingSink` keeps everything (the Python
API); the CLI streams the action log to its output instead, so that memory
grows with the deals in flight, not with the events.
"""
from __future__ import annotations

import gc
import json
import os
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Sequence

from ..dsl.limits import MAX_NESTING, nesting_exceeds
from .compile import CompiledSpec
from .deal import DealState, deal_json, deal_outcome
from .outcome import ActionRecord, DealOutcome, Rejection, ReplayResult, RuntimeProblem, Totals, Violation
from .events import BLANK, NotJson
from .replay import Replayer
from .validate import Rejected, event_time, shape_problem

PROGRESS_EVERY = 8192          # lines between two progress callbacks
GC_THRESHOLDS = (100_000, 50, 100)   # during a replay; see `few_collections`


class BadLine(Exception):
    """A line that stopped the run (`on_error="stop"`): `source:line: reason`."""

    def __init__(self, source: str, line: int, reason: str):
        super().__init__(f"{source}:{line}: {reason}")
        self.source, self.line, self.reason = source, line, reason


class Sink:
    """Where the records of a replay go as they happen. The base class drops them.

    `action_form` says what the replay makes of an action (engine/replay.py ACTION_FORMS): a record for
    `action`, its JSON text for `action_text`, or only a count in `action_rules` ((rule, kind) -> actions)."""

    action_form = "records"
    action_rules: Counter | None = None

    def action(self, record: ActionRecord) -> None:
        pass

    def action_text(self, text: str, key: tuple[str, str], deal: str) -> None:
        pass

    def violation(self, record: Violation) -> None:
        pass

    def problem(self, record: RuntimeProblem) -> None:
        pass

    def reject(self, line: int, raw: bytes | str, reason: str) -> None:
        pass


@dataclass
class CollectingSink(Sink):
    """Keeps every record in memory (notebooks, tests, small streams)."""

    actions: list[ActionRecord] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    problems: list[RuntimeProblem] = field(default_factory=list)
    rejects: list[Rejection] = field(default_factory=list)

    def action(self, record: ActionRecord) -> None:
        self.actions.append(record)

    def violation(self, record: Violation) -> None:
        self.violations.append(record)

    def problem(self, record: RuntimeProblem) -> None:
        self.problems.append(record)

    def reject(self, line: int, raw: bytes | str, reason: str) -> None:
        self.rejects.append(Rejection(line, reason, raw_text(raw)))


@dataclass
class ReplayRun:
    """What a run leaves besides the sink's records."""

    outcomes: Sequence[DealOutcome]
    totals: Totals
    until: float | None


def run_replay(spec: CompiledSpec, lines: Iterable[tuple[int, object, object]], sink: Sink, *,
               until: float | None = None, moves: str = "enforce", on_error: str = "stop",
               lenient: bool = False, source: str = "events",
               progress: Callable[[int], None] | None = None,
               settle: Callable[[float | None], float | None] | None = None,
               reference: bool = False) -> ReplayRun:
    """Replay every line; raises BadLine at the first bad one unless `on_error` is "skip".

    `lines` yields (line number, raw line, decoded value) as engine/events.py
    readers do. The end is `until`, or the latest event's time; `settle`, when
    given, is told that end and returns the one to finish with (engine/parallel.py:
    the latest time over every worker's share of the deals). `reference`: the
    stages' automatic transitions tried one by one instead of by their generated
    function (engine/replay.py), for the tests that compare the two.
    """
    if on_error not in ("stop", "skip"):
        raise ValueError(f"on_error must be `stop` or `skip`, not `{on_error}`")
    with few_collections():
        return _run_replay(spec, lines, sink, until, moves, on_error, lenient, source, progress, settle, reference)


class DealOutcomes(Sequence):
    """A finished run's outcomes, sorted by deal id, made from the deals' states when they are asked for.

    As records for metrics and summaries (built once, on first use), or as
    JSON text straight from the states for a written result, which then
    builds no record at all: building and encoding 200,000 outcomes was a
    tenth of a large run on one worker."""

    BATCH = 4096

    def __init__(self, deals: list[DealState]):
        self._deals = deals
        self._records: list[DealOutcome] | None = None

    def __len__(self) -> int:
        return len(self._deals)

    def _all(self) -> list[DealOutcome]:
        if self._records is None:
            with few_collections():
                self._records = [deal_outcome(deal) for deal in self._deals]
        return self._records

    def __iter__(self):
        return iter(self._all())

    def __getitem__(self, index):
        return self._all()[index]

    def deal_ids(self) -> list[str]:
        return [deal.id for deal in self._deals]

    def standing_counts(self) -> dict[str, tuple[Counter, Counter]]:
        """funnel id -> (deals by status, deals by stage), from the states: what a summary shows, no record built."""
        counts: dict[str, tuple[Counter, Counter]] = {}
        by_stage: Counter = Counter((deal.funnel, deal.stage) for deal in self._deals)
        for (funnel, index), n in by_stage.items():
            status, stages = counts.setdefault(funnel.id, (Counter(), Counter()))
            stage = funnel.stages[index]
            status[stage.kind] += n
            stages[stage.id] += n
        return counts

    def json_line_batches(self):
        """Each outcome's `dumps(outcome.to_json())`, in lists of BATCH."""
        deals = self._deals
        for start in range(0, len(deals), self.BATCH):
            yield [deal_json(deal) for deal in deals[start:start + self.BATCH]]

    def json_lines(self):
        for batch in self.json_line_batches():
            yield from batch


@contextmanager
def few_collections():
    """Python's cycle collector, run less often while a replay runs.

    A replay allocates a few small objects per event and keeps every deal
    alive, and it makes no reference cycles to speak of; at the default
    thresholds the collector runs every 700 allocations and walks ever more
    live deals, a third of the replay's time on a large stream.
    """
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _run_replay(spec, lines, sink, until, moves, on_error, lenient, source, progress, settle, reference) -> ReplayRun:
    replayer = Replayer(spec, moves=moves, lenient=lenient, on_action=sink.action,
                        on_violation=sink.violation, on_problem=sink.problem, actions=sink.action_form,
                        on_action_text=sink.action_text, action_counts=sink.action_rules, reference=reference)
    apply = replayer.apply
    totals = Totals()
    latest = None
    stop = on_error == "stop"
    count = 0
    for number, raw, value in lines:
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
        if value is BLANK:
            totals.blank += 1
            continue
        if type(value) is NotJson:
            reason = value.message
        else:
            reason = shape_problem(value)
            if reason is None:
                try:
                    ts = event_time(value)
                    if until is not None and ts > until:
                        totals.after_until += 1
                        continue
                    apply(value, ts, number)
                    totals.applied += 1
                    if latest is None or ts > latest:
                        latest = ts
                    continue
                except Rejected as err:
                    reason = str(err)
        if stop:
            if type(value) is NotJson and value.ends_stream and number > 1:
                reason += f" ({number - 1:,} lines before it were read: --on-error skip replays them)"
            raise BadLine(source, number, reason)
        totals.rejected += 1
        sink.reject(number, raw, reason)
    totals.lines = count
    end = until if until is not None else latest
    if settle is not None:
        end = settle(end)
    outcomes = DealOutcomes(replayer.ended_deals(end))
    totals.deals = len(outcomes)
    if progress is not None:
        progress(count)
    return ReplayRun(outcomes, totals, end)


def dict_lines(events: Iterable[dict]) -> Iterable[tuple[int, object, object]]:
    """Events given as Python values (already decoded), numbered from 1; each is its own raw line."""
    for number, event in enumerate(events, 1):
        yield number, event, event


def raw_text(raw) -> str:
    """A raw line as text: bytes decoded, a Python value as JSON."""
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace").rstrip("\r\n")
    if isinstance(raw, str):
        return raw.rstrip("\r\n")
    if nesting_exceeds(raw):        # the encoder recurses: a value given to the API may nest without end
        return json.dumps(f"<an event nested more than {MAX_NESTING} levels deep>")
    return json.dumps(raw, ensure_ascii=False, default=str)


def result_of(spec: CompiledSpec, run: ReplayRun, sink: CollectingSink, moves: str) -> ReplayResult:
    from .serialize import funnels_json

    return ReplayResult(spec=spec.spec.path, until=run.until, outcomes=list(run.outcomes), actions=sink.actions,
                        violations=sink.violations, problems=sink.problems, totals=run.totals,
                        funnels=funnels_json(spec.spec), moves=moves, rejects=sink.rejects)


def display_name(path: str) -> str:
    if path == "-":
        return "<stdin>"
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def event_lines(events, csv_map: dict[str, str] | None = None):
    """(numbered lines, source name, lenient, stream to close) for whatever holds the events.

    A path (`-` is stdin, .gz is gunzipped, .csv or a `csv_map` means CSV, .parquet is
    Parquet, a directory or glob is its files one after the other: engine/events.py),
    an open file, an iterable of lines (str or bytes), or of event dicts.
    """
    from .events import FileSet, csv_rows, file_lines, json_lines, source_files
    from .lines import lines_of

    if isinstance(events, (str, os.PathLike)):
        path = os.fspath(events)
        files = source_files(path)
        if files is not None:
            fileset = FileSet(display_name(path), files, csv_map)
            return fileset.lines(), display_name(path), fileset.lenient, fileset
        lines, lenient, stream = file_lines(path, csv_map)
        return lines, display_name(path), lenient, stream
    name = getattr(events, "name", "events")
    if hasattr(events, "read"):
        binary = getattr(events, "buffer", events)
        if csv_map is not None:
            return csv_rows(binary, csv_map), str(name), True, None
        return json_lines(lines_of(binary)), str(name), False, None
    iterator = iter(events)
    first = next(iterator, None)
    if first is None:
        return iter(()), "events", False, None
    import itertools

    chained = itertools.chain([first], iterator)
    if isinstance(first, (str, bytes)):
        return json_lines(chained), "events", False, None
    return dict_lines(chained), "events", False, None


def until_time(until) -> float | None:
    """`until` as epoch seconds: None, a number, an ISO 8601 text or a datetime.

    Raises ValueError, OutOfRange (engine/values.py) for a time outside the supported years."""
    import datetime as dt

    from .values import in_range, parse_time

    if until is None:
        return None
    if isinstance(until, (int, float)):
        return in_range(until)
    if isinstance(until, dt.datetime):
        return in_range((until if until.tzinfo else until.replace(tzinfo=dt.timezone.utc)).timestamp())
    if isinstance(until, dt.date):
        return in_range(dt.datetime(until.year, until.month, until.day, tzinfo=dt.timezone.utc).timestamp())
    return parse_time(str(until))


def replay_events(spec, events, *, until=None, moves: str = "enforce", on_error: str = "stop",
                  csv_map: dict[str, str] | None = None) -> ReplayResult:
    """Replay `events` against a checked Spec (or a CompiledSpec) and keep every record in memory."""
    from .compile import compile_spec

    compiled = spec if isinstance(spec, CompiledSpec) else compile_spec(spec)
    from .events import peek_snapshot

    lines, source, lenient, stream = event_lines(events, csv_map)
    lines, snapshot = peek_snapshot(lines)
    sink = CollectingSink()
    try:
        run = run_replay(compiled, lines, sink, until=until_time(until), moves=moves, on_error=on_error,
                         lenient=lenient, source=source)
    finally:
        if stream is not None:
            stream.close()
    return replace(result_of(compiled, run, sink, moves), snapshot=snapshot)
