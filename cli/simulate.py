"""`funnel simulate SPEC --events FILE`: replay a deal stream against a spec."""
from __future__ import annotations

import os
import sys
import tempfile
from contextlib import nullcontext

import click

from . import main
from .common import (EXIT_OK, check_partitioned, cluster_client, cluster_option, default_workers, fail, import_root_option, replay_options, runnable_analysis,
                     partitioned_option, use_color, workers_option)
from .outputs import check_outputs, write_output
from .coverage import check_coverage_options, report_coverage
from .forecast import forecast_report_options, forecast_request, report_with_forecast
from .report import (REPORT_FORMATS, by_option, cohort_option, diagnosis_thresholds, group_names, report_zone,
                     lang_option, since_option, trend_option, tz_option, window_time)
from ..atomic import replacing

FORMATS = ("text", "json", "jsonl")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--events", "events", required=True, metavar="FILE|-",
              help="The deal stream: JSON Lines (.jsonl, .gz; `-` for stdin), CSV (.csv, or with --csv-map), "
                   "Parquet (.parquet), or a directory or quoted glob of such files, read in name order.")
@click.option("--until", metavar="TIME", help="End of the replay (ISO 8601, years 1900-2200); timers due by then fire. "
              "Default: the latest event's time. Later events are counted, not replayed.")
@click.option("--moves", type=click.Choice(["enforce", "record"]), default="enforce", show_default=True,
              help="A person's move the spec does not allow: refused (enforce) or applied (record); "
                   "a violation is reported either way.")
@click.option("--on-error", type=click.Choice(["stop", "skip"]), default="stop", show_default=True,
              help="A bad line stops the run (exit 2), or is set aside and the run goes on.")
@click.option("--rejects", type=click.Path(dir_okay=False),
              help="With --on-error skip: write each rejected line here, verbatim, after a comment with the reason.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: a summary; json: the whole result (`funnel report` reads it); jsonl: one record a line.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write here what would be printed: the report with --report, else the result.")
@click.option("--result", "result_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="With --report: also write the result (in --format) here, e.g. for `funnel report` later.")
@click.option("--csv-map", "csv_map", multiple=True, metavar="KEY=COLUMN[,…]",
              help="Read the events as CSV, mapping event keys to columns: deal=opportunity_id,ts=date,"
                   "fields.budget=amount,ignore=notes (repeatable).")
@click.option("--snapshot", is_flag=True,
              help="The stream was rebuilt from a snapshot of current stages (as `funnel convert` does): the "
                   "result and its reports say so. A stream whose first line is `# snapshot: NOTE` says it "
                   "itself.")
@click.option("--report", "report_fmt", type=click.Choice(REPORT_FORMATS),
              help="Also report the metrics (conversion, time in stage, forecast, diagnosis) in this format.")
@by_option
@cohort_option
@trend_option
@since_option
@tz_option
@lang_option
@click.option("--report-output", type=click.Path(dir_okay=False),
              help="Deprecated, still works: write the report here, and -o (or stdout) gets the result, as before "
                   "`-o` meant the report. Use -o for the report and --result for the result.")
@workers_option
@cluster_option
@partitioned_option
@click.option("--coverage", type=click.Choice(["text", "json"]), is_flag=False, flag_value="text", default=None,
              help="Also report how often each stage, transition, rule and timer was reached, and those never "
                   "reached (`--coverage` alone: text).")
@click.option("--coverage-output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the coverage report here instead of stdout (after the result).")
@click.option("--coverage-lcov", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write coverage per line of the spec as an LCOV tracefile, for editors to shade the spec.")
@forecast_report_options
@import_root_option
def simulate(spec: str, events: str, until: str | None, moves: str, on_error: str, rejects: str | None,
             fmt: str, output: str | None, result_path: str | None, csv_map: tuple[str, ...], report_fmt: str | None,
             by: tuple[str, ...], cohort: str | None, trend: str | None, since: str | None, tz: str | None,
             lang: str | None, report_output: str | None, workers: int, cluster: str | None = None,
             partitioned: bool = False, snapshot: bool = False, coverage: str | None = None,
             coverage_output: str | None = None, coverage_lcov: str | None = None,
             import_roots: tuple[str, ...] = (), **forecasting) -> None:
    """Replay the deal events in --events against SPEC: where each deal ends, what the rules did.

    A SPEC that `funnel lint` reports errors for is not replayed: its errors are printed, exit 1.
    """
    from ..engine.simulate import BadLine

    report_to, result_to = _destinations(report_fmt, output, result_path, report_output)
    check_coverage_options(coverage, coverage_output, coverage_lcov, events,
                           report_fmt if report_fmt and report_to is output else fmt, output)
    if rejects and on_error != "skip":
        fail("--rejects needs --on-error skip")
    mapping, end = replay_options(csv_map, until)
    check_partitioned(partitioned, cluster, events)
    cluster_workers = workers
    if (since is not None or trend or cohort or tz or lang) and not report_fmt:
        fail("--since, --cohort, --trend, --tz and --lang shape the report: use them with --report")
    if workers is None:
        workers = default_workers(events)
    thresholds = diagnosis_thresholds((), ".") if report_fmt else None
    forecast = forecast_request(forecasting, report_fmt)
    analysis = runnable_analysis(spec, import_roots=import_roots)
    check_outputs([("SPEC", spec), ("--events", events), ("--forecast", forecasting["forecast_model"])]
                  + [("a spec it imports", f) for f in analysis.sources],
                  [("-o", output), ("--result", result_path), ("--rejects", rejects),
                   ("--report-output", report_output),
                   ("--coverage-output", coverage_output), ("--coverage-lcov", coverage_lcov)])
    checked = analysis.spec
    zone = report_zone(tz, checked.funnels) if report_fmt else None
    start = window_time("--since", since, zone)
    try:
        if cluster:
            with cluster_client(cluster, cluster_workers) as client:
                _run(checked, events, end, moves, on_error, rejects, fmt, mapping, report_fmt,
                     group_names(by, cohort), report_to, thresholds, workers, result_to, (start, trend, tz, lang),
                     snapshot, client, partitioned, forecast)
        else:
            _run(checked, events, end, moves, on_error, rejects, fmt, mapping, report_fmt,
                 group_names(by, cohort), report_to, thresholds, workers, result_to, (start, trend, tz, lang), snapshot,
                 forecast=forecast)
        if coverage or coverage_lcov:
            from ..engine.compile import compile_spec

            report_coverage(compile_spec(checked), events, end, moves, mapping, coverage, coverage_output,
                            coverage_lcov)
    except BadLine as err:
        fail(str(err))
    raise SystemExit(EXIT_OK)


def _destinations(report_fmt: str | None, output: str | None, result_path: str | None,
                  report_output: str | None) -> tuple[str | None, str | None]:
    """(where the report goes, where the result goes); None is stdout, `False` not written.

    One rule for every command: -o is where what the command would print goes.
    With --report that is the report, and the result is written only to --result.
    The old `--report-output R` keeps its meaning: the report to R, the result
    printed (or to -o), as scripts written before the rule expect.
    """
    if not report_fmt:
        if report_output:
            fail("--report-output needs --report")
        if result_path and output:
            fail("without --report, -o is the result: give -o or --result, not both")
        return False, result_path or output
    if report_output:
        if result_path and output:
            fail("--report-output (deprecated) sends the result to -o: give -o or --result, not both")
        return report_output, result_path or output
    return output, result_path or False


def _run(spec, events, until, moves, on_error, rejects_path, fmt, mapping, report_fmt, by,
         report_output, thresholds, workers=1, result_output=None, shaping=(None, None, None, None),
         snapshot=False, client=None, partitioned=False, forecast=None) -> None:
    """`report_output` and `result_output` as _destinations gives them: a path, None for stdout, False for none.

    With a Dask `client` the replay runs on its cluster (engine/cluster.py), each share reading only its own
    files when `partitioned`."""
    from ..engine.compile import compile_spec
    from ..engine.events import SNAPSHOT_NOTE, file_snapshot_note, peek_snapshot
    from ..engine.outcome import ReplayResult
    from ..engine.serialize import funnels_json
    from ..engine.simulate import display_name, event_lines, run_replay
    from ..engine.sinks import RejectsWriter, SpoolingSink

    compiled = compile_spec(spec)
    lines, source, lenient, stream = event_lines(events, mapping)
    with replacing(rejects_path, binary=True) if rejects_path else nullcontext() as rejects_out:
        writes_actions = result_output is not False and fmt in ("json", "jsonl")     # else they are only counted
        sink = SpoolingSink(RejectsWriter(rejects_out, source), actions="text" if writes_actions else "count")
        stdin_copy = run = None
        try:
            with _progress(stream) as progress:       # it starts at its first call: after any workers' fork
                if workers > 1 or client is not None:
                    from ..engine.parallel import run_parallel

                    path = events
                    if events == "-":                  # every worker reads the stream: keep stdin in a file for them
                        stdin_copy = _stdin_copy(stream)
                        path = stdin_copy
                    note = file_snapshot_note(path) if mapping is None else None
                    outcome_objects = bool(report_fmt) or fmt not in ("json", "jsonl")
                    if client is not None:
                        from ..engine.cluster import run_on_cluster

                        run = run_on_cluster(spec, path, sink, client=client, until=until, moves=moves,
                                             on_error=on_error, csv_map=mapping, source=source,
                                             outcome_objects=outcome_objects, partitioned=partitioned)
                    else:
                        run = run_parallel(compiled, path, sink, workers=workers, until=until, moves=moves,
                                           on_error=on_error, csv_map=mapping, source=source,
                                           outcome_objects=outcome_objects, progress=progress)
                else:
                    lines, note = peek_snapshot(lines)
                    run = run_replay(compiled, lines, sink, until=until, moves=moves, on_error=on_error,
                                     lenient=lenient, source=source, progress=progress)
            result = ReplayResult(spec=spec.path, until=run.until, outcomes=run.outcomes, actions=sink.actions,
                                  violations=sink.violations, problems=sink.problems, totals=run.totals,
                                  funnels=funnels_json(spec), moves=moves,
                                  snapshot=note or (SNAPSHOT_NOTE if snapshot else None))
            report_text = None
            if report_fmt:
                from ..engine.report import render_report

                try:
                    report_text = render_report(result, spec, report_fmt, by, thresholds=thresholds, since=shaping[0],
                                                trend=shaping[1], zone=shaping[2], language=shaping[3],
                                                color=report_fmt == "text" and report_output in (None, "-")
                                                and use_color())
                except ValueError as err:
                    fail(str(err))
                if forecast is not None:
                    from ..lang import using
                    from .report import report_language

                    with using(report_language(shaping[3], spec)):
                        report_text = report_with_forecast(report_text, report_fmt, forecast, spec, result)
            if result_output is not False:
                _write_result(result, fmt, result_output, display_name(events) if isinstance(events, str) else source,
                              sink)
            if report_text is not None:
                write_output(report_text, report_output)
            if run.totals.rejected and not rejects_path:
                _warn_rejects(sink, source, run.totals.rejected)
        finally:
            sink.close()
            if run is not None and hasattr(run.outcomes, "close"):     # a parallel run's outcomes, read from files
                run.outcomes.close()
            if stream is not None:
                stream.close()
            if stdin_copy is not None:
                os.unlink(stdin_copy)


def _write_result(result, fmt: str, output: str | None, source: str, sink) -> None:
    """Write the result to a temporary file first: nothing half-written reaches -o or stdout."""
    if output not in (None, "-"):
        with replacing(output) as handle:
            _write_result_to(handle, result, fmt, source, sink)
        return
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", prefix=".funnel-", suffix=".tmp") as handle:
        _write_result_to(handle, result, fmt, source, sink)
        handle.flush()
        with open(handle.name, encoding="utf-8", newline="") as spooled:
            for chunk in iter(lambda: spooled.read(1 << 20), ""):
                click.echo(chunk, nl=False)


def _write_result_to(handle, result, fmt: str, source: str, sink) -> None:
    from ..engine.serialize import write_json, write_jsonl
    from ..engine.summary import render_summary

    if fmt == "json":
        write_json(result, handle, raw=handle.buffer)    # opened UTF-8, newlines as they are
    elif fmt == "jsonl":
        write_jsonl(result, handle)
    else:
        handle.write(render_summary(result, source, sink.action_kinds, sink.action_rules))


def _warn_rejects(sink, source: str, count: int) -> None:
    from ..dsl.render.safe_text import one_line

    for line, reason in sink.first_rejects:          # a reason may quote the line: it must not drive the terminal
        click.echo(one_line(f"{source}:{line}: rejected: {reason}"), err=True)
    if count > len(sink.first_rejects):
        click.echo(f"… and {count - len(sink.first_rejects)} more rejected lines (--rejects FILE keeps them)",
                   err=True)


def _stdin_copy(stream) -> str:
    """Standard input copied to a temporary file (as read: gzip stays gzip), for the workers to read."""
    import shutil

    fd, tmp = tempfile.mkstemp(prefix=".funnel-stdin-", suffix=".jsonl")
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(stream.binary, out)
    return tmp


class _NoProgress:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


class _Progress:
    """A rich progress bar on stderr, driven by the bytes read (or lines, for stdin)."""

    def __init__(self, stream):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.stream = stream
        self.progress = Progress(TextColumn("replaying"), BarColumn(), TextColumn("{task.fields[lines]:,} lines"),
                                 TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.task = None

    def __enter__(self):
        return self.update

    def update(self, lines: int, position: int | None = None) -> None:
        """Lines read, and bytes (by default, as far as this process has read the stream)."""
        if self.task is None:         # started late: no thread of its own may run when workers are forked
            self.progress.start()
            self.task = self.progress.add_task("replay", total=self.stream.size, lines=0)
        if position is None:
            position = self.stream.position()
        self.progress.update(self.task, completed=position if position is not None else 0, lines=lines)

    def __exit__(self, *exc):
        if self.task is not None:
            self.progress.stop()
        return False


def _progress(stream):
    """A progress bar only for a person watching: stderr a terminal, not CI, a file of known size."""
    interactive = sys.stderr.isatty() and not os.environ.get("CI")
    if not interactive or stream is None or not stream.size:
        return _NoProgress()
    return _Progress(stream)
