"""Run the journeys of `*.funnel-test` files: each one deal replayed by the explain trace, its outcome checked.

A journey passes when every expectation holds. One that does not is a
failure, told with the first expectation that diverged (what was expected,
what the replay did) and the trace around where the deal stopped doing what
was expected. An event the replay refuses to apply (a bad line, an unknown
stage) makes the journey an error: it does not test what it says.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..dsl.journeys import Expectation, Journey, JourneyFile
from ..dsl.render.safe_text import for_terminal
from .simulate import until_time
from .validate import Rejected, event_time
from .values import OutOfRange
from .trace import Trace, trace_deal, trace_text

DEAL = "journey"
TRACE_TAIL = 14          # trace lines shown before the end of a failing journey


@dataclass
class JourneyResult:
    file: str
    name: str
    status: str                      # passed | failed | error
    problems: list[str] = field(default_factory=list)
    trace: Trace | None = None


def _payload_matches(payload: dict, wanted: dict) -> bool:
    return all(payload.get(key) == value for key, value in wanted.items())


def _check(expectation: Expectation, trace: Trace) -> str | None:
    """None when the expectation holds, else what diverged."""
    o = trace.outcome
    kind, value = expectation.kind, expectation.value
    if kind == "stage" and o.stage != value:
        return f"expected stage `{value}`, the deal is in `{o.stage}`"
    if kind == "status" and o.status != value:
        return f"expected status {value}, the deal is {o.status} (in `{o.stage}`)"
    if kind == "lost_reason" and o.lost_reason != value:
        return f"expected lost reason {_word(value)}, got {_word(o.lost_reason)}"
    if kind == "field":
        if expectation.name not in o.fields:
            return f"no field `{expectation.name}` in funnel `{o.funnel}`"
        if o.fields[expectation.name] != value:
            return f"expected field `{expectation.name}` = {_word(value)}, got {_word(o.fields[expectation.name])}"
    if kind in ("action", "no-action"):
        found = [a for a in trace.actions if a.kind == expectation.name and _payload_matches(a.payload, value)]
        what = expectation.name + (f" {_word(value)}" if value else "")
        if kind == "action" and not found:
            made = ", ".join(f"{a.kind} {_word(a.payload)}" for a in trace.actions) or "none"
            return f"expected action {what}; the actions taken: {made}"
        if kind == "no-action" and found:
            return f"expected no action {what}; `{found[0].rule}` took one at {_iso(found[0].time)}"
    return None


def _word(value) -> str:
    import json

    return "none" if value is None else json.dumps(value, ensure_ascii=False)


def _iso(ts):
    from .outcome import iso

    return iso(ts)


def _untimed(events, path: str) -> list[str]:
    """Why events whose `ts` is no time in the supported years cannot be replayed, naming their lines."""
    problems = []
    for line, _raw, event in events:
        if type(event.get("ts")) not in (str, int, float):
            continue                # the shape check names a missing `ts` or one of another type
        try:
            event_time(event)
        except Rejected as err:
            problems.append(f"{path}:{line}: {err}")
    return problems
def unknown_names(compiled, journey: Journey, path: str) -> list[str]:
    """`expect stage rewrk`, `expect field budgt`: names the spec does not have, each with a did-you-mean.
    Such an expectation can never hold, so the journey is an error, not a failure."""
    from ..dsl.spelling import did_you_mean

    stages = {s.id for f in compiled.funnels for s in f.stages}
    fields = {n for f in compiled.funnels for n in f.field_names}
    found = []
    for e in journey.expectations:
        known, what, name = (stages, "stage", e.value) if e.kind == "stage" else \
            (fields, "field", e.name) if e.kind == "field" else (None, None, None)
        if known is not None and name not in known:
            hint = did_you_mean(name, known)
            found.append(f"{path}:{e.line}: {e.text}: the spec has no {what} `{name}`" + (f"; {hint}" if hint else ""))
    return found


def run_journey(compiled, journey: Journey, path: str) -> JourneyResult:
    if journey.errors:
        return JourneyResult(path, journey.name, "error", list(journey.errors))
    unknown = unknown_names(compiled, journey, path)
    if unknown:
        return JourneyResult(path, journey.name, "error", unknown)
    events = []
    for index, (line, event) in enumerate(journey.events, 1):
        events.append((line, event, {"id": f"{DEAL}-{index}", **event, "deal": DEAL}))
    try:
        until = until_time(journey.until) if journey.until else None
    except OutOfRange as err:
        return JourneyResult(path, journey.name, "error", [f"`until {journey.until}` is {err}"])
    except ValueError:
        return JourneyResult(path, journey.name, "error", [f"`until {journey.until}` is not an ISO 8601 time"])
    untimed = _untimed(events, path)        # the replay skips such lines without a word
    if untimed:
        return JourneyResult(path, journey.name, "error", untimed)
    trace = trace_deal(compiled, events, DEAL, until=until)
    refused = [f"{path}:{s.detail['line']}: {s.message.split(': ', 1)[1]}"
               for s in trace.steps if s.kind == "rejected-line"]
    if trace.outcome is None:
        refused = refused or [f'{path}:{journey.line}: no "created" event']
    if refused:
        return JourneyResult(path, journey.name, "error", refused, trace)
    problems = []
    for expectation in journey.expectations:
        diverged = _check(expectation, trace)
        if diverged is not None:
            problems.append(f"{path}:{expectation.line}: {expectation.text}: {diverged}")
    return JourneyResult(path, journey.name, "failed" if problems else "passed", problems, trace)


def run_file(compiled, tests: JourneyFile) -> list[JourneyResult]:
    return [run_journey(compiled, journey, tests.path) for journey in tests.journeys]


@for_terminal
def failure_text(result: JourneyResult) -> str:
    """The failure for people: every diverging expectation, the first one first, and the end of the trace."""
    out = [f"___ {result.file}::{result.name} ___"]
    out += result.problems
    if result.trace is not None and result.trace.outcome is not None:
        lines = trace_text(result.trace).rstrip("\n").split("\n")
        body = lines[2:]                         # the heading and its blank line
        if len(body) > TRACE_TAIL:
            body = ["  …"] + body[-TRACE_TAIL:]
        out += ["trace (the end of it, where the deal stopped doing what was expected):" if body[0] == "  …"
                else "trace:"]
        out += ["  " + line if line else "" for line in body]
    return "\n".join(out) + "\n"
