"""How figures read to people, the same in every human format: percents, durations, money, dates."""
from __future__ import annotations

from ...stdlib.dates import local

DAY = 86400.0
NONE = "—"


def percent(share: float | None, digits: int = 1) -> str:
    return NONE if share is None else f"{share * 100:.{digits}f} %"


def points(delta: float | None) -> str:
    """A difference of two shares, in percentage points, signed."""
    return NONE if delta is None else f"{delta * 100:+.1f} pp"


def duration(seconds: float | None) -> str:
    """Days past a day (1 decimal under 10 days), else hours, else minutes."""
    if seconds is None:
        return NONE
    if seconds >= DAY:
        days = seconds / DAY
        return f"{days:.1f} d" if days < 10 else f"{days:.0f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.0f} min"


def grouped(number: float, digits: int = 0) -> str:
    """Thousands separated by spaces, as Russian and most European readers write them."""
    if isinstance(number, int) and not digits:      # exact, and no OverflowError past 1e308 (a hostile result)
        return f"{number:,}".replace(",", " ")
    return f"{number:,.{digits}f}".replace(",", " ")


def money(amount: float | None, currency: str | None = None, digits: int = 0) -> str:
    if amount is None:
        return NONE
    text = grouped(amount, digits)
    return f"{text} {currency}" if currency else text


def count(value: int | None) -> str:
    return NONE if value is None else grouped(value)


def date(ts: float | None, zone: str | None = None) -> str:
    """An instant as the local date (at local midnight) or date and time of the IANA `zone`, named (None: UTC)."""
    if ts is None:
        return NONE
    stamp = local(ts, zone)
    if not (stamp.hour or stamp.minute):
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%Y-%m-%d %H:%M ") + (zone or "UTC")


def probability(value: float | None) -> str:
    return NONE if value is None else f"{value * 100:.0f} %"
