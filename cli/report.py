"""`funnel report RESULT.json`: the metrics, groups and diagnosis of a saved simulate result."""
from __future__ import annotations

import os

import click

from . import main
from .common import fail, use_color
from .outputs import check_outputs, write_output
from ..lang import LANGUAGES

REPORT_FORMATS = ("text", "json", "csv", "html")


def parse_by(values: tuple[str, ...]) -> tuple[str, ...]:
    """`--by manager --by source,region` -> ("manager", "source", "region"), in order, without repeats."""
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return tuple(names)


def by_option(function):
    return click.option("--by", "by", multiple=True, metavar="FIELD[,FIELD]",
                        help="Group the metrics by these deal fields (repeat or separate with commas); "
                             "each group is set against the whole.")(function)


def cohort_option(function):
    return click.option("--cohort", type=click.Choice(["week", "month", "quarter"]),
                        help="Group the metrics by the week, month or quarter deals were created in (local to "
                             "--tz), after any --by fields; cohorts are listed in time order.")(function)


def group_names(by: tuple[str, ...], cohort: str | None) -> tuple[str, ...]:
    """The `--by` fields, then the creation cohort's group name."""
    from ..engine.cohorts import cohort_name

    return parse_by(by) + ((cohort_name(cohort),) if cohort else ())


def trend_option(function):
    return click.option("--trend", type=click.Choice(["week", "month", "quarter"]),
                        help="Also report win rate, won value and cycle time per period deals closed in, and each "
                             "stage's conversion per period deals entered it in (local to --tz).")(function)


def since_option(function):
    return click.option("--since", metavar="TIME",
                        help="Measure only the deals created at or after TIME (ISO 8601; a date, or a time without "
                             "an offset, is local to --tz).")(function)


def tz_option(function):
    return click.option("--tz", metavar="ZONE",
                        help="Show times, and cut days, weeks and months (--cohort, --trend, --since), in this IANA "
                             "time zone, e.g. Europe/Moscow [default: the spec's `timezone`, else UTC].")(function)


def report_zone(tz: str | None, shapes) -> str | None:
    """--tz, checked (exits 2 with a did-you-mean), else the first funnel's `timezone`, else None (UTC)."""
    from ..dsl.spelling import did_you_mean
    from ..stdlib import dates

    if tz is None:
        return next((s.timezone for s in shapes if s.timezone), None)
    try:
        dates.zone_named(tz)
    except dates.ZoneError:
        fail(f"--tz: unknown time zone `{tz}`; "
             + (did_you_mean(tz, dates.zone_names()) or "use an IANA name such as Europe/Moscow or UTC"))
    return tz


def window_time(option: str, value: str | None, zone: str | None = None) -> float | None:
    """A --since or --until value as epoch seconds, a date or a time without offset read in the IANA `zone`
    (None: UTC); exits 2 naming a bad one, or one outside the supported years."""
    import datetime as dt

    from ..engine.values import TIME_RANGE, OutOfRange, in_range
    from ..stdlib.dates import zone_named

    if value is None:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option}: `{value}` is not an ISO 8601 date or date and time")
    try:
        # the years a replay takes, as --until on simulate says: a window outside them is a typo
        return in_range((stamp if stamp.tzinfo else stamp.replace(tzinfo=zone_named(zone))).timestamp())
    except (OutOfRange, OverflowError):
        fail(f"{option}: `{value}` is outside the supported time range {TIME_RANGE}")


def report_language(lang: str | None, *specs) -> str:
    """--lang, else the `language` of the first funnel that names one (the specs in the order given), else English."""
    from ..lang import DEFAULT

    if lang is not None:
        return lang
    return next((f.language for spec in specs for f in spec.funnels if f.language), DEFAULT)


def lang_option(function):
    return click.option("--lang", type=click.Choice(LANGUAGES),
                        help="The language of the text and HTML report's words, numbers and dates [default: the "
                             "spec's `language`, else en]; JSON and CSV read the same in every language.")(function)


def threshold_option(function):
    return click.option("--threshold", "thresholds", multiple=True, metavar="NAME=VALUE",
                        help="Override a diagnosis threshold, e.g. first-stage-drop=0.6 "
                             "(defaults and [tool.funnel.diagnosis]: docs/metrics.md).")(function)


def diagnosis_thresholds(pairs: tuple[str, ...], directory: str = "."):
    """Defaults < pyproject.toml [tool.funnel.diagnosis] < --threshold; exits 2 naming a bad one."""
    from ..engine.diagnosis import load_thresholds, parse_overrides

    try:
        return load_thresholds(directory, parse_overrides(pairs))
    except ValueError as err:
        fail(str(err))


@main.command()
@click.argument("result", type=click.Path(dir_okay=False, exists=True))
@click.option("--format", "--report", "fmt", type=click.Choice(REPORT_FORMATS), default="text", show_default=True,
              help="Text tables (80 columns), JSON, CSV (long format) or one self-contained HTML file "
                   "(`--report`, the older name, still works).")
@by_option
@cohort_option
@trend_option
@since_option
@click.option("--until", metavar="TIME", help="Measure only the deals created at or before TIME (ISO 8601; a date, "
              "or a time without an offset, is local to --tz); their history after it still counts.")
@tz_option
@lang_option
@threshold_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def report(result: str, fmt: str, by: tuple[str, ...], cohort: str | None, trend: str | None, since: str | None,
           until: str | None, tz: str | None, lang: str | None, thresholds: tuple[str, ...],
           output: str | None) -> None:
    """Report conversion, time in stage, win rate, pipeline and diagnosis from a saved RESULT.

    RESULT is the JSON that `funnel simulate SPEC --events F --format json -o RESULT` wrote.
    """
    from ..engine.report import render
    from ..engine.report.model import build_report
    from ..engine.saved import read_saved_result

    check_outputs([("RESULT", result)], [("-o", output)])
    limits = diagnosis_thresholds(thresholds, os.getcwd())
    try:
        saved = read_saved_result(result)
    except ValueError as err:
        fail(str(err))
    zone = report_zone(tz, saved.shapes)
    window = (window_time("--since", since, zone), window_time("--until", until, zone))
    try:
        built = build_report(list(saved.outcomes), list(saved.shapes), saved.until, group_names(by, cohort), limits,
                             saved.spec, saved.summary, window, trend, zone, saved.snapshot)
    except ValueError as err:
        fail(str(err))
    color = fmt == "text" and output in (None, "-") and use_color()
    write_output(render(built, fmt, color, lang), output)
