"""Why a condition held or not, in words with the values it saw: "`paid >= budget`: 250000 >= 450000 is false".

Only the explain trace calls this, after the compiled condition has given its
answer: the sub-expressions are evaluated again with engine/evaluate.py (the
reference evaluator) on the deal's state at that moment, so the replay's hot
path never pays for it.
"""
from __future__ import annotations

from ..dsl import ast
from ..dsl.render.expr import expr_text
from .evaluate import ORDERING, Env, evaluate
from .outcome import iso

COMPARISONS = set(ORDERING) | {"==", "!="}


def env_of(deal, now: float, event: dict | None) -> Env:
    """The reference evaluator's view of a replayed deal (engine/deal.py DealState) at `now`."""
    funnel = deal.funnel
    fields = dict(zip(funnel.field_names, deal.fields))
    return Env(fields, funnel.stages[deal.stage].id, now, deal.entered, event, tuple(funnel.model.holidays))


def shown(value, codec=None) -> str:
    """A run-time value as a person reads it: unset, true/false, quoted text, plain numbers, times in ISO 8601."""
    if value is None:
        return "unset"
    if codec is not None:
        written = codec.write(value)
        if isinstance(written, str) and not isinstance(value, str):
            return written
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def _value_text(expr, env: Env, codecs: dict) -> str:
    try:
        value = evaluate(expr, env)
    except Exception as err:          # a failing sub-expression is itself the explanation
        return f"<{type(err).__name__}: {err}>"
    codec = codecs.get(expr.name) if type(expr) is ast.Name else None
    if codec is None and type(expr) is ast.Name and expr.name == "now":
        return iso(value)
    return shown(value, codec)


def _truth(value) -> str:
    return "holds" if value else ("is unset" if value is None else "is false")


def why(expr, env: Env, codecs: dict, wanted: bool = False) -> str:
    """Why `expr` is not `wanted` (by default: why it is false), naming the first part that decides it."""
    kind = type(expr)
    text = f"`{expr_text(expr)}`"
    if kind is ast.Binary and expr.op in ("and", "or"):
        parts = _operands(expr, expr.op)
        if (expr.op == "and") != wanted:
            # and is false / or is true: the first operand that decides it
            for part in parts:
                value = _safe(part, env)
                if bool(value) == wanted:
                    return why(part, env, codecs, wanted)
        return "; ".join(why(part, env, codecs, wanted) for part in parts)
    if kind is ast.Unary and expr.op == "not":
        return f"{text}: " + why(expr.operand, env, codecs, not wanted)
    if kind is ast.Binary and expr.op in COMPARISONS:
        left, right = _value_text(expr.left, env, codecs), _value_text(expr.right, env, codecs)
        return f"{text}: {left} {expr.op} {right} {_truth(_safe(expr, env))}"
    if kind is ast.IsSet:
        return f"{text}: {expr_text(expr.operand)} is {_value_text(expr.operand, env, codecs)}"
    if kind is ast.InList:
        return f"{text}: {_value_text(expr.operand, env, codecs)} {'not in' if expr.negated else 'in'} " \
               f"{_value_text(expr.items, env, codecs)} {_truth(_safe(expr, env))}"
    value = _safe(expr, env)
    if type(value) is bool or value is None:
        return f"{text} {_truth(value)}"
    return f"{text} is {_value_text(expr, env, codecs)}"


def _operands(expr, op: str) -> list:
    """`a and b and c` as [a, b, c] (the parser nests them to the left)."""
    if type(expr) is ast.Binary and expr.op == op:
        return _operands(expr.left, op) + _operands(expr.right, op)
    return [expr]


def _safe(expr, env: Env):
    try:
        return evaluate(expr, env)
    except Exception:
        return None
