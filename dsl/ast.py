"""The syntax tree: frozen dataclasses that mirror the text, each with its span.

No lark type crosses this boundary. Values of literals are already decoded
(durations in seconds, percentages as fractions, dates as datetime objects).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .source import Span


@dataclass(frozen=True)
class Ident:
    """A name as written, with where it was written."""

    name: str
    span: Span


# Expressions -----------------------------------------------------------------

@dataclass(frozen=True)
class Literal:
    value: object
    kind: str            # number | string | bool | duration | percent | date | datetime
    text: str
    span: Span


@dataclass(frozen=True)
class Name:
    """A field, or one of the built-in names `stage`, `time_in_stage`, `now`."""

    name: str
    span: Span


@dataclass(frozen=True)
class EventRef:
    """`event.X`: a field of the data of the event that started the rule."""

    field: str
    span: Span


@dataclass(frozen=True)
class Call:
    func: Ident
    args: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True)
class Unary:
    op: str              # "-" or "not"
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class Binary:
    op: str              # + - * / == != < <= > >= and or
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class IsSet:
    operand: "Expr"
    negated: bool
    span: Span


@dataclass(frozen=True)
class InList:
    operand: "Expr"
    items: "ListLit"
    negated: bool
    span: Span


@dataclass(frozen=True)
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

@dataclass(frozen=True)
class TypeRef:
    name: str | None                  # money, text, ...; None for an enum
    options: tuple[str, ...]          # the strings of an enum
    optional: bool
    span: Span


@dataclass(frozen=True)
class FieldDecl:
    name: Ident
    type: TypeRef
    default: Expr | None
    span: Span


@dataclass(frozen=True)
class FieldsBlock:
    fields: tuple[FieldDecl, ...]
    span: Span


@dataclass(frozen=True)
class EventDecl:
    name: Ident
    fields: tuple[FieldDecl, ...]
    span: Span


@dataclass(frozen=True)
class EventsBlock:
    events: tuple[EventDecl, ...]
    span: Span


@dataclass(frozen=True)
class CurrencyDecl:
    code: Ident
    span: Span


@dataclass(frozen=True)
class TimezoneDecl:
    name: str          # the IANA name as written: `Europe/Moscow`
    name_span: Span
    span: Span


@dataclass(frozen=True)
class LanguageDecl:
    name: Ident        # the language's code as written: `ru`
    span: Span


@dataclass(frozen=True)
class ValueDecl:
    field: Ident
    span: Span


@dataclass(frozen=True)
class RouteDecl:
    condition: Expr
    span: Span


@dataclass(frozen=True)
class HolidaysDecl:
    dates: tuple[Literal, ...]
    span: Span


# Actions

@dataclass(frozen=True)
class Recipient:
    """Who a task or notification is for: a field holding a name, or a literal."""

    value: str
    is_field: bool
    span: Span


@dataclass(frozen=True)
class MoveAction:
    target: Ident
    because: Literal | None
    span: Span


@dataclass(frozen=True)
class SetAction:
    field: Ident
    value: Expr
    span: Span


@dataclass(frozen=True)
class TaskAction:
    text: Literal
    due: Expr | None
    assignee: Recipient | None
    span: Span


@dataclass(frozen=True)
class NotifyAction:
    recipient: Recipient
    text: Literal
    span: Span


@dataclass(frozen=True)
class EmitAction:
    event: Ident
    span: Span


Action = Union[MoveAction, SetAction, TaskAction, NotifyAction, EmitAction]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class RuleDecl:
    name: Ident | None
    trigger: Trigger
    actions: tuple[Action, ...]
    span: Span


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class TransitionDecl:
    source: Ident                     # `any` is Ident("any")
    target: Ident
    criterion: Expr | None
    because: Literal | None
    span: Span

    @property
    def from_any(self) -> bool:
        return self.source.name == "any"


@dataclass(frozen=True)
class DropDecl:
    """`drop stage X`, `drop field X`, `drop rule X`, `drop transition a -> b` in an extending funnel."""

    kind: str
    name: Ident
    target: Ident | None
    span: Span


@dataclass(frozen=True)
class BlockDecl:
    """`block "Договор" { stage … }`: consecutive stages grouped under a title."""

    title: Literal
    stages: tuple[StageDecl, ...]
    span: Span


FunnelItem = Union[CurrencyDecl, TimezoneDecl, LanguageDecl, ValueDecl, RouteDecl, HolidaysDecl, FieldsBlock, EventsBlock,
                   StageDecl, BlockDecl, TransitionDecl, RuleDecl, DropDecl]


@dataclass(frozen=True)
class FunnelDecl:
    id: Ident
    title: Literal | None
    extends: Ident | None             # dotted template name as written
    items: tuple[FunnelItem, ...]
    span: Span


@dataclass(frozen=True)
class ImportDecl:
    """`import "path.funnel"` or `import std.NAME`."""

    target: str
    std: bool
    alias: Ident | None
    span: Span


@dataclass(frozen=True)
class Comment:
    text: str
    span: Span


@dataclass(frozen=True)
class FileAst:
    path: str
    imports: tuple[ImportDecl, ...]
    funnels: tuple[FunnelDecl, ...]
    comments: tuple[Comment, ...]
    span: Span
