"""Parse callbacks that build the AST while lark parses (its inline transformer).

The grammar keeps every token (`keep_all_tokens`), so a node's span runs from
its first token to its last without lark's slower position propagation. Each
callback receives the children of one grammar rule: lark Tokens, AST nodes,
and `_Part`s (pieces that only a parent rule consumes). This module has the
declarations; expressions, literals and the span helpers are in
dsl/ast_expressions.py. A declaration the grammar accepts but the language
does not (a keyword as a stage id) raises InvalidSyntax, which the parser
turns into a diagnostic.
"""
from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from lark import Token

from . import ast
from .ast_expressions import DURATION_UNITS, ExpressionCallbacks, InvalidSyntax, parse_duration, unquote  # noqa: F401
from .source import Span

# Words a stage id cannot be, because the stage could not be the source of a transition:
# those that start a funnel item (`value -> won` reads as a `value` declaration), and those
# that may continue the item before it (`… when paid > 0` then `and -> won` reads as `and`).
FUNNEL_ITEM_KEYWORDS = frozenset({
    "currency", "timezone", "language", "value", "route", "holidays", "fields", "events", "stage", "block", "drop", "rule",
    "on", "after", "every", "at", "any",
    "and", "or", "not", "in", "is", "when", "while", "because", "for", "due",
})
# Words a field cannot be named: an expression gives them a meaning of their own, or they
# may continue the expression before them (`x: int = 0` then `in: …` reads as `0 in`).
EXPRESSION_KEYWORDS = frozenset({"true", "false", "not", "event", "and", "or", "in", "is"})
BUILTIN_NAMES = frozenset({"stage", "now", "time_in_stage"})


class _Part(NamedTuple):
    """A piece of a rule that its parent consumes: ("guard", expr, span), ("offset", seconds, span)…"""

    kind: str
    value: object
    span: Span


def _is_token(c) -> bool:
    return type(c) is Token


class AstBuilder(ExpressionCallbacks):
    """One instance per parser; `file` is set before each parse (the parser holds a lock)."""

    def __init__(self) -> None:
        self.file = "<text>"
        self.depths = {}

    # file ---------------------------------------------------------------------
    def start(self, children):
        imports = tuple(c for c in children if type(c) is ast.ImportDecl)
        funnels = tuple(c for c in children if type(c) is ast.FunnelDecl)
        return imports, funnels

    def import_file(self, c):
        alias = self.ident(c[3]) if len(c) > 2 else None
        return ast.ImportDecl(unquote(str(c[1])), False, alias, self.whole(c))

    def import_std(self, c):
        return ast.ImportDecl(str(c[3]), True, None, self.whole(c))

    def funnel(self, c):
        ident = self.ident(c[1])
        title = extends = None
        i = 2
        if _is_token(c[i]) and c[i].type == "STRING":
            title = self.lit_string(c[i])
            i += 1
        if type(c[i]) is _Part:
            extends = c[i].value
            i += 1
        return ast.FunnelDecl(ident, title, extends, tuple(c[i + 1:-1]), self.whole(c))

    def extends(self, c):
        return _Part("extends", c[1], self.whole(c))

    def dotted_name(self, c):
        return ast.Ident("".join(str(t) for t in c), self.whole(c))

    def currency(self, c):
        return ast.CurrencyDecl(self.ident(c[1]), self.whole(c))

    def timezone(self, c):
        name = c[1]
        if _is_token(name):
            return ast.TimezoneDecl(unquote(str(name)), self.tok_span(name), self.whole(c))
        return ast.TimezoneDecl(name.value, name.span, self.cover(c[0], name))

    def language(self, c):
        return ast.LanguageDecl(self.ident(c[1]), self.whole(c))

    def zone_name(self, c):
        return _Part("zone", "".join(str(t) for t in c), self.whole(c))

    def value_field(self, c):
        return ast.ValueDecl(self.ident(c[1]), self.whole(c))

    def route(self, c):
        return ast.RouteDecl(c[2], self.whole(c))

    def holidays(self, c):
        dates = tuple(self._date(t) for t in c if _is_token(t) and t.type == "DATE")
        return ast.HolidaysDecl(dates, self.whole(c))

    def fields(self, c):
        return ast.FieldsBlock(tuple(c[2:-1]), self.whole(c))

    def field(self, c):
        name = self.ident(c[0])
        if name.name in EXPRESSION_KEYWORDS | BUILTIN_NAMES:
            what = "a keyword" if name.name in EXPRESSION_KEYWORDS else "a built-in name"
            raise InvalidSyntax("FNL001", f"`{name.name}` cannot name a field: it is {what}", name.span,
                                hint=f"rename the field, e.g. `{name.name}_` or a word that says what it holds")
        default = c[4] if len(c) > 3 else None
        return ast.FieldDecl(name, c[2], default, self.whole(c))

    def type_ref(self, c):
        name, options = c[0].value
        return ast.TypeRef(name, options, len(c) > 1, self.whole(c))

    def named_type(self, c):
        return _Part("type", (str(c[0]), ()), self.whole(c))

    def enum_type(self, c):
        options = tuple(unquote(str(t)) for t in c if t.type == "STRING")
        return _Part("type", (None, options), self.whole(c))

    def events(self, c):
        return ast.EventsBlock(tuple(c[2:-1]), self.whole(c))

    def event_decl(self, c):
        fields = tuple(x for x in c[1:] if type(x) is ast.FieldDecl)
        return ast.EventDecl(self.ident(c[0]), fields, self.whole(c))

    # stages -------------------------------------------------------------------
    def block(self, c):
        title = self.lit_string(c[1])
        stages = tuple(_with_block(s, title.value) for s in c[3:-1])
        return ast.BlockDecl(title, stages, self.whole(c))

    def stage(self, c):
        ident = self.ident(c[1])
        if ident.name in FUNNEL_ITEM_KEYWORDS:
            raise InvalidSyntax(
                "FNL001", f"`{ident.name}` cannot be a stage id: it is a keyword", ident.span,
                hint=f"`{ident.name} -> …` would not read as a transition; rename the stage, "
                     f"e.g. `{ident.name}_stage`, and keep its display name in quotes")
        i = 2
        title = before = after = None
        if _is_token(c[i]) and c[i].type == "STRING":
            title = self.lit_string(c[i])
            i += 1
        if type(c[i]) is _Part:
            before, after = (c[i].value, None) if c[i].kind == "before" else (None, c[i].value)
            i += 1
        items = c[i + 1:-1]
        flags, requires, rules = [], [], []
        probability = sla = None
        for item in items:
            kind = type(item)
            if kind is ast.Ident:
                flags.append(item)
            elif kind is ast.RuleDecl:
                rules.append(item)
            elif item.kind == "probability":
                probability = item.value
            elif item.kind == "sla":
                sla = item.value
            else:
                requires.append(item.value)
        plain = tuple(i.value if type(i) is _Part else i for i in items)
        return ast.StageDecl(ident, title, tuple(flags), probability, sla, tuple(requires), tuple(rules),
                             plain, self.whole(c), before=before, after=after)

    def place_before(self, c):
        return _Part("before", self.ident(c[1]), self.whole(c))

    def place_after(self, c):
        return _Part("after", self.ident(c[1]), self.whole(c))

    def flag_start(self, c):
        return self.ident(c[0])

    flag_won = flag_lost = flag_reopen = flag_side = flag_start

    def probability(self, c):
        return _Part("probability", self._percent(c[1]), self.whole(c))

    def sla(self, c):
        return _Part("sla", self._duration(c[1]), self.whole(c))

    def require(self, c):
        return _Part("require", c[1], self.whole(c))

    # transitions --------------------------------------------------------------
    def transition(self, c):
        criterion = because = None
        for extra in c[3:]:
            if extra.kind == "criterion":
                criterion = extra.value
            else:
                because = extra.value
        return ast.TransitionDecl(c[0], self.ident(c[2]), criterion, because, self.whole(c))

    def endpoint(self, c):
        return self.ident(c[0])

    def criterion(self, c):
        return _Part("criterion", c[1], self.whole(c))

    def because(self, c):
        return _Part("because", self.lit_string(c[1]), self.whole(c))

    def drop_stage(self, c):
        return ast.DropDecl("stage", self.ident(c[2]), None, self.whole(c))

    def drop_field(self, c):
        return ast.DropDecl("field", self.ident(c[2]), None, self.whole(c))

    def drop_rule(self, c):
        return ast.DropDecl("rule", self.ident(c[2]), None, self.whole(c))

    def drop_transition(self, c):
        return ast.DropDecl("transition", c[2], self.ident(c[4]), self.whole(c))

    # rules --------------------------------------------------------------------
    def rule(self, c):
        name = c[0].value if type(c[0]) is _Part else None
        return ast.RuleDecl(name, c[-2], c[-1].value, self.whole(c))

    stage_rule = rule

    def rule_name(self, c):
        return _Part("name", self.ident(c[1]), self.whole(c))

    def _trigger(self, c, kind, subject=None, delay=None, stage=None):
        condition = None
        for part in c:
            if type(part) is _Part:
                if part.kind == "guard":
                    condition = part.value
                elif part.kind == "offset":
                    delay = part.value
                elif part.kind == "in":
                    stage = part.value
        return ast.Trigger(kind, subject, delay, stage, condition, self.whole(c))

    def on_enter(self, c):
        return self._trigger(c, "enter", stage=self.ident(c[2]) if len(c) > 2 and _is_token(c[2]) else None)

    def on_exit(self, c):
        return self._trigger(c, "exit", stage=self.ident(c[2]) if len(c) > 2 and _is_token(c[2]) else None)

    def on_event(self, c):
        return self._trigger(c, "event", subject=self.ident(c[2]))

    def on_change(self, c):
        return self._trigger(c, "change", subject=self.ident(c[2]))

    def after(self, c):
        stage = self.ident(c[3]) if len(c) > 3 and _is_token(c[3]) else None
        return self._trigger(c, c[0].value, delay=self._duration(c[1]).value, stage=stage)

    every = after

    def at(self, c):
        return self._trigger(c, "at", subject=self.ident(c[1]), delay=0)

    def guard(self, c):
        return _Part("guard", c[1], self.whole(c))

    repeat_guard = guard

    def timer_offset(self, c):
        seconds = self._duration(c[1]).value
        return _Part("offset", -seconds if c[0].value == "-" else seconds, self.whole(c))

    def in_stage(self, c):
        return _Part("in", self.ident(c[1]), self.whole(c))

    def actions(self, c):
        return _Part("actions", tuple(a for a in c if not _is_token(a)), self.whole(c))

    def move(self, c):
        because = c[3].value if len(c) > 3 else None
        return ast.MoveAction(self.ident(c[2]), because, self.whole(c))

    def set(self, c):
        return ast.SetAction(self.ident(c[1]), c[3], self.whole(c))

    def task(self, c):
        due = assignee = None
        for part in c[2:]:
            if part.kind == "due":
                due = part.value
            else:
                assignee = part.value
        return ast.TaskAction(self.lit_string(c[1]), due, assignee, self.whole(c))

    def due(self, c):
        return _Part("due", c[1], self.whole(c))

    def assignee(self, c):
        return _Part("for", c[1], self.whole(c))

    def recipient_field(self, c):
        return ast.Recipient(str(c[0]), True, self.tok_span(c[0]))

    def recipient_literal(self, c):
        return ast.Recipient(unquote(str(c[0])), False, self.tok_span(c[0]))

    def notify(self, c):
        return ast.NotifyAction(c[1], self.lit_string(c[2]), self.whole(c))

    def emit(self, c):
        return ast.EmitAction(self.ident(c[1]), self.whole(c))

def _with_block(stage: ast.StageDecl, title: str) -> ast.StageDecl:
    return replace(stage, block=title)
