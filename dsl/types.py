"""Expression types: what each expression yields, checked against the declared fields."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from . import ast
from . import type_hints as hints
from .spelling import did_you_mean

NUMERIC = frozenset({"money", "number", "int", "percent"})
TEXTUAL = frozenset({"text", "enum", "stage"})
TIMES = frozenset({"datetime", "date"})
FIELD_TYPE_NAMES = ("money", "number", "int", "text", "bool", "datetime", "date", "duration", "percent")


@dataclass(frozen=True)
class Type:
    kind: str                          # a FIELD_TYPE_NAMES kind, or enum, stage, list, null, any
    options: tuple[str, ...] = ()      # enum values, or stage ids
    optional: bool = False
    element: "Type | None" = None      # for list

    def __str__(self) -> str:
        if self.kind == "enum":
            base = " | ".join(f'"{o}"' for o in self.options)
        elif self.kind == "list":
            base = f"list of {self.element}"
        else:
            base = self.kind
        return base + ("?" if self.optional else "")

    @property
    def required(self) -> "Type":
        return replace(self, optional=False)

    def family(self) -> str:
        if self.kind in NUMERIC:
            return "number"
        if self.kind in TEXTUAL:
            return "text"
        if self.kind in TIMES:
            return "time"
        return self.kind


BOOL = Type("bool")
TEXT = Type("text")
NUMBER = Type("number")
INT = Type("int")
MONEY = Type("money")
DURATION = Type("duration")
DATETIME = Type("datetime")
ANY = Type("any")
NULL = Type("null")

LITERAL_TYPES = {
    "number": NUMBER, "string": TEXT, "bool": BOOL, "duration": DURATION,
    "percent": Type("percent"), "date": Type("date"), "datetime": DATETIME,
}


def field_type(ref: ast.TypeRef) -> Type | None:
    """The Type a declaration names, or None when the name is not a type."""
    if ref.name is None:
        return Type("enum", ref.options, ref.optional)
    if ref.name not in FIELD_TYPE_NAMES:
        return None
    return Type(ref.name, (), ref.optional)


def assignable(value: Type, target: Type) -> bool:
    """Can a value of type `value` be stored in a field of type `target`?"""
    if value.kind in ("any",) or target.kind == "any":
        return True
    if value.kind == "null":
        return target.optional
    if value.optional and not target.optional:
        return False
    if target.kind == "enum":
        return value.kind == "enum" and set(value.options) <= set(target.options)
    if target.kind == "int":
        return value.kind == "int"
    if target.kind in ("money", "number"):
        return value.kind in NUMERIC
    if target.kind == "text":
        return value.kind in TEXTUAL
    if target.kind == "datetime":
        return value.kind in TIMES
    return value.kind == target.kind


def comparable(a: Type, b: Type) -> bool:
    if "any" in (a.kind, b.kind) or "null" in (a.kind, b.kind):
        return True
    return a.family() == b.family()


@dataclass
class Scope:
    """What names mean where an expression is written."""

    fields: dict[str, Type]
    stage_ids: tuple[str, ...]
    event_name: str | None = None          # inside `on event NAME`
    event_fields: dict[str, Type] | None = None
    functions: dict | None = None
    report: Callable[..., None] | None = None  # report(code, message, span, hint=None)
    removed: Callable[[str, str], str | None] | None = None  # removed("field", name): why a name is gone

    def error(self, code: str, message: str, span, hint: str | None = None) -> None:
        if self.report:
            self.report(code, message, span, hint=hint)


BUILTIN_NAMES = {"time_in_stage": DURATION, "now": DATETIME}


def type_of(expr: ast.Expr, scope: Scope) -> Type:
    """The type of `expr`; problems are reported through the scope, and give type `any`."""
    kind = type(expr)
    if kind is ast.Literal:
        if expr.kind == "number" and type(expr.value) is int:
            return INT                     # `0`, `3`: fits an int field; a number or money one too
        return LITERAL_TYPES[expr.kind]
    if kind is ast.Name:
        return _name_type(expr, scope)
    if kind is ast.EventRef:
        return _event_ref_type(expr, scope)
    if kind is ast.Unary:
        operand = type_of(expr.operand, scope)
        if expr.op == "not":
            _expect_bool(expr.operand, operand, scope, "`not`")
            return BOOL
        if operand.kind not in NUMERIC | {"duration", "any"}:
            scope.error("FNL301", f"cannot negate `{hints.text_of(expr.operand)}` (`{operand}`)", expr.span,
                        hint="only numbers and durations have a minus; for a condition write `not`")
            return ANY
        return operand
    if kind is ast.Binary:
        return _binary_type(expr, scope)
    if kind is ast.IsSet:
        type_of(expr.operand, scope)
        return BOOL
    if kind is ast.InList:
        operand = type_of(expr.operand, scope)
        for item in expr.items.items:
            item_type = type_of(item, scope)
            _check_comparable(operand, item_type, expr.operand, item, scope, "be in")
        return BOOL
    if kind is ast.ListLit:
        items = [type_of(i, scope) for i in expr.items]
        return Type("list", element=items[0] if items else ANY)
    if kind is ast.Call:
        return _call_type(expr, scope)
    raise TypeError(f"unknown expression node {kind.__name__}")


def _name_type(expr: ast.Name, scope: Scope) -> Type:
    if expr.name in scope.fields:
        return scope.fields[expr.name]
    if expr.name == "stage":
        return Type("stage", scope.stage_ids)
    if expr.name in BUILTIN_NAMES:
        return BUILTIN_NAMES[expr.name]
    candidates = list(scope.fields) + ["stage", *BUILTIN_NAMES]
    note = scope.removed("field", expr.name) if scope.removed else None
    scope.error("FNL103", f"unknown field `{expr.name}`", expr.span,
                hint=note or hints.names_hint(expr.name, candidates, "fields and built-in names"))
    return ANY


def _event_ref_type(expr: ast.EventRef, scope: Scope) -> Type:
    if scope.event_fields is None and scope.event_name is not None:
        return ANY                         # the rule's event is unknown, and reported already
    if scope.event_fields is None:
        scope.error("FNL303", f"`event.{expr.field}` is used outside an `on event` rule", expr.span,
                    hint="event data exists only in a rule started by `on event NAME`")
        return ANY
    if expr.field not in scope.event_fields:
        hint = did_you_mean(expr.field, scope.event_fields)
        if not scope.event_fields:
            hint = f"declare it: `events {{ {scope.event_name} {{ {expr.field}: … }} }}`"
        scope.error("FNL103", f"event `{scope.event_name}` has no field `{expr.field}`", expr.span, hint=hint)
        return ANY
    return scope.event_fields[expr.field]


def _expect_bool(expr, found: Type, scope: Scope, where: str) -> None:
    if found.kind not in ("bool", "any"):
        scope.error("FNL301", f"{where} needs a true/false condition, found `{hints.text_of(expr)}` (`{found}`)",
                    expr.span, hint=hints.condition_hint(expr, found))


def _check_comparable(a: Type, b: Type, left, right, scope: Scope, verb: str) -> bool:
    """Report values that cannot be compared, and strings that are not a value of the enum or stage."""
    if not comparable(a, b):
        if verb == "be in":
            message = f"`{hints.text_of(right)}` (`{b}`) cannot be a value of `{hints.text_of(left)}` (`{a}`)"
        else:
            message = f"cannot compare `{hints.text_of(left)}` (`{a}`) with `{hints.text_of(right)}` (`{b}`)"
        scope.error("FNL301", message, right.span, hint=hints.compare_hint(left, a, right, b))
        return False
    for this, this_expr, other_expr in ((a, left, right), (b, right, left)):
        if this.kind in ("enum", "stage") and isinstance(other_expr, ast.Literal) and other_expr.kind == "string":
            if other_expr.value not in this.options:
                if this.kind == "stage":
                    scope.error("FNL102", f"unknown stage `{other_expr.value}`", other_expr.span,
                                hint=hints.value_hint(other_expr.value, this.options))
                else:
                    name = hints.text_of(this_expr)
                    scope.error("FNL301", f"\"{other_expr.value}\" is not a value of `{name}`", other_expr.span,
                                hint=hints.value_hint(other_expr.value, this.options, name))
    return True


ARITHMETIC = {
    # (op, left family, right family) -> result kind; "=" keeps the left kind
    ("+", "number", "number"): "=", ("-", "number", "number"): "=",
    ("*", "number", "number"): "=", ("/", "number", "number"): "number",
    ("+", "time", "duration"): "datetime", ("-", "time", "duration"): "datetime",
    ("+", "duration", "time"): "datetime",
    ("-", "time", "time"): "duration",
    ("+", "duration", "duration"): "duration", ("-", "duration", "duration"): "duration",
    ("*", "duration", "number"): "duration", ("*", "number", "duration"): "duration",
    ("/", "duration", "number"): "duration", ("/", "duration", "duration"): "number",
    ("+", "text", "text"): "text",
}


def _numeric_result(a: Type, b: Type, op: str) -> str:
    kinds = {a.kind, b.kind}
    if "money" in kinds:
        return "money"
    if kinds == {"int"} and op != "/":
        return "int"
    if kinds == {"percent"} and op in "+-":
        return "percent"
    return "number"


def _binary_type(expr: ast.Binary, scope: Scope) -> Type:
    left = type_of(expr.left, scope)
    right = type_of(expr.right, scope)
    op = expr.op
    if op in ("and", "or"):
        _expect_bool(expr.left, left, scope, f"`{op}`")
        _expect_bool(expr.right, right, scope, f"`{op}`")
        return BOOL
    if op in ("==", "!=", "<", "<=", ">", ">="):
        fits = _check_comparable(left, right, expr.left, expr.right, scope, "be compared with")
        if fits and op not in ("==", "!=") and "bool" in (left.kind, right.kind):
            scope.error("FNL301", f"`{op}` does not order true/false values", expr.span,
                        hint="compare them with `==` or `!=`")
        return BOOL
    if "any" in (left.kind, right.kind):
        return ANY
    result = ARITHMETIC.get((op, left.family(), right.family()))
    if result is None:
        scope.error("FNL301", f"cannot apply `{op}` to `{hints.text_of(expr.left)}` (`{left}`) and "
                              f"`{hints.text_of(expr.right)}` (`{right}`)", expr.span,
                    hint=hints.arithmetic_hint(op, left, right, expr.left, expr.right))
        return ANY
    optional = left.optional or right.optional
    if result == "=":
        return Type(_numeric_result(left, right, op), optional=optional)
    return Type(result, optional=optional)


def _call_type(expr: ast.Call, scope: Scope) -> Type:
    functions = scope.functions or {}
    fn = functions.get(expr.func.name)
    arg_types = [type_of(a, scope) for a in expr.args]
    if fn is None:
        scope.error("FNL109", f"unknown function `{expr.func.name}`", expr.func.span,
                    hint=did_you_mean(expr.func.name, functions))
        return ANY
    problem = fn.check(arg_types, expr.args)
    if problem is not None:
        index, message, hint = problem
        span = expr.args[index].span if index is not None and index < len(expr.args) else expr.span
        scope.error("FNL302", f"`{expr.func.name}`: {message}", span, hint=hint or f"`{fn.signature}`")
        return ANY
    return fn.result(arg_types)
