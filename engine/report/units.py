"""How figures read to people, the same in every human format: percents, durations, money, dates.

English keeps the house style (thousands grouped by spaces, ISO dates);
every other language follows its CLDR locale through babel (Russian:
`1 234,5`, `12,3 %`, `01.03.2024`, with no-break spaces as CLDR writes them).
"""
from __future__ import annotations

import re

from ...lang import DEFAULT, _, current
from ...stdlib.dates import local

DAY = 86400.0
NONE = "—"


def _decimal(number: float, digits: int, signed: bool = False) -> str:
    """`number` with `digits` decimals, grouped, in the CLDR form of the language in use (not English)."""
    from babel.numbers import format_decimal

    body = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(number, format=f"+{body};-{body}" if signed else body, locale=current())


def percent(share: float | None, digits: int = 1) -> str:
    if share is None:
        return NONE
    if current() == DEFAULT:
        return f"{share * 100:.{digits}f} %"
    from babel import Locale
    from babel.numbers import format_percent

    pattern = Locale.parse(current()).percent_formats[None].pattern      # ru: `#,##0 %`, a no-break space
    if digits:
        pattern = re.sub(r"0(?=[^0#,.]*$)", "0." + "0" * digits, pattern, count=1)
    return format_percent(share, format=pattern, locale=current())


def points(delta: float | None) -> str:
    """A difference of two shares, in percentage points, signed."""
    if delta is None:
        return NONE
    number = f"{delta * 100:+.1f}" if current() == DEFAULT else _decimal(delta * 100, 1, signed=True)
    return _("{number} pp").format(number=number)


def _fixed(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if current() == DEFAULT else _decimal(value, digits)


def duration(seconds: float | None) -> str:
    """Days past a day (1 decimal under 10 days), else hours, else minutes."""
    if seconds is None:
        return NONE
    if seconds >= DAY:
        days = seconds / DAY
        return _("{days} d").format(days=_fixed(days, 1 if days < 10 else 0))
    if seconds >= 3600:
        return _("{hours} h").format(hours=_fixed(seconds / 3600, 1))
    return _("{minutes} min").format(minutes=_fixed(seconds / 60, 0))


def grouped(number: float, digits: int = 0) -> str:
    """Thousands separated by spaces, as Russian and most European readers write them."""
    if current() != DEFAULT:
        return _decimal(number, digits)
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
    if current() == DEFAULT:
        day, clock = stamp.strftime("%Y-%m-%d"), stamp.strftime("%H:%M")
    else:
        from babel.dates import format_date

        day, clock = format_date(stamp.date(), "short", locale=current()), stamp.strftime("%H:%M")
    if not (stamp.hour or stamp.minute):
        return day
    return f"{day} {clock} {zone or 'UTC'}"


def short(value: float) -> str:
    """A number as short as it reads exactly (`%g`): an axis tick."""
    if current() == DEFAULT:
        return f"{value:g}"
    from babel.numbers import format_decimal

    return format_decimal(value, locale=current())


def probability(value: float | None) -> str:
    return NONE if value is None else percent(value, 0)
