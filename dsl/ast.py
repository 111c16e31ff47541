"""The syntax tree: frozen dataclasses that mirror the text, each with its span.

No lark type crosses this boundary. Values of literals are already decoded
(durations in seconds, percentages as fractions, dates as datetime objects).
"""
from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, dataclass, fields
from typing import Union

from .source import Span

_NODES: list[type] = []


def node(cls):
    """A syntax-tree class: a frozen dataclass whose methods `_add_methods` (below) writes.

    The dataclass decorator is asked for the fields only; the methods it would generate
    for a frozen class (`__init__`, `__repr__`, `__eq__`, `__hash__`, `__setattr__`,
    `__delattr__`) are written the same way for all the classes in one compile, where the
    decorator compiles each method of each class on its own (half of this module's import
    time, on every command's start-up)."""
    _NODES.append(cls)
    if not cls.__doc__:
        cls.__doc__ = f"{cls.__name__}("   # written by _add_methods; the decorator would inspect the class for it
    return dataclass(init=False, repr=False, eq=False)(cls)


def _add_methods(classes: list[type]) -> None:
    """The frozen dataclass's methods for each class, with one difference: `__init__` fills the
    instance's `__dict__` directly (the decorator's calls `object.__setattr__` per field: 1.2 µs
    for a node of four fields against 0.6 µs, and a large spec's parse makes a node for nearly
    every token, as Span already knew). tests/test_ast_nodes.py compares them with the decorator's."""
    lines, names = [], {"FrozenInstanceError": FrozenInstanceError}
    for cls in classes:
        name, params, body = cls.__name__, [], []
        names[f"_{name}"] = cls
        own = [f.name for f in fields(cls)]
        for f in fields(cls):
            if f.default is not MISSING:
                names[f"_{name}_{f.name}"] = f.default
                params.append(f"{f.name}=_{name}_{f.name}")
            else:
                params.append(f.name)
            body.append(f"    d[{f.name!r}] = {f.name}")
        mine = "(" + "".join(f"self.{n}," for n in own) + ")"
        theirs = "(" + "".join(f"other.{n}," for n in own) + ")"
        shown = ", ".join(f"{n}={{self.{n}!r}}" for n in own)
        lines += [
            f"def {name}__init__(self, {', '.join(params)}):", "    d = self.__dict__", *body,
            f"def {name}__repr__(self):", f"    return self.__class__.__qualname__ + f\"({shown})\"",
            f"def {name}__eq__(self, other):", "    if other.__class__ is self.__class__:",
            f"        return {mine} == {theirs}", "    return NotImplemented",
            f"def {name}__hash__(self):", f"    return hash({mine})",
            f"def {name}__setattr__(self, name, value):", f"    if type(self) is _{name} or name in {tuple(own)!r}:",
            "        raise FrozenInstanceError(f'cannot assign to field {name!r}')",
            f"    super(_{name}, self).__setattr__(name, value)",
            f"def {name}__delattr__(self, name):", f"    if type(self) is _{name} or name in {tuple(own)!r}:",
            "        raise FrozenInstanceError(f'cannot delete field {name!r}')",
            f"    super(_{name}, self).__delattr__(name)",
        ]
    made: dict = {}
    exec(compile("\n".join(lines), __file__, "exec"), names, made)
    for cls in classes:
        for method in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
            function = made[f"{cls.__name__}{method}"]
            function.__name__, function.__qualname__ = method, f"{cls.__qualname__}.{method}"
            setattr(cls, method, function)
        cls.__init__.__annotations__ = {**{f.name: f.type for f in fields(cls)}, "return": None}
        if cls.__doc__ == f"{cls.__name__}(":       # what the decorator writes for a class without a docstring
            cls.__doc__ = f"{cls.__name__}(" + ", ".join(
                f"{f.name}: {f.type!r}" + ("" if f.default is MISSING else f" = {f.default!r}")
                for f in fields(cls)) + ")"


@node
class Ident:
    """A name as written, with where it was written."""

    name: str
    span: Span


# Expressions -----------------------------------------------------------------

@node
class Literal:
    value: object
    kind: str            # number | string | bool | duration | percent | date | datetime
    text: str
    span: Span


@node
class Name:
    """A field, or one of the built-in names `stage`, `time_in_stage`, `now`."""

    name: str
    span: Span


@node
class EventRef:
    """`event.X`: a field of the data of the event that started the rule."""

    field: str
    span: Span


@node
class Call:
    func: Ident
    args: tuple["Expr", ...]
    span: Span


@node
class Unary:
    op: str              # "-" or "not"
    operand: "Expr"
    span: Span


@node
class Binary:
    op: str              # + - * / == != < <= > >= and or
    left: "Expr"
    right: "Expr"
    span: Span


@node
class IsSet:
    operand: "Expr"
    negated: bool
    span: Span


@node
class InList:
    operand: "Expr"
    items: "ListLit"
    negated: bool
    span: Span


@node
class ListLit:
    items: tuple["Expr", ...]
    span: Span


Expr = Union[Literal, Name, EventRef, Call, Unary, Binary, IsSet, InList, ListLit]


def names_read(expr: Expr, into: set[str] | None = None) -> set[str]:
    """Every plain name an expression reads (fields and `stage`, `now`, `time_in_stage`), added to `into`.

    By the kind of each node rather than by reflection: the resolver runs it on every expression of a spec."""
    found = set() if into is None else into
    kind = type(expr)
    if kind is Name:
        found.add(expr.name)
    elif kind is Binary:
        names_read(expr.left, found)
        names_read(expr.right, found)
    elif kind is Unary or kind is IsSet:
        names_read(expr.operand, found)
    elif kind is InList:
        names_read(expr.operand, found)
        names_read(expr.items, found)
    elif kind is ListLit:
        for item in expr.items:
            names_read(item, found)
    elif kind is Call:
        for arg in expr.args:
            names_read(arg, found)
    return found


# Declarations -----------------------------------------------------------------

@node
class TypeRef:
    name: str | None                  # money, text, ...; None for an enum
    options: tuple[str, ...]          # the strings of an enum
    optional: bool
    span: Span


@node
class FieldDecl:
    name: Ident
    type: TypeRef
    default: Expr | None
    span: Span


@node
class FieldsBlock:
    fields: tuple[FieldDecl, ...]
    span: Span


@node
class EventDecl:
    name: Ident
    fields: tuple[FieldDecl, ...]
    span: Span


@node
class EventsBlock:
    events: tuple[EventDecl, ...]
    span: Span


@node
class CurrencyDecl:
    code: Ident
    span: Span


@node
class TimezoneDecl:
    name: str          # the IANA name as written: `Europe/Moscow`
    name_span: Span
    span: Span


@node
class LanguageDecl:
    name: Ident        # the language's code as written: `ru`
    span: Span


@node
class ValueDecl:
    field: Ident
    span: Span


@node
class RouteDecl:
    condition: Expr
    span: Span


@node
class HolidaysDecl:
    dates: tuple[Literal, ...]
    span: Span


# Actions

@node
class Recipient:
    """Who a task or notification is for: a field holding a name, or a literal."""

    value: str
    is_field: bool
    span: Span


@node
class MoveAction:
    target: Ident
    because: Literal | None
    span: Span


@node
class SetAction:
    field: Ident
    value: Expr
    span: Span


@node
class TaskAction:
    text: Literal
    due: Expr | None
    assignee: Recipient | None
    span: Span


@node
class NotifyAction:
    recipient: Recipient
    text: Literal
    span: Span


@node
class EmitAction:
    event: Ident
    span: Span


Action = Union[MoveAction, SetAction, TaskAction, NotifyAction, EmitAction]


@node
class Trigger:
    """What starts a rule.

    kind: enter | exit | event | change | after | every | at.
    subject: the event name (event), field name (change, at), else None.
    delay: seconds for after/every; the signed offset for at.
    stage: the stage a funnel-level rule names (`after 30d in proposal`).
    """

    kind: str
    subject: Ident | None
    delay: int | None
    stage: Ident | None
    condition: Expr | None
    span: Span


@node
class RuleDecl:
    name: Ident | None
    trigger: Trigger
    actions: tuple[Action, ...]
    span: Span


@node
class StageDecl:
    id: Ident
    title: Literal | None
    flags: tuple[Ident, ...]          # start, won, lost, reopen, side (as written, with spans)
    probability: Literal | None
    sla: Literal | None
    requires: tuple[Expr, ...]
    rules: tuple[RuleDecl, ...]
    items: tuple[object, ...]         # every item in source order, for the formatter
    span: Span
    block: str | None = None          # the title of the `block` it is written in
    before: Ident | None = None       # `stage x before y`: its place among a template's stages
    after: Ident | None = None        # `stage x after y`

    def has(self, flag: str) -> bool:
        return any(f.name == flag for f in self.flags)


@node
class TransitionDecl:
    source: Ident                     # `any` is Ident("any")
    target: Ident
    criterion: Expr | None
    because: Literal | None
    span: Span

    @property
    def from_any(self) -> bool:
        return self.source.name == "any"


@node
class DropDecl:
    """`drop stage X`, `drop field X`, `drop rule X`, `drop transition a -> b` in an extending funnel."""

    kind: str
    name: Ident
    target: Ident | None
    span: Span


@node
class BlockDecl:
    """`block "Договор" { stage … }`: consecutive stages grouped under a title."""

    title: Literal
    stages: tuple[StageDecl, ...]
    span: Span


FunnelItem = Union[CurrencyDecl, TimezoneDecl, LanguageDecl, ValueDecl, RouteDecl, HolidaysDecl, FieldsBlock, EventsBlock,
                   StageDecl, BlockDecl, TransitionDecl, RuleDecl, DropDecl]


@node
class FunnelDecl:
    id: Ident
    title: Literal | None
    extends: Ident | None             # dotted template name as written
    items: tuple[FunnelItem, ...]
    span: Span


@node
class ImportDecl:
    """`import "path.funnel"` or `import std.NAME`."""

    target: str
    std: bool
    alias: Ident | None
    span: Span


@node
class Comment:
    text: str
    span: Span


@node
class FileAst:
    path: str
    imports: tuple[ImportDecl, ...]
    funnels: tuple[FunnelDecl, ...]
    comments: tuple[Comment, ...]
    span: Span


_add_methods(_NODES)
