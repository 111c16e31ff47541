"""`funnel explain CODE` (a diagnostic code's documentation) and `funnel explain SPEC --events F --deal ID`
(one deal's replay as a trace: why each rule fired or not)."""
from __future__ import annotations

import sys

import click

from . import main
from .common import EXIT_FINDINGS, dump_json, fail, use_color, write_output
from .model import explain_code
from .report import report_zone


@main.command()
@click.argument("target", metavar="CODE|SPEC", required=False, default="")
@click.option("--list", "list_all", is_flag=True, help="List every code with its summary.")
@click.option("--events", metavar="FILE|-", help="With SPEC: the deal stream to replay (JSON Lines, CSV, .gz).")
@click.option("--deal", metavar="ID", help="With SPEC: the deal to trace.")
@click.option("--until", metavar="TIME", help="With SPEC: end of the replay (ISO 8601); default the latest event.")
@click.option("--moves", type=click.Choice(["enforce", "record"]), default="enforce", show_default=True,
              help="With SPEC: a person's move the spec does not allow is refused or applied.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="With SPEC: the trace as text or JSON.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="With SPEC: write the trace here.")
@click.option("--tz", metavar="ZONE", help="With SPEC: show the text trace's times in this IANA time zone "
              "[default: the funnel's `timezone`, else UTC]; JSON keeps UTC.")
def explain(target: str, list_all: bool, events: str | None, deal: str | None, until: str | None, moves: str,
            fmt: str, output: str | None, tz: str | None) -> None:
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
    _trace(target, events, deal, until, moves, fmt, output, tz)


def _trace(spec_path: str, events: str, deal: str, until: str | None, moves: str, fmt: str,
           output: str | None, tz: str | None = None) -> None:
    from ..api import analyse
    from ..dsl.render.text import render_text
    from ..engine.compile import compile_spec
    from ..engine.simulate import event_lines, until_time
    from ..engine.trace import trace_deal, trace_text

    try:
        end = until_time(until)
    except ValueError:
        fail(f"--until: `{until}` is not an ISO 8601 date or date and time")
    analysis = analyse(spec_path, lint=False)
    if analysis.spec is None:
        click.echo(render_text(analysis.diagnostics, analysis.sources, use_color(sys.stderr)), err=True)
        raise SystemExit(EXIT_FINDINGS)
    lines, _source, lenient, stream = event_lines(events)
    try:
        trace = trace_deal(compile_spec(analysis.spec), lines, deal, until=end, moves=moves, lenient=lenient)
    finally:
        if stream is not None:
            stream.close()
    if trace.outcome is None:
        fail(f'{events}: no deal "{deal}" (no "created" event for it)')
    if fmt == "json":
        write_output(dump_json(trace.to_json()), output)
        return
    zone = report_zone(tz, [f for f in analysis.spec.funnels if f.id == trace.outcome.funnel])
    write_output(trace_text(trace, zone), output)
