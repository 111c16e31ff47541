"""Creation cohorts: a deal's week, month or quarter of creation, as a group to measure apart (`--cohort`).

A cohort is a group key like any `--by` field, named `cohort:PERIOD` (a name
no field can have); its value is a label that sorts in time order: ISO week
`2026-W09`, month `2026-03`, quarter `2026-Q1`. Periods are cut at local
midnight of the funnel's time zone (`timezone` in the spec, or `--tz`), UTC
when it has none.
"""
from __future__ import annotations

from ..lang import N_, _, pgettext
from ..stdlib.dates import local

PERIODS = ("week", "month", "quarter")
PREFIX = "cohort:"


def cohort_name(period: str) -> str:
    """The group name of a cohort period: `cohort:month`."""
    if period not in PERIODS:
        raise ValueError(f"cohort period `{period}` is not one of: {', '.join(PERIODS)}")
    return PREFIX + period


def cohort_period(name: str) -> str | None:
    """The period of a cohort group name, None for a field's name."""
    period = name[len(PREFIX):] if name.startswith(PREFIX) else None
    return period if period in PERIODS else None


def cohort_label(created: float, period: str, zone: str | None = None) -> str:
    """The cohort a deal created at `created` (epoch seconds) belongs to, in the IANA `zone` (None: UTC)."""
    day = local(created, zone).date()
    if period == "week":
        year, week, _day = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


# a cohort's name in a heading ("By month created"), marked for the catalogue
COHORT_WORDS = {"week": N_("week created"), "month": N_("month created"), "quarter": N_("quarter created")}


def period_word(period: str) -> str:
    """`week`, `month` or `quarter` after "by" ("Trend by month"), in the language in use (ru: "по месяцам")."""
    words = {"week": pgettext("by", "week"), "month": pgettext("by", "month"), "quarter": pgettext("by", "quarter")}
    return words.get(period, period)


def title_of(name: str) -> str:
    """How a group name reads in a heading: `manager`, `month created`."""
    period = cohort_period(name)
    return _(COHORT_WORDS[period]) if period else name
