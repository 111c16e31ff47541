"""Built-in functions callable from expressions: their types and their implementations.

Run-time values: numbers are int/float, text is str, datetimes and dates are
seconds since the epoch (UTC), durations are seconds, an unset value is None.
A function given None where it needs a value returns None (an unset result),
except `coalesce`, whose purpose is to handle None.

Type checking (dsl/types.py) calls `Function.check(arg_types, arg_exprs)`,
which answers with an `ArgumentProblem` pointing at the argument that does not
fit, and `Function.result(arg_types)` for the call's type. Arguments written
as literals are validated there too: a time zone must exist, a pattern must
compile, a number of digits must be whole.

Calling convention for the engine: `fn.impl(*args)`; when `fn.needs_holidays`
the funnel's holidays go in as a keyword, `fn.impl(*args, holidays=frozenset
of ISO dates)`. `bound_impl(fn, funnel.holidays)` gives that callable, and
`bind_functions(holidays)` all of them by name.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

from . import dates
from ..dsl.types import BOOL, DATETIME, INT, NUMBER, TEXT, Type

DAY = dates.DAY

FAMILY_WORDS = {"number": "a number", "text": "text", "time": "a date or datetime", "duration": "a duration",
                "bool": "true or false", "int": "a whole number"}


class ArgumentProblem(NamedTuple):
    """What is wrong with a call: the argument's index (None: the call as a whole), a message, a hint."""

    index: int | None
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class Param:
    name: str
    accepts: frozenset[str]        # type families (number, text, time, duration, bool) or kinds; "*" anything
    optional: bool = False         # may be left out; only trailing parameters are optional
    literal: Callable[[object], ArgumentProblem | None] | None = None   # validates a literal argument

    def fits(self, arg: Type) -> bool:
        return arg.kind == "any" or "*" in self.accepts or arg.family() in self.accepts or arg.kind in self.accepts

    def describe(self) -> str:
        words = [FAMILY_WORDS.get(a, a) for a in sorted(self.accepts)]
        return " or ".join(words)


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[Param, ...]
    returns: Callable[[list[Type]], Type]
    result_text: str
    impl: Callable
    doc: str
    example: str                   # an expression, type-checked by the tests against EXAMPLE_FIELDS
    variadic: bool = False         # the last parameter repeats (at least once)
    same_family: bool = False      # every argument of the same family as the first (min, max, coalesce)
    none_safe: bool = False        # impl handles None itself (coalesce)
    needs_holidays: bool = False   # impl takes `holidays=` (see the module docstring)

    @property
    def signature(self) -> str:
        parts = [p.name + ("?" if p.optional else "") for p in self.params]
        if self.variadic:
            parts.append("…")
        return f"{self.name}({', '.join(parts)}) -> {self.result_text}"

    def arity(self) -> tuple[int, int | None]:
        required = sum(1 for p in self.params if not p.optional)
        return required, None if self.variadic else len(self.params)

    def check(self, args: Sequence[Type], exprs: Sequence | None = None) -> ArgumentProblem | None:
        """None when the arguments fit; else what is wrong and with which argument."""
        low, high = self.arity()
        if len(args) < low or (high is not None and len(args) > high):
            expected = f"{low} or more" if high is None else str(low) if low == high else f"{low} to {high}"
            index = high if high is not None and len(args) > high else None
            return ArgumentProblem(index, f"takes {expected} argument{'s' if expected != '1' else ''}, "
                                          f"given {len(args)}")
        for i, arg in enumerate(args):
            param = self.params[min(i, len(self.params) - 1)]
            if not param.fits(arg):
                return ArgumentProblem(i, f"`{param.name}` must be {param.describe()}, found `{arg}`")
            if self.same_family and i and not _same_family(args[0], arg):
                return ArgumentProblem(i, f"argument {i + 1} is `{arg}`, but the first is `{args[0]}`",
                                       "every argument must be of the same kind")
            if param.literal is not None and exprs is not None and i < len(exprs):
                value = _literal(exprs[i])
                if value is not None:
                    problem = param.literal(value)
                    if problem is not None:
                        return problem._replace(index=i)
        return None

    def result(self, args: list[Type]) -> Type:
        found = self.returns(args)
        if self.none_safe:
            return found
        optional = any(a.optional or a.kind == "null" for a in args)
        return Type(found.kind, found.options, optional, found.element)


def _same_family(a: Type, b: Type) -> bool:
    return "any" in (a.kind, b.kind) or "null" in (a.kind, b.kind) or a.family() == b.family()


def _literal(expr):
    """The value of a literal argument, or None when the argument is computed."""
    from ..dsl import ast

    if isinstance(expr, ast.Literal):
        return expr.value
    if isinstance(expr, ast.Unary) and expr.op == "-" and isinstance(expr.operand, ast.Literal):
        value = expr.operand.value
        return -value if isinstance(value, (int, float)) else None
    return None


FUNCTIONS: dict[str, Function] = {}


def _none_guard(fn):
    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        if any(a is None for a in args):
            return None
        return fn(*args, **kwargs)
    return guarded


def define(name: str, params: list[Param], returns, result_text: str, example: str, **flags):
    """Register a built-in; the decorated function's docstring is its documentation."""
    def wrap(impl):
        fixed = returns if callable(returns) else (lambda _args, t=returns: t)
        safe = impl if flags.get("none_safe") else _none_guard(impl)
        FUNCTIONS[name] = Function(name, tuple(params), fixed, result_text, safe,
                                   " ".join((impl.__doc__ or "").split()), example, **flags)
        return impl
    return wrap


def bound_impl(fn: Function, holidays: Sequence[str] = ()) -> Callable:
    """The function's implementation for a funnel with these holidays (ISO dates)."""
    return functools.partial(fn.impl, holidays=frozenset(holidays)) if fn.needs_holidays else fn.impl


def bind_functions(holidays: Sequence[str] = ()) -> dict[str, Callable]:
    """Callables by name for one funnel: those that need holidays get the funnel's."""
    return {name: bound_impl(fn, holidays) for name, fn in FUNCTIONS.items()}


def P(name: str, *accepts: str, optional: bool = False, literal=None) -> Param:
    return Param(name, frozenset(accepts), optional, literal)


# Literal validators -------------------------------------------------------------

def _valid_zone(value) -> ArgumentProblem | None:
    if not isinstance(value, str):
        return None
    try:
        dates.zone_named(value)
    except dates.ZoneError:
        from ..dsl.spelling import did_you_mean

        hint = did_you_mean(value, dates.zone_names()) or 'use an IANA name such as "Europe/Moscow" or "UTC"'
        return ArgumentProblem(None, f"unknown time zone `{value}`", hint)
    return None


def _valid_pattern(value) -> ArgumentProblem | None:
    if not isinstance(value, str):
        return None
    try:
        _pattern(value)
    except re.error as err:
        hint = "patterns are Python regular expressions; inside a string, `\\\\` stands for one backslash"
        return ArgumentProblem(None, f"`{value}` is not a valid pattern: {err}", hint)
    return None


def _whole(value) -> ArgumentProblem | None:
    if isinstance(value, (int, float)) and value != int(value):
        return ArgumentProblem(None, f"`{value}` is not a whole number")
    return None


def _digits(value) -> ArgumentProblem | None:
    problem = _whole(value)
    if problem is None and isinstance(value, (int, float)) and not 0 <= value <= 12:
        return ArgumentProblem(None, f"`{value}` digits: round to between 0 and 12 places")
    return problem


@functools.lru_cache(maxsize=512)
def _pattern(text: str) -> re.Pattern:
    return re.compile(text)


ZONE = P("zone", "text", optional=True, literal=_valid_zone)


def _like_first(args: list[Type]) -> Type:
    """The common type of same-family arguments: the first's kind, money if any is money."""
    known = [a for a in args if a.kind not in ("any", "null")]
    if not known:
        return NUMBER
    kinds = {a.kind for a in known}
    first = known[0]
    if len(kinds) == 1:
        return first.required
    if first.family() == "number":
        return Type("money") if "money" in kinds else NUMBER
    if first.family() == "time":
        return DATETIME
    return first.required if first.family() != "text" else TEXT


# Numbers ------------------------------------------------------------------------

@define("min", [P("a", "number", "duration", "time"), P("b", "number", "duration", "time")], _like_first,
        "same as the arguments", "min(discount, 15%)", variadic=True, same_family=True)
def _min(*args):
    """The smallest of its arguments (numbers, durations or dates, all of one kind)."""
    return min(args)


@define("max", [P("a", "number", "duration", "time"), P("b", "number", "duration", "time")], _like_first,
        "same as the arguments", "max(budget, paid)", variadic=True, same_family=True)
def _max(*args):
    """The largest of its arguments (numbers, durations or dates, all of one kind)."""
    return max(args)


@define("abs", [P("x", "number", "duration")], lambda a: a[0].required, "same as x", "abs(budget - paid)")
def _abs(x):
    """The absolute value of a number or duration."""
    return abs(x)


@define("round", [P("x", "number"), P("digits", "number", optional=True, literal=_digits)],
        lambda a: a[0].required if a[0].kind in ("money", "int") else NUMBER, "number", "round(budget * 0.15, 2)")
def _round(x, digits=0):
    """Rounds half to even to `digits` decimal places (0 when left out)."""
    if digits != int(digits):
        raise ValueError(f"round: `{digits}` digits is not a whole number")
    return round(x, int(digits)) if digits else round(x)


# Text ---------------------------------------------------------------------------

@define("lower", [P("text", "text")], TEXT, "text", 'lower(manager) == "иванова"')
def _lower(s):
    """The text in lower case (Unicode-aware: `ИВАНОВА` becomes `иванова`)."""
    return s.lower()


@define("upper", [P("text", "text")], TEXT, "text", 'upper(segment) == "B2B"')
def _upper(s):
    """The text in upper case."""
    return s.upper()


@define("contains", [P("text", "text"), P("part", "text")], BOOL, "bool", 'contains(company, "ООО")')
def _contains(s, part):
    """Whether `part` occurs in the text (case-sensitive; wrap both in `lower` to ignore case)."""
    return part in s


@define("starts_with", [P("text", "text"), P("prefix", "text")], BOOL, "bool", 'starts_with(phone, "+7")')
def _starts_with(s, prefix):
    """Whether the text starts with `prefix`."""
    return s.startswith(prefix)


@define("ends_with", [P("text", "text"), P("suffix", "text")], BOOL, "bool", 'ends_with(email, ".ru")')
def _ends_with(s, suffix):
    """Whether the text ends with `suffix`."""
    return s.endswith(suffix)


@define("matches", [P("text", "text"), P("pattern", "text", literal=_valid_pattern)], BOOL, "bool",
        r'matches(phone, "^\\+7\\d{10}$")')
def _matches(s, pattern):
    """Whether a regular expression matches anywhere in the text (Python `re.search`; anchor with `^…$`).

    A pattern written as a literal is checked before anything runs.
    """
    try:
        return _pattern(pattern).search(s) is not None
    except re.error as err:
        raise ValueError(f"matches: `{pattern}` is not a valid pattern: {err}") from None


@define("length", [P("text", "text")], INT, "int", "length(comment) > 0")
def _length(s):
    """The number of characters (code points, so `Иванова` has 7)."""
    return len(s)


# Optional values ----------------------------------------------------------------

def _coalesce_type(args: list[Type]) -> Type:
    found = _like_first(args)
    optional = all(a.optional or a.kind == "null" for a in args if a.kind != "any")
    return Type(found.kind, found.options, optional, found.element)


@define("coalesce", [P("a", "*"), P("b", "*")], _coalesce_type, "the arguments' type",
        "coalesce(meeting_at, created_at)", variadic=True, same_family=True, none_safe=True)
def _coalesce(*args):
    """The first argument that is set; unset only when every argument is unset."""
    for a in args:
        if a is not None:
            return a
    return None


# Dates and times ----------------------------------------------------------------

@define("days_between", [P("from", "time"), P("to", "time")], NUMBER, "number",
        "days_between(created_at, now) > 30")
def _days_between(a, b):
    """Days from `from` to `to`, with the fraction (negative when `to` is earlier); 36 hours is 1.5."""
    return (b - a) / DAY


@define("business_days_between", [P("from", "time"), P("to", "time"), ZONE], INT, "int",
        'business_days_between(created_at, now, "Europe/Moscow") >= 3', needs_holidays=True)
def _business_days_between(a, b, zone=None, *, holidays=frozenset()):
    """Working days (Monday to Friday, not in the funnel's `holidays`) from `from`'s date, counted, to
    `to`'s date, not counted, in `zone` (UTC when left out); negative when `to` is earlier.
    """
    return dates.business_days_between(a, b, zone, holidays=holidays)


@define("add_business_days", [P("time", "time"), P("days", "number", literal=_whole), ZONE], DATETIME,
        "datetime", "add_business_days(now, 2)", needs_holidays=True)
def _add_business_days(t, n, zone=None, *, holidays=frozenset()):
    """The same local time `days` working days later (earlier when negative), skipping weekends and the
    funnel's `holidays`; a start on a day off first rolls to the nearest working day.
    """
    if n != int(n):
        raise ValueError(f"add_business_days: `{n}` is not a whole number of days")
    return dates.add_business_days(t, int(n), zone, holidays=holidays)


@define("start_of_day", [P("time", "time"), ZONE], DATETIME, "datetime",
        'start_of_day(meeting_at, "Europe/Moscow")')
def _start_of_day(t, zone=None):
    """Local midnight of the instant's day in `zone` (UTC when left out)."""
    return dates.start_of_day(t, zone)


@define("start_of_week", [P("time", "time"), ZONE], DATETIME, "datetime",
        'start_of_week(now, "Asia/Yekaterinburg")')
def _start_of_week(t, zone=None):
    """Local midnight of the Monday of the instant's week in `zone`."""
    return dates.start_of_week(t, zone)


@define("start_of_month", [P("time", "time"), ZONE], DATETIME, "datetime", "start_of_month(now)")
def _start_of_month(t, zone=None):
    """Local midnight of the first day of the instant's month in `zone`."""
    return dates.start_of_month(t, zone)


@define("weekday", [P("time", "time"), ZONE], INT, "int", 'weekday(now, "Europe/Moscow") <= 5')
def _weekday(t, zone=None):
    """The day of the week in `zone`: 1 is Monday, 7 is Sunday."""
    return dates.weekday(t, zone)


EXAMPLE_FIELDS = {
    # The fields the examples above are written against (docs/language.md declares the same).
    "budget": "money", "paid": "money", "discount": "percent", "manager": "text", "segment": "text",
    "company": "text", "phone": "text", "email": "text", "comment": "text",
    "created_at": "datetime", "meeting_at": "datetime?",
}
