"""Calendar arithmetic on run-time instants: time zones, day/week/month starts, working days.

Instants are float seconds since the epoch (UTC), as everywhere at run time.
A zone is an IANA name ("Europe/Moscow"); None means UTC. Local midnights
that fall into a daylight-saving gap resolve to the first instant of that
day (zoneinfo's fold=0 reading of a missing local time is exactly that
instant), and an ambiguous one to its first occurrence.

Working days are Monday to Friday minus the funnel's holidays, given as a
frozenset of ISO dates ("2026-01-01"), as `Funnel.holidays` holds them.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DAY = 86400
MAX_WORKING_DAYS = 100 * 261     # a century of working days: more is a mistake, not a date
UTC = dt.timezone.utc


class ZoneError(ValueError):
    """A time zone name that the IANA database does not know."""


@lru_cache(maxsize=256)
def zone_named(name: str | None) -> dt.tzinfo:
    """The tzinfo for an IANA name (None: UTC); raises ZoneError for an unknown name."""
    if name is None:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ZoneError(f"unknown time zone `{name}`") from None


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def local(ts: float, zone: str | None) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, zone_named(zone))


def _midnight(day: dt.date, zone: str | None) -> float:
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone_named(zone)).timestamp()


def start_of_day(ts: float, zone: str | None = None) -> float:
    return _midnight(local(ts, zone).date(), zone)


def start_of_week(ts: float, zone: str | None = None) -> float:
    day = local(ts, zone).date()
    return _midnight(day - dt.timedelta(days=day.weekday()), zone)


def start_of_month(ts: float, zone: str | None = None) -> float:
    return _midnight(local(ts, zone).date().replace(day=1), zone)


def weekday(ts: float, zone: str | None = None) -> int:
    """ISO weekday of the local date: 1 is Monday, 7 is Sunday."""
    return local(ts, zone).isoweekday()


@lru_cache(maxsize=64)
def _holiday_ordinals(holidays: frozenset[str]) -> tuple[int, ...]:
    """Working-day holidays as sorted date ordinals (weekend holidays change nothing)."""
    days = (dt.date.fromisoformat(h) for h in holidays)
    return tuple(sorted(d.toordinal() for d in days if d.weekday() < 5))


def _weekdays_before(ordinal: int) -> int:
    """How many Mondays-to-Fridays come before the date with this ordinal (from ordinal 1, a Monday)."""
    weeks, rest = divmod(ordinal - 1, 7)
    return weeks * 5 + min(rest, 5)


def _working_days_in(first: int, end: int, holidays: frozenset[str]) -> int:
    """Working days d with first <= d < end (date ordinals)."""
    from bisect import bisect_left

    ordinals = _holiday_ordinals(holidays)
    off = bisect_left(ordinals, end) - bisect_left(ordinals, first)
    return _weekdays_before(end) - _weekdays_before(first) - off


def business_days_between(start: float, end: float, zone: str | None = None,
                          *, holidays: frozenset[str] = frozenset()) -> int:
    """Working days from `start`'s local date (counted) to `end`'s (not counted); negative when earlier."""
    first = local(start, zone).date().toordinal()
    last = local(end, zone).date().toordinal()
    if last >= first:
        return _working_days_in(first, last, holidays)
    return -_working_days_in(last, first, holidays)


def is_working_day(day: dt.date, holidays: frozenset[str]) -> bool:
    return day.weekday() < 5 and day.isoformat() not in holidays


def add_business_days(ts: float, count: int, zone: str | None = None,
                      *, holidays: frozenset[str] = frozenset()) -> float:
    """The same local time `count` working days later (earlier when negative).

    Counting starts from the local date of `ts`; a start on a day off first
    rolls to the nearest working day in the direction of counting, so
    `add_business_days(saturday, 0)` is Monday and `(saturday, -1)` Thursday.
    """
    moment = local(ts, zone)
    day = moment.date()
    step = 1 if count >= 0 else -1
    while not is_working_day(day, holidays):
        day += dt.timedelta(days=step)
    remaining = abs(count)
    if remaining > MAX_WORKING_DAYS:
        raise ValueError(f"{count} working days is more than a century")
    while remaining:
        day += dt.timedelta(days=step)
        if is_working_day(day, holidays):
            remaining -= 1
    wall = dt.datetime.combine(day, moment.time().replace(tzinfo=None), tzinfo=zone_named(zone))
    return wall.timestamp()
