"""`funnel explain CODE` (a diagnostic code's documentation) and `funnel explain SPEC --events F --deal ID`
(one deal's replay as a trace: why each rule fired or not)."""
from __future__ import annotations

import click

from . import main
from .common import dump_json, fail, import_root_option, runnable_analysis, until_option
from .outputs import check_outputs, write_output
from .model import explain_code
from .report import report_zone


@main.command()
@click.argument("target", metavar="CODE|SPEC", required=False, default="")
@click.option("--list", "list_all", is_flag=True, help="List every code with its summary.")
@click.option("--events", metavar="FILE|-", help="With SPEC: the deal stream to replay (JSON Lines, CSV, .gz, "
              "Parquet, a directory or glob).")
@click.option("--deal", metavar="ID", help="With SPEC: the deal to trace.")
@click.option("--until", metavar="TIME",
              help="With SPEC: end of the replay (ISO 8601, years 1900-2200); default the latest event.")
@click.option("--moves", type=click.Choice(["enforce", "record"]), default="enforce", show_default=True,
              help="With SPEC: a person's move the spec does not allow is refused or applied.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="With SPEC: the trace as text or JSON.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="With SPEC: write the trace here.")
@click.option("--tz", metavar="ZONE", help="With SPEC: show the text trace's times in this IANA time zone "
              "[default: the funnel's `timezone`, else UTC]; JSON keeps UTC.")
@import_root_option
def explain(target: str, list_all: bool, events: str | None, deal: str | None, until: str | None, moves: str,
            fmt: str, output: str | None, tz: str | None, import_roots: tuple[str, ...] = ()) -> None:
    """Explain a diagnostic code, or why a deal's rules fired or not.

    \b
    funnel explain FNL102                         what the code means, a bad example and the fix
    funnel explain --list                         every code with its summary
    funnel explain SPEC --events F --deal ID      the deal's replay step by step: each event, each
                                                  condition with the values it saw, timers started,
                                                  cancelled and fired, moves made or refused

    With --events and --deal the argument is a spec; without them it is a code (or a check's name).
    Bad lines of the stream are skipped, as `funnel simulate --on-error skip` does.
    """
    if events is None and deal is None:
        from ..dsl.codes import all_codes

        all_codes()          # every check module registers its codes when imported
        explain_code(target, list_all)
        return
    if not target or events is None or deal is None:
        fail("a trace needs SPEC, --events FILE and --deal ID: funnel explain SPEC --events F --deal ID")
    _trace(target, events, deal, until, moves, fmt, output, tz, import_roots)


def _trace(spec_path: str, events: str, deal: str, until: str | None, moves: str, fmt: str,
           output: str | None, tz: str | None = None, import_roots: tuple[str, ...] = ()) -> None:
    from ..engine.compile import compile_spec
    from ..engine.simulate import event_lines
    from ..engine.trace import trace_deal, trace_text

    end = until_option(until)
    analysis = runnable_analysis(spec_path, import_roots=import_roots)
    check_outputs([("SPEC", spec_path), ("--events", events)] + [("a spec it imports", f) for f in analysis.sources],
                  [("-o", output)])
    checked = analysis.spec
    lines, _source, lenient, stream = event_lines(events)
    try:
        trace = trace_deal(compile_spec(checked), lines, deal, until=end, moves=moves, lenient=lenient)
    finally:
        if stream is not None:
            stream.close()
    if trace.outcome is None:
        near = ", ".join(f'"{d}"' for d in trace.closest)
        fail(f'{events}: no deal "{deal}" (no "created" event for it)'
             + (f"; the closest ids in the stream: {near}" if near else "; the stream has no deals"))
    if fmt == "json":
        write_output(dump_json(trace.to_json()), output)
        return
    zone = report_zone(tz, [f for f in checked.funnels if f.id == trace.outcome.funnel])
    write_output(trace_text(trace, zone), output)
