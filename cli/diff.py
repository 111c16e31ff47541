"""`funnel diff OLD NEW [--events HISTORY]`: what a spec change would have done, like `terraform plan`."""
from __future__ import annotations

import click

from . import main
from .common import (EXIT_USAGE, check_partitioned, cluster_client, cluster_option, default_workers, dump_json, fail, import_root_option, replay_options,
                     partitioned_option, runnable_analysis, workers_option)
from .outputs import check_outputs, write_output
from .report import report_language
from ..lang import LANGUAGES, using

FORMATS = ("text", "json", "markdown")


@main.command()
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--events", metavar="FILE|-",
              help="A history to replay through both specs (JSON Lines, .gz, CSV, Parquet, a directory or glob; "
                   "`-` for stdin), read once.")
@click.option("--funnel", "funnel", metavar="ID", help="Only this funnel (its changes, deals and metrics).")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True, metavar="N",
              help="List at most N changed deals (the counts cover them all).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="markdown fits a pull request comment.")
@click.option("--lang", type=click.Choice(LANGUAGES),
              help="The language of the text and markdown plan's words and numbers [default: NEW's `language`, "
                   "else OLD's, else en]; JSON reads the same in every language.")
@click.option("--fail-if", "fail_if", multiple=True, metavar="EXPR",
              help="Exit 1 only when a threshold trips, e.g. \"win_rate < -2%\" (repeatable; docs/diff.md).")
@click.option("--until", metavar="TIME",
              help="End of both replays (ISO 8601, years 1900-2200); default the latest event's time.")
@click.option("--moves", type=click.Choice(["enforce", "record"]), default="enforce", show_default=True,
              help="A person's move a spec does not allow: refused (enforce) or applied (record).")
@click.option("--csv-map", "csv_map", multiple=True, metavar="KEY=COLUMN[,…]",
              help="Read the history as CSV, mapping event keys to columns (as `funnel simulate` does).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the plan here instead of stdout.")
@workers_option
@cluster_option
@partitioned_option
@import_root_option
def diff(old: str, new: str, events: str | None, funnel: str | None, limit: int, fmt: str, lang: str | None,
         fail_if: tuple[str, ...], until: str | None, moves: str, csv_map: tuple[str, ...],
         output: str | None, workers: int | None, cluster: str | None = None, partitioned: bool = False,
         import_roots: tuple[str, ...] = ()) -> None:
    """Compare two specs; with --events, replay one history through both and show what changes.

    Exit 0 when no deal's outcome changes, 1 when one does (with --fail-if:
    when a threshold trips), 2 on errors.
    """
    from ..engine.diff_metrics import ThresholdError, check_names, evaluate, parse_threshold
    from ..engine.diff_plan import plan_diff
    from ..engine.diff_render import plan_json, render_markdown, render_text
    from ..engine.simulate import BadLine

    try:
        thresholds = [parse_threshold(text) for text in fail_if]
    except ThresholdError as err:
        fail(str(err))
    if thresholds and events is None:
        fail("--fail-if needs --events: thresholds read the metrics of a replay")

    if csv_map and events is None:
        fail("--csv-map needs --events")
    mapping, end = replay_options(csv_map, until)
    check_outputs([("OLD", old), ("NEW", new), ("--events", events)], [("-o", output)])
    old_spec, new_spec = _load(old, import_roots), _load(new, import_roots)
    if funnel is not None and funnel not in old_spec.funnel_by_id and funnel not in new_spec.funnel_by_id:
        ids = sorted(old_spec.funnel_by_id.keys() | new_spec.funnel_by_id.keys())
        fail(f"--funnel: no funnel `{funnel}` in either spec; funnels: " + ", ".join(f"`{i}`" for i in ids))
    if cluster and events in (None, "-"):
        fail("--cluster needs --events FILE: every worker reads the history (not stdin)")
    check_partitioned(partitioned, cluster, events)
    try:
        if cluster:
            with cluster_client(cluster, workers) as client:
                plan = plan_diff(old_spec, new_spec, events, funnel=funnel, until=end, moves=moves,
                                 csv_map=mapping, client=client, partitioned=partitioned)
        else:
            plan = plan_diff(old_spec, new_spec, events, funnel=funnel, until=end, moves=moves,
                             csv_map=mapping, workers=default_workers(events) if workers is None else workers)
    except BadLine as err:
        fail(str(err))
    if plan.replayed is not None and thresholds:
        try:
            check_names(thresholds, plan.replayed.rows)
        except ThresholdError as err:
            fail(str(err))
        plan.thresholds = thresholds
        plan.tripped = evaluate(thresholds, plan.replayed.rows, plan.replayed.counts)
    if fmt == "json":
        text = dump_json(plan_json(plan, limit))
    else:
        with using(report_language(lang, new_spec, old_spec)):
            text = render_markdown(plan, limit) if fmt == "markdown" else render_text(plan, limit)
    write_output(text, output)
    raise SystemExit(plan.exit_code())


def _load(path: str, import_roots: tuple[str, ...] = ()):
    """The checked spec, or its errors (lint's included) on stderr and exit 2 (exit 1 means outcomes change)."""
    return runnable_analysis(path, EXIT_USAGE, f"`{path}` has errors; nothing compared", import_roots).spec
