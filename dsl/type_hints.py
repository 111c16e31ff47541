"""What to write instead: the hints of type errors, phrased with the user's own expression.

dsl/types.py finds the mismatch; this module says what would fit, in the
language's words ("compare it, e.g. `sessions > 0`", "a date moves by a
duration: `meeting_at - 1d`"). Each function returns None when it has
nothing better than the message itself.
"""
from __future__ import annotations

from .render.expr import expr_text, short
from .spelling import closest, did_you_mean

NUMBERS = frozenset({"money", "number", "int", "percent"})
TIMES = frozenset({"datetime", "date"})
NULL_WORDS = frozenset({"null", "none", "nil", "undefined", "empty"})


def text_of(expr) -> str:
    return short(expr_text(expr), 40)


def condition_hint(expr, found) -> str | None:
    """A value used where a condition belongs: how to make a condition of it."""
    text = text_of(expr)
    if found.kind in NUMBERS:
        return f"compare it, e.g. `{text} > 0`"
    if found.kind in ("text", "enum", "stage"):
        return f"compare it, e.g. `{text} == \"…\"`"
    if found.kind in TIMES or found.kind == "duration":
        return f"test it, e.g. `{text} is set`, or compare it with `now`"
    return None


def compare_hint(left, a, right, b) -> str | None:
    kinds = {a.kind, b.kind}
    if "bool" in kinds:
        flag = left if a.kind == "bool" else right
        return f"`{text_of(flag)}` is true or false: use it as a condition by itself, or `not {text_of(flag)}`"
    if "duration" in kinds and kinds & NUMBERS:
        return "a duration is written with its unit: `30m`, `12h`, `2d`, `1w`"
    if kinds & TIMES and kinds & NUMBERS:
        return "compare a date with a date, e.g. `now > meeting_at + 1d`"
    if kinds & {"enum"} and kinds & NUMBERS:
        enum = a if a.kind == "enum" else b
        return "the values are " + ", ".join(f'"{o}"' for o in enum.options)
    if kinds & {"text"} and kinds & NUMBERS:
        return "a number in double quotes is text: write the number without quotes, or compare text with text"
    return None


def arithmetic_hint(op: str, a, b, left, right) -> str | None:
    kinds = {a.kind, b.kind}
    if "bool" in kinds and op in "+*":
        return "to require both conditions write `and`; to accept either, `or`"
    if a.kind in TIMES and b.kind in NUMBERS and type(right).__name__ == "Literal":
        return f"a date moves by a duration: `{text_of(left)} {op} {right.text}d`"
    if kinds & TIMES and kinds & NUMBERS:
        return "a date moves by a duration: e.g. `meeting_at - 1d`"
    if a.kind in TIMES and b.kind in TIMES and op == "+":
        return "subtract two dates to get a duration; add a duration to a date"
    if kinds & {"text", "enum"} and kinds & NUMBERS:
        return "text joins only with text"
    return None


def assign_hint(target, value, found) -> str | None:
    """`set FIELD = VALUE` where the value does not fit the field."""
    if found.optional and not target.optional and found.kind == target.kind:
        return f"the value may be unset: declare the field optional (`{target}?`) or use `coalesce(…, default)`"
    if target.kind == "bool":
        return "write `true` or `false`, or a condition"
    if target.kind == "int" and found.kind in NUMBERS:
        return "an `int` field holds whole numbers: declare it `number` to keep fractions"
    if target.kind in TIMES:
        return "a date is a date field, `now`, or a date moved by a duration: `now + 3d`"
    if target.kind in NUMBERS and found.kind in ("text", "enum"):
        return "write the number without quotes"
    if target.kind == "duration" and found.kind in NUMBERS:
        return "a duration is written with its unit: `30m`, `12h`, `2d`, `1w`"
    if target.kind == "text" and found.kind in NUMBERS:
        return "text is written in double quotes"
    return None


def value_hint(value: str, options, name: str | None = None) -> str:
    """An enum value (`name` given) or a stage id that is not one of the options."""
    close = closest(value, options)
    if close:
        return f'did you mean "{close}"?' if name else f"did you mean `{close}`?"
    listed = ", ".join(f'"{o}"' for o in options[:12]) + (", …" if len(options) > 12 else "")
    return f"`{name}` is one of {listed}" if name else f"the values are {listed}"


def names_hint(name: str, known, what: str) -> str | None:
    """Did-you-mean, or the list of known names when it is short enough to read."""
    if name.lower() in NULL_WORDS:
        return "there is no null value: to test a field, write `FIELD is set` or `FIELD is not set`"
    close = did_you_mean(name, known)
    if close:
        return close
    known = list(known)
    if 0 < len(known) <= 12:
        return f"the {what} here: " + ", ".join(f"`{k}`" for k in known)
    return None
