"""Field values in and out: stream values checked and converted per field type, and back to JSON.

Run-time values (see stdlib/functions.py): numbers int/float, text str,
bool, datetimes and dates as seconds since the epoch (UTC), durations as
seconds, unset as None. A JSON stream must give each type its JSON form
(money a number, a datetime an ISO 8601 string or epoch seconds, a
duration seconds or text such as "3d"); CSV cells are text, so the lenient
mode also reads numbers, booleans and durations written as text.
"""
from __future__ import annotations

import datetime as dt
import json
import re

from ..dsl.limits import MAX_NESTING, NUMBER_DIGITS, NUMBER_LIMIT, nesting_exceeds
from ..dsl.types import Type
from .outcome import iso

UTC = dt.timezone.utc
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION_TEXT = re.compile(r"^\s*(\d[\d_]*(?:\.\d+)?)\s*([smhdw])\s*$")
TRUE_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


# Every time a replay takes (event times, date fields, --until, sample's start) lies in these years.
# Outside them a date cannot always be written back (year 10000, time_t), and one far-off time would
# make a repeating timer fire for millennia; docs/limits.md states the range.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
EARLIEST = dt.datetime(EARLIEST_YEAR, 1, 1, tzinfo=UTC).timestamp()
END = dt.datetime(LATEST_YEAR + 1, 1, 1, tzinfo=UTC).timestamp()     # exclusive
TIME_RANGE = f"{EARLIEST_YEAR}-01-01 to {LATEST_YEAR}-12-31 (UTC)"


class BadValue(ValueError):
    """A value that does not fit its field; the message names what was expected."""


class OutOfRange(ValueError):
    """A well-formed time outside the years a replay takes; the message says which."""


def in_range(ts) -> float:
    """`ts` (epoch seconds) as a float when it lies in the supported years; raises OutOfRange."""
    if not EARLIEST <= ts < END:        # NaN fails this too
        raise OutOfRange(f"outside the supported time range {TIME_RANGE}")
    return float(ts)


def parse_time(text: str) -> float:
    """An ISO 8601 date or date-time as epoch seconds; no offset means UTC. Raises ValueError
    (OutOfRange for a time outside the supported years).

    Not cached: an event stream's times are nearly all distinct, and a cache
    cost more per event (its lookup, insert and upkeep) than it saved."""
    stamp = dt.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    try:
        return in_range(stamp.timestamp())
    except OverflowError:           # year 1 with a positive offset falls before year 1
        raise OutOfRange(f"outside the supported time range {TIME_RANGE}") from None


def shown(value) -> str:
    """A value as the stream wrote it, for messages (JSON, shortened)."""
    if nesting_exceeds(value):
        return f"a value nested more than {MAX_NESTING} levels deep"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


def _number(value, lenient: bool):
    kind = type(value)
    if kind is int or kind is float:
        return value
    if lenient and kind is str:
        text = value.strip().replace("_", "").replace(",", "")
        try:
            return int(text)
        except ValueError:
            return float(text)
    raise ValueError


def _int(value, lenient: bool):
    number = _number(value, lenient)
    if type(number) is float:
        if not number.is_integer():
            raise ValueError
        return int(number)
    return number


def _text(value, lenient: bool):
    if type(value) is str:
        return value
    raise ValueError


def _bool(value, lenient: bool):
    if type(value) is bool:
        return value
    if lenient and type(value) is str and value.strip().lower() in TRUE_WORDS:
        return TRUE_WORDS[value.strip().lower()]
    raise ValueError


def _time(value, lenient: bool):
    kind = type(value)
    if kind is str:
        return parse_time(value.strip())
    if kind is int or kind is float:
        return in_range(value)
    raise ValueError


def _duration(value, lenient: bool):
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is str:
        match = DURATION_TEXT.match(value)
        if match:
            amount = float(match.group(1).replace("_", "")) * DURATION_UNITS[match.group(2)]
            return int(amount) if amount.is_integer() else amount
        if lenient:
            return _number(value, lenient)
    raise ValueError


READERS = {
    "money": _number, "number": _number, "percent": _number, "int": _int, "text": _text,
    "bool": _bool, "datetime": _time, "date": _time, "duration": _duration,
}
EXPECTED = {
    "money": "money", "number": "a number", "percent": "a number (a fraction: 0.25 is 25%)",
    "int": "a whole number", "text": "text", "bool": "true or false",
    "datetime": "a date and time (ISO 8601)", "date": "a date (ISO 8601)", "duration": "a duration (seconds or \"3d\")",
}


AS_IS = {      # the JSON types each kind takes unchanged (a bool is no number): read without a call
    "money": frozenset((int, float)), "number": frozenset((int, float)), "percent": frozenset((int, float)),
    "duration": frozenset((int, float)), "int": frozenset((int,)), "text": frozenset((str,)),
    "bool": frozenset((bool,)), "datetime": frozenset(), "date": frozenset(),
}


class FieldCodec:
    """Reads a stream value for one field (or event datum), and writes the run-time value as JSON."""

    __slots__ = ("name", "type", "kind", "optional", "options", "_read", "_as_is")

    def __init__(self, name: str, ftype: Type):
        self.name = name
        self.type = ftype
        self.kind = ftype.kind
        self.optional = ftype.optional
        self.options = frozenset(ftype.options) if ftype.kind == "enum" else None
        self._read = READERS.get(ftype.kind, _text)
        self._as_is = frozenset() if self.options is not None else AS_IS.get(ftype.kind, AS_IS["text"])

    def read(self, value, lenient: bool = False):
        """The run-time value of `value`; raises BadValue with a message naming the field."""
        kind = type(value)
        if kind in self._as_is:
            if (kind is not float and kind is not int) or -NUMBER_LIMIT < value < NUMBER_LIMIT:
                return value
            raise BadValue(self._out_of_range(value, value))
        if value is None:
            if self.optional:
                return None
            raise BadValue(f'field "{self.name}" cannot be unset (its type `{self.type}` is not optional)')
        if self.options is not None:
            if type(value) is str and value in self.options:
                return value
            choices = ", ".join(f'"{o}"' for o in self.type.options)
            raise BadValue(f'field "{self.name}" must be one of {choices}, got {shown(value)}')
        try:
            read = self._read(value, lenient)
            if (type(read) is float or type(read) is int) and not -NUMBER_LIMIT < read < NUMBER_LIMIT:
                raise BadValue(self._out_of_range(read, value))
            return read
        except BadValue:
            raise
        except OutOfRange as err:
            raise BadValue(f'field "{self.name}" is {shown(value)}, {err}') from None
        except (ValueError, TypeError, OverflowError):
            raise BadValue(f'field "{self.name}" must be {EXPECTED.get(self.kind, self.kind)}, '
                           f'got {shown(value)}') from None

    def _out_of_range(self, number, value) -> str:
        """Why `number` (read from `value`) is refused: not finite, or past NUMBER_LIMIT."""
        if number - number != 0:           # NaN and ±infinity give NaN
            return f'field "{self.name}" must be a finite number, got {shown(value)}'
        return (f'field "{self.name}" is {shown(value)}, too large: a number has at most {NUMBER_DIGITS} digits '
                f'in its whole part')

    def write(self, value):
        """The JSON form of a run-time value of this field."""
        if value is None:
            return None
        if self.kind == "datetime":
            return iso(value)
        if self.kind == "date":
            return dt.datetime.fromtimestamp(value, UTC).date().isoformat()
        return value


def json_value(value, kind: str | None):
    """The JSON form of a run-time value whose type kind is known (None: as it is)."""
    if value is None or kind is None:
        return value
    if kind in ("datetime", "date"):
        return iso(value)
    return value
