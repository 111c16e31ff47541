"""Built-in functions callable from expressions: their types and their implementations.

Run-time values: numbers are int/float, text is str, datetimes and dates are
seconds since the epoch (UTC), durations are seconds, an unset value is None.
A function given None where it needs a value returns None (an unset result).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from ..dsl.types import BOOL, INT, NUMBER, TEXT, Type

DAY = 86400


@dataclass(frozen=True)
class Function:
    name: str
    signature: str
    params: tuple[frozenset[str], ...]     # accepted type families per argument
    variadic: bool                         # the last parameter repeats
    returns: Callable[[list[Type]], Type]
    impl: Callable
    doc: str
    none_safe: bool = False                # impl handles None itself (coalesce)

    def check(self, args: Sequence[Type]) -> tuple[int | None, str] | None:
        """None when the arguments fit, else (argument index or None, message)."""
        lo = len(self.params) - (1 if self.variadic else 0)
        if len(args) < max(lo, 1 if self.variadic else lo) or (not self.variadic and len(args) > len(self.params)):
            return None, f"takes {len(self.params)}{' or more' if self.variadic else ''} argument(s), given {len(args)}"
        for i, arg in enumerate(args):
            accepted = self.params[min(i, len(self.params) - 1)]
            if arg.kind == "any" or "*" in accepted:
                continue
            if arg.family() not in accepted and arg.kind not in accepted:
                wanted = " or ".join(sorted(accepted))
                return i, f"argument {i + 1} must be {wanted}, found `{arg}`"
        return None

    def result(self, args: list[Type]) -> Type:
        return self.returns(args)


FUNCTIONS: dict[str, Function] = {}


def _none_guard(fn):
    def guarded(*args):
        if any(a is None for a in args):
            return None
        return fn(*args)
    return guarded


def define(name, signature, params, returns, doc, variadic=False, none_safe=False):
    def wrap(impl):
        fixed = returns if callable(returns) else (lambda _args, t=returns: t)
        FUNCTIONS[name] = Function(name, signature, tuple(frozenset(p) for p in params), variadic,
                                   fixed, impl if none_safe else _none_guard(impl), doc, none_safe)
        return impl
    return wrap


def _same_as_first(args):
    return args[0] if args else NUMBER


@define("min", "min(a, b, …) -> number", [{"number", "duration", "time"}], _same_as_first,
        "The smallest of its arguments.", variadic=True)
def _min(*args):
    return min(args)


@define("max", "max(a, b, …) -> number", [{"number", "duration", "time"}], _same_as_first,
        "The largest of its arguments.", variadic=True)
def _max(*args):
    return max(args)


@define("abs", "abs(x) -> number", [{"number", "duration"}], _same_as_first, "The absolute value.")
def _abs(x):
    return abs(x)


@define("round", "round(x, digits) -> number", [{"number"}, {"int", "number"}], NUMBER,
        "Rounds half to even to `digits` places (0 when omitted).", variadic=True)
def _round(x, digits=0):
    return round(x, int(digits))


@define("lower", "lower(text) -> text", [{"text"}], TEXT, "The text in lower case.")
def _lower(s):
    return s.lower()


@define("upper", "upper(text) -> text", [{"text"}], TEXT, "The text in upper case.")
def _upper(s):
    return s.upper()


@define("contains", "contains(text, part) -> bool", [{"text"}, {"text"}], BOOL,
        "Whether `part` occurs in the text (case-sensitive).")
def _contains(s, part):
    return part in s


@define("starts_with", "starts_with(text, prefix) -> bool", [{"text"}, {"text"}], BOOL,
        "Whether the text starts with `prefix`.")
def _starts_with(s, prefix):
    return s.startswith(prefix)


@define("length", "length(text) -> int", [{"text"}], INT, "The number of characters.")
def _length(s):
    return len(s)


@define("coalesce", "coalesce(a, b, …) -> value", [{"*"}], lambda a: a[-1] if a else NUMBER,
        "The first argument that is set.", variadic=True, none_safe=True)
def _coalesce(*args):
    for a in args:
        if a is not None:
            return a
    return None


@define("days_between", "days_between(from, to) -> number", [{"time"}, {"time"}], NUMBER,
        "Whole and fractional days from `from` to `to` (negative when `to` is earlier).")
def _days_between(a, b):
    return (b - a) / DAY
