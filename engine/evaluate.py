"""The reference evaluator: walks an expression's tree. Slow and plain on purpose.

engine/compile.py turns expressions into Python functions for the replay's
hot path; a property test checks that both give the same value for the same
expression and deal. The semantics of unset values live here, in one place:

- a field, event datum or function result may be unset (None);
- arithmetic and unary minus with an unset operand give unset;
- `<`, `<=`, `>`, `>=` with an unset operand are false; `==` and `!=`
  compare as they are (unset equals unset only);
- `and` / `or` short-circuit as in Python; a condition that yields unset
  counts as false, so `not` of an unset value is true;
- `x in [...]` is false for an unset `x` unless the list holds an unset item;
- dividing by zero is a run-time error of the rule (reported, the replay goes on).
"""
from __future__ import annotations

import operator
from dataclasses import dataclass

from ..dsl import ast
from ..dsl.resolve import literal_value
from ..stdlib.functions import FUNCTIONS, bound_impl

ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


@dataclass
class Env:
    """What an expression can see: the deal's fields by name, its stage and times, the event's data."""

    fields: dict
    stage: str
    now: float
    entered: float
    event: dict | None = None
    holidays: tuple[str, ...] = ()      # the funnel's, for functions that count working days


def evaluate(expr: ast.Expr, env: Env):
    """The value of `expr` for the deal described by `env`."""
    kind = type(expr)
    if kind is ast.Literal:
        return literal_value(expr)
    if kind is ast.Name:
        if expr.name in env.fields:
            return env.fields[expr.name]
        if expr.name == "stage":
            return env.stage
        if expr.name == "time_in_stage":
            return env.now - env.entered
        if expr.name == "now":
            return env.now
        raise NameError(expr.name)
    if kind is ast.EventRef:
        return (env.event or {}).get(expr.field)
    if kind is ast.Unary:
        value = evaluate(expr.operand, env)
        if expr.op == "not":
            return not value
        return None if value is None else -value
    if kind is ast.Binary:
        return _binary(expr, env)
    if kind is ast.IsSet:
        is_set = evaluate(expr.operand, env) is not None
        return not is_set if expr.negated else is_set
    if kind is ast.InList:
        found = evaluate(expr.operand, env) in evaluate(expr.items, env)
        return not found if expr.negated else found
    if kind is ast.ListLit:
        return tuple(evaluate(item, env) for item in expr.items)
    if kind is ast.Call:
        return bound_impl(FUNCTIONS[expr.func.name], env.holidays)(*(evaluate(a, env) for a in expr.args))
    raise TypeError(f"unknown expression node {kind.__name__}")


def _binary(expr: ast.Binary, env: Env):
    op = expr.op
    if op == "and":
        return evaluate(expr.left, env) and evaluate(expr.right, env)
    if op == "or":
        return evaluate(expr.left, env) or evaluate(expr.right, env)
    left = evaluate(expr.left, env)
    if op == "==":
        return left == evaluate(expr.right, env)
    if op == "!=":
        return left != evaluate(expr.right, env)
    # An unset left operand decides alone: the right one is not evaluated.
    if left is None:
        return False if op in ORDERING else None
    right = evaluate(expr.right, env)
    if right is None:
        return False if op in ORDERING else None
    if op in ORDERING:
        return ORDERING[op](left, right)
    return ARITHMETIC[op](left, right)
