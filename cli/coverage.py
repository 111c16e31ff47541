"""`funnel simulate --coverage`: the options' checks and the report, apart from the replay's own output."""
from __future__ import annotations

from .common import dump_json, fail, write_output

COVERAGE_FORMATS = ("text", "json")


def check_coverage_options(coverage: str | None, coverage_output: str | None, lcov: str | None, events: str,
                           fmt: str, output: str | None) -> None:
    """Refuse, before anything runs, combinations that would mix two documents on stdout or read stdin twice."""
    if not (coverage or lcov):
        if coverage_output:
            fail("--coverage-output needs --coverage")
        return
    if events == "-":
        fail("--coverage replays the stream a second time: give --events FILE, not stdin")
    if coverage and not coverage_output and fmt != "text" and output in (None, "-"):
        fail(f"--coverage with --format {fmt}: stdout holds the result; give -o FILE or --coverage-output FILE")


def report_coverage(compiled, events: str, until: float | None, moves: str, mapping, coverage: str | None,
                    coverage_output: str | None, lcov: str | None) -> None:
    """Replay the stream counting what each part of the spec did; write the report and the LCOV file asked for."""
    from ..engine.coverage import coverage_json, coverage_lcov, coverage_text, measure_coverage
    from ..engine.simulate import display_name, event_lines

    lines, source, lenient, stream = event_lines(events, mapping)
    try:
        items = measure_coverage(compiled, lines, until=until, moves=moves, lenient=lenient)
    finally:
        if stream is not None:
            stream.close()
    name = display_name(events)
    if lcov:
        write_output(coverage_lcov(items), lcov)
    if coverage:
        text = dump_json(coverage_json(items, name)) if coverage == "json" else coverage_text(items, name)
        write_output(text, coverage_output)
