"""`funnel fit`, `funnel forecast`, `funnel backtest`: the history's behaviour, the open pipeline run forward, checked."""
from __future__ import annotations

import json
import re
import sys

import click

from . import main
from .common import EXIT_FINDINGS, EXIT_OK, dump_json, fail, import_root_option, until_option, use_color
from .outputs import check_outputs, write_output
from ..lang import LANGUAGES, using

FORMATS = ("text", "json")
FORECAST_FORMATS = ("text", "json", "html")
HORIZON = re.compile(r"^\s*([0-9][0-9_]*)\s*([mhdw])\s*$")
UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_HORIZON = 10 * 366 * 86400

events_option = click.option("--events", "events", required=True, metavar="FILE|-",
                             help="The deal history: JSON Lines (.jsonl, .gz; `-` for stdin) or CSV with --csv-map.")
csv_option = click.option("--csv-map", "csv_map", multiple=True, metavar="KEY=COLUMN[,…]",
                          help="Read the history as CSV, mapping event keys to columns (as `funnel simulate`).")
horizon_option = click.option("--horizon", default="90d", show_default=True, metavar="DURATION",
                              help="How far ahead: a whole number and a unit, m h d w (`90d`, `13w`).")
format_option = click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                             help="text: the figures for a person; json: everything, for tools.")
output_option = click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
seed_option = click.option("--seed", type=int, default=0, show_default=True,
                           help="The same seed (and runs) gives byte-identical output.")
by_option = click.option("--by", "by", metavar="FIELD", help="Fit each value of this deal field on its own "
                         "(a stage with too few deals in a group uses the whole history's figures, with a note).")
min_deals_option = click.option("--min-deals", type=click.IntRange(min=1), default=30, show_default=True,
                                help="With --by: fewer visits than this in a group's stage falls back to the whole.")
bootstrap_option = click.option("--bootstrap/--no-bootstrap", default=True, show_default=True,
                                help="The interval carries the fitted behaviour's own uncertainty: each block of "
                                     "runs draws its shares and stays again from the history's exits.")
drift_option = click.option("--drift/--no-drift", default=True, show_default=True,
                            help="The interval carries drift: how far the same forecast missed at earlier cut dates "
                                 "of the history (a factor on the wins, with its spread).")
workers_option = click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
                              help="Draw the runs on this many processes; the figures are the same as with one.")


def parse_horizon(text: str) -> float:
    match = HORIZON.match(text)
    if match is None:
        fail(f"--horizon: `{text}` is not a duration such as 90d, 13w or 36h")
    seconds = int(match.group(1).replace("_", "")) * UNITS[match.group(2)]
    if not 0 < seconds <= MAX_HORIZON:
        fail(f"--horizon: `{text}` is not between 1 minute and 10 years")
    return float(seconds)


def _spec(path: str, import_roots, inputs, outputs):
    """The checked spec, or its diagnostics on stderr and exit 1; outputs checked against every input."""
    from ..api import analyse
    from ..dsl.render.text import render_text

    analysis = analyse(path, lint=False, import_roots=import_roots)
    if analysis.spec is None:
        click.echo(render_text(analysis.diagnostics, analysis.sources, use_color(sys.stderr)), err=True)
        raise SystemExit(EXIT_FINDINGS)
    check_outputs([("SPEC", path)] + list(inputs) + [("a spec it imports", f) for f in analysis.sources], outputs)
    return analysis.spec


def _mapping(csv_map):
    from .common import replay_options

    return replay_options(csv_map, None)[0]


def _replaying(call):
    """Run a facade call; a bad history line or a bad argument is a usage error naming it."""
    from ..engine.simulate import BadLine

    try:
        return call()
    except BadLine as err:
        fail(str(err))
    except ValueError as err:
        fail(str(err))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@events_option
@by_option
@min_deals_option
@click.option("--until", metavar="TIME", help="Fit on the history up to this time (ISO 8601); default: all of it.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="json: the model (the default); text: a summary of it.")
@output_option
@csv_option
@import_root_option
def fit(spec: str, events: str, by: str | None, min_deals: int, until: str | None, fmt: str | None,
        output: str | None, csv_map, import_roots=()) -> None:
    """Fit how deals in each stage of SPEC moved in the history: next-stage shares and stays (Kaplan–Meier).

    The model (JSON, schemas/fit.schema.json) is what `funnel forecast --model` reads."""
    from ..api import fit as fit_history
    from ..engine.forecast.render import render_fit_text

    end = until_option(until)
    checked = _spec(spec, import_roots, [("--events", events)], [("-o", output)])
    model = _replaying(lambda: fit_history(checked, events, by=by, min_deals=min_deals, until=end,
                                           csv_map=_mapping(csv_map)))
    text = render_fit_text(model) if fmt == "text" else dump_json(model.to_json())
    write_output(text, output)
    raise SystemExit(EXIT_OK)


def read_model(path: str, option: str = "--model"):
    from ..engine.forecast.fit import FittedModel

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as err:
        fail(f"{option} `{path}`: {err.strerror}")
    except (ValueError, UnicodeDecodeError) as err:
        fail(f"{option} `{path}`: not JSON: {err}")
    try:
        return FittedModel.from_json(data)
    except ValueError as err:
        fail(f"{option} `{path}`: {err}")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="The fitted behaviour, from `funnel fit`.")
@events_option
@horizon_option
@click.option("--runs", type=click.IntRange(min=1, max=1_000_000), default=10_000, show_default=True,
              help="How many runs of the whole pipeline.")
@seed_option
@click.option("--spec", "new_spec", type=click.Path(dir_okay=False), metavar="NEW",
              help="Forecast this changed funnel instead, on the same fitted behaviour.")
@workers_option
@bootstrap_option
@drift_option
@click.option("--format", "fmt", type=click.Choice(FORECAST_FORMATS), default="text", show_default=True,
              help="text: the figures for a person; json: everything, for tools; html: a page with charts.")
@click.option("--lang", type=click.Choice(LANGUAGES),
              help="The language of the text and HTML forecast's words and numbers [default: the spec's `language`, "
                   "else en]; JSON reads the same in every language.")
@output_option
@csv_option
@import_root_option
def forecast(spec: str, model_path: str, events: str, horizon: str, runs: int, seed: int, new_spec: str | None,
             workers: int, bootstrap: bool, drift: bool, fmt: str, lang: str | None, output: str | None, csv_map,
             import_roots=()) -> None:
    """Run the deals open at the end of the history forward through SPEC's rules and the fitted behaviour.

    Won deals and value by the horizon with P10/P50/P90, by stage, group and month, beside the typed
    probabilities' figure. The interval carries the runs' chance, the fitted behaviour's uncertainty
    (--no-bootstrap: not) and drift seen at earlier cut dates (--no-drift: not)."""
    from ..api import forecast as run_forecast
    from ..engine.forecast.render import render_forecast_text

    seconds = parse_horizon(horizon)
    model = read_model(model_path)
    inputs = [("--events", events), ("--model", model_path)] + ([("SPEC", spec)] if new_spec else [])
    checked = _spec(new_spec or spec, import_roots, inputs, [("-o", output)])
    result = _replaying(lambda: run_forecast(checked, model, events, horizon=seconds, runs=runs, seed=seed,
                                             workers=workers, csv_map=_mapping(csv_map), bootstrap=bootstrap,
                                             drift=drift))
    data = result.to_json()
    if fmt == "json":
        write_output(dump_json(data), output)
        raise SystemExit(EXIT_OK)
    from ..engine.report.forecast_html import render_forecast_html
    from .report import report_language

    with using(report_language(lang, checked)):
        text = render_forecast_html(data) if fmt == "html" else render_forecast_text(data)
    write_output(text, output)
    raise SystemExit(EXIT_OK)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@events_option
@click.option("--at", "at", multiple=True, metavar="DATE",
              help="A cut date (ISO 8601), repeatable. Default: --cuts dates spread over the history.")
@click.option("--cuts", type=click.IntRange(min=1, max=100), default=6, show_default=True,
              help="Without --at: this many cut dates, after the history's first third and a horizon before its end.")
@horizon_option
@click.option("--runs", type=click.IntRange(min=1, max=1_000_000), default=2_000, show_default=True,
              help="Runs of each cut's forecast.")
@seed_option
@by_option
@min_deals_option
@workers_option
@bootstrap_option
@drift_option
@format_option
@output_option
@csv_option
@import_root_option
def backtest(spec: str, events: str, at: tuple[str, ...], cuts: int, horizon: str, runs: int, seed: int,
             by: str | None, min_deals: int, workers: int, bootstrap: bool, drift: bool, fmt: str,
             output: str | None, csv_map, import_roots=()) -> None:
    """Fit on what was known at each cut date, forecast, compare with what happened next.

    How often the P10–P90 interval held (calibration) and the error of the median."""
    from ..api import backtest as run_backtest, history_span
    from ..engine.forecast.backtest import default_cuts
    from ..engine.forecast.render import render_backtest_text
    if events == "-":
        fail("--events: backtest reads the history once per cut date: give a file, not `-`")
    seconds = parse_horizon(horizon)
    dates = [until_option(a, "--at") for a in at]
    checked = _spec(spec, import_roots, [("--events", events)], [("-o", output)])
    mapping = _mapping(csv_map)
    if not dates:
        first, last = _replaying(lambda: history_span(checked, events, csv_map=mapping))
        dates = default_cuts(first, last, seconds, cuts)
        if not dates:
            fail(f"--events `{events}`: the history is too short for a {horizon} horizon after its first third; "
                 "give --at dates or a shorter --horizon")
    result = _replaying(lambda: run_backtest(checked, events, cuts=dates, horizon=seconds, runs=runs, seed=seed,
                                             by=by, min_deals=min_deals, csv_map=mapping, workers=workers,
                                             bootstrap=bootstrap, drift=drift))
    data = result.to_json()
    write_output(dump_json(data) if fmt == "json" else render_backtest_text(data), output)
    raise SystemExit(EXIT_OK)



def forecast_report_options(function):
    """`funnel simulate --report FORMAT --forecast MODEL`: the report carries the forecast of the open deals."""
    for option in reversed([
            click.option("--forecast", "forecast_model", type=click.Path(dir_okay=False), metavar="MODEL",
                         help="With --report: add the forecast of the deals open at the end of the replay, on this "
                              "fitted behaviour (`funnel fit`), to the report (html: a section with its charts)."),
            click.option("--horizon", "forecast_horizon", default="90d", show_default=True, metavar="DURATION",
                         help="With --forecast: how far ahead (`90d`, `13w`)."),
            click.option("--runs", "forecast_runs", type=click.IntRange(min=1, max=1_000_000), default=2_000,
                         show_default=True, help="With --forecast: runs of the forecast."),
            click.option("--seed", "forecast_seed", type=int, default=0, show_default=True,
                         help="With --forecast: the same seed gives the same figures.")]):
        function = option(function)
    return function


def forecast_request(options: dict, report_fmt: str | None) -> tuple | None:
    """(model, horizon seconds, runs, seed) from simulate's --forecast options; None without --forecast."""
    path = options.get("forecast_model")
    if path is None:
        given = [name for name, default in (("--horizon", "90d"), ("--runs", 2_000), ("--seed", 0))
                 if options.get("forecast_" + name[2:]) != default]
        if given:
            fail(f"{', '.join(given)} shape the forecast: use them with --forecast MODEL")
        return None
    if not report_fmt:
        fail("--forecast adds the forecast to the report: use it with --report html, text or json")
    if report_fmt == "csv":
        fail("--forecast: a csv report cannot carry the forecast; use --report html, text or json")
    seconds = parse_horizon(options["forecast_horizon"])
    return read_model(path, "--forecast"), seconds, options["forecast_runs"], options["forecast_seed"]


def report_with_forecast(report: str, fmt: str, request: tuple, spec, result) -> str:
    """The report with the forecast of the replay's open deals added (engine/report/forecast_html.with_forecast)."""
    from ..engine.compile import compile_spec
    from ..engine.forecast.forward import forecast_open
    from ..engine.forecast.pipeline import unfitted_notes
    from ..engine.report.forecast_html import with_forecast

    model, horizon, runs, seed = request
    compiled = compile_spec(spec)
    cut = result.until if result.until is not None else model.end
    forecast = forecast_open(compiled, model, list(result.outcomes), cut, horizon, spec=spec.path, runs=runs,
                             seed=seed, notes=model.notes + unfitted_notes(compiled, model))
    return with_forecast(report, fmt, forecast.to_json())
