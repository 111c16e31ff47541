"""Text -> AST. The lark parser is built once per process; lark types stop here."""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from . import ast
from .diagnostics import Diagnostic
from .source import Source, Span
from .syntax_errors import describe_syntax_error

_comments: list[Token] = []


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = resources.files("funnelspec").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _comments.append},
    )


DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> int:
    return int(text[:-1].replace("_", "")) * DURATION_UNITS[text[-1]]


def _span(file: str, meta) -> Span:
    if getattr(meta, "empty", False):
        return Span(file, 1, 1, 1, 1)
    return Span(file, meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos)


def _tok_span(file: str, tok: Token) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


class InvalidLiteral(Exception):
    def __init__(self, message: str, span: Span):
        super().__init__(message)
        self.message = message
        self.span = span


@v_args(meta=True)
class _ToAst(Transformer):
    def __init__(self, file: str):
        super().__init__()
        self.file = file

    # helpers
    def _s(self, meta) -> Span:
        return _span(self.file, meta)

    def _ident(self, tok: Token) -> ast.Ident:
        return ast.Ident(str(tok), _tok_span(self.file, tok))

    def _lit_string(self, tok: Token) -> ast.Literal:
        return ast.Literal(_unquote(str(tok)), "string", str(tok), _tok_span(self.file, tok))

    # file
    def start(self, meta, children):
        imports = tuple(c for c in children if isinstance(c, ast.ImportDecl))
        funnels = tuple(c for c in children if isinstance(c, ast.FunnelDecl))
        return imports, funnels

    def import_file(self, meta, children):
        alias = self._ident(children[1]) if len(children) > 1 else None
        return ast.ImportDecl(_unquote(str(children[0])), False, alias, self._s(meta))

    def import_std(self, meta, children):
        return ast.ImportDecl(str(children[0]), True, None, self._s(meta))

    def funnel(self, meta, children):
        ident = self._ident(children[0])
        rest = children[1:]
        title = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "STRING":
            title = self._lit_string(rest[0])
            rest = rest[1:]
        extends = None
        if rest and isinstance(rest[0], tuple) and rest[0] and rest[0][0] == "extends":
            extends = rest[0][1]
            rest = rest[1:]
        return ast.FunnelDecl(ident, title, extends, tuple(rest), self._s(meta))

    def extends(self, meta, children):
        return ("extends", children[0])

    def dotted_name(self, meta, children):
        return ast.Ident(".".join(str(c) for c in children), self._s(meta))

    def currency(self, meta, children):
        return ast.CurrencyDecl(self._ident(children[0]), self._s(meta))

    def value_field(self, meta, children):
        return ast.ValueDecl(self._ident(children[0]), self._s(meta))

    def route(self, meta, children):
        return ast.RouteDecl(children[0], self._s(meta))

    def holidays(self, meta, children):
        return ast.HolidaysDecl(tuple(self._date(c) for c in children), self._s(meta))

    def fields(self, meta, children):
        return ast.FieldsBlock(tuple(children), self._s(meta))

    def field(self, meta, children):
        default = children[2] if len(children) > 2 else None
        return ast.FieldDecl(self._ident(children[0]), children[1], default, self._s(meta))

    def type_ref(self, meta, children):
        name, options = children[0]
        return ast.TypeRef(name, options, len(children) > 1, self._s(meta))

    def named_type(self, meta, children):
        return (str(children[0]), ())

    def enum_type(self, meta, children):
        return (None, tuple(_unquote(str(c)) for c in children))

    def events(self, meta, children):
        return ast.EventsBlock(tuple(children), self._s(meta))

    def event_decl(self, meta, children):
        return ast.EventDecl(self._ident(children[0]), tuple(children[1:]), self._s(meta))

    # stages
    def stage(self, meta, children):
        ident = self._ident(children[0])
        rest = list(children[1:])
        title = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "STRING":
            title = self._lit_string(rest.pop(0))
        flags, requires, rules = [], [], []
        probability = sla = None
        for item in rest:
            if isinstance(item, ast.Ident):
                flags.append(item)
            elif isinstance(item, ast.RuleDecl):
                rules.append(item)
            elif item[0] == "probability":
                probability = item[1]
            elif item[0] == "sla":
                sla = item[1]
            elif item[0] == "require":
                requires.append(item[1])
        items = tuple(i if not isinstance(i, tuple) else i[1] for i in rest)
        return ast.StageDecl(ident, title, tuple(flags), probability, sla, tuple(requires), tuple(rules),
                             items, self._s(meta))

    def _flag(self, meta, name):
        return ast.Ident(name, self._s(meta))

    def flag_start(self, meta, children):
        return self._flag(meta, "start")

    def flag_won(self, meta, children):
        return self._flag(meta, "won")

    def flag_lost(self, meta, children):
        return self._flag(meta, "lost")

    def flag_reopen(self, meta, children):
        return self._flag(meta, "reopen")

    def probability(self, meta, children):
        return ("probability", self._percent(children[0]))

    def sla(self, meta, children):
        return ("sla", self._duration(children[0]))

    def require(self, meta, children):
        return ("require", children[0])

    # transitions
    def transition(self, meta, children):
        source, target = children[0], self._ident(children[1])
        criterion = because = None
        for extra in children[2:]:
            if isinstance(extra, tuple) and extra[0] == "criterion":
                criterion = extra[1]
            elif isinstance(extra, ast.Literal):
                because = extra
        return ast.TransitionDecl(source, target, criterion, because, self._s(meta))

    def endpoint(self, meta, children):
        return self._ident(children[0])

    def criterion(self, meta, children):
        return ("criterion", children[0])

    def because(self, meta, children):
        return self._lit_string(children[0])

    def drop_stage(self, meta, children):
        return ast.DropDecl("stage", self._ident(children[0]), None, self._s(meta))

    def drop_field(self, meta, children):
        return ast.DropDecl("field", self._ident(children[0]), None, self._s(meta))

    def drop_rule(self, meta, children):
        return ast.DropDecl("rule", self._ident(children[0]), None, self._s(meta))

    def drop_transition(self, meta, children):
        return ast.DropDecl("transition", children[0], self._ident(children[1]), self._s(meta))

    # rules
    def rule(self, meta, children):
        name = children[0] if isinstance(children[0], ast.Ident) else None
        trigger, actions = children[-2], children[-1]
        return ast.RuleDecl(name, trigger, actions, self._s(meta))

    stage_rule = rule

    def rule_name(self, meta, children):
        return self._ident(children[0])

    def stage_trigger(self, meta, children):  # pragma: no cover - aliases always apply
        raise AssertionError("unaliased trigger")

    def _trigger(self, meta, kind, children, subject=None, delay=None, stage=None):
        condition = None
        for c in children:
            if isinstance(c, tuple) and c[0] in ("guard", "repeat_guard"):
                condition = c[1]
            elif isinstance(c, tuple) and c[0] == "offset":
                delay = c[1]
            elif isinstance(c, tuple) and c[0] == "in":
                stage = c[1]
        return ast.Trigger(kind, subject, delay, stage, condition, self._s(meta))

    def on_enter(self, meta, children):
        stage = self._ident(children[0]) if children else None
        return self._trigger(meta, "enter", [], stage=stage)

    def on_exit(self, meta, children):
        stage = self._ident(children[0]) if children else None
        return self._trigger(meta, "exit", [], stage=stage)

    def on_event(self, meta, children):
        return self._trigger(meta, "event", children[1:], subject=self._ident(children[0]))

    def on_change(self, meta, children):
        return self._trigger(meta, "change", children[1:], subject=self._ident(children[0]))

    def after(self, meta, children):
        delay = self._duration(children[0]).value
        rest = children[1:]
        stage = None
        if rest and isinstance(rest[0], Token):
            stage = self._ident(rest[0])
            rest = rest[1:]
        return self._trigger(meta, "after", rest, delay=delay, stage=stage)

    def every(self, meta, children):
        trig = self.after(meta, children)
        return ast.Trigger("every", trig.subject, trig.delay, trig.stage, trig.condition, trig.span)

    def at(self, meta, children):
        trig = self._trigger(meta, "at", children[1:], subject=self._ident(children[0]), delay=0)
        return trig

    def guard(self, meta, children):
        return ("guard", children[0])

    def repeat_guard(self, meta, children):
        return ("repeat_guard", children[0])

    def timer_offset(self, meta, children):
        seconds = self._duration(children[1]).value
        return ("offset", -seconds if str(children[0]) == "-" else seconds)

    def in_stage(self, meta, children):
        return ("in", self._ident(children[0]))

    def actions(self, meta, children):
        return tuple(children)

    def move(self, meta, children):
        because = children[1] if len(children) > 1 else None
        return ast.MoveAction(self._ident(children[0]), because, self._s(meta))

    def set(self, meta, children):
        return ast.SetAction(self._ident(children[0]), children[1], self._s(meta))

    def task(self, meta, children):
        due = assignee = None
        for c in children[1:]:
            if isinstance(c, ast.Recipient):
                assignee = c
            else:
                due = c[1]
        return ast.TaskAction(self._lit_string(children[0]), due, assignee, self._s(meta))

    def due(self, meta, children):
        return ("due", children[0])

    def assignee(self, meta, children):
        return children[0]

    def recipient_field(self, meta, children):
        return ast.Recipient(str(children[0]), True, self._s(meta))

    def recipient_literal(self, meta, children):
        return ast.Recipient(_unquote(str(children[0])), False, self._s(meta))

    def notify(self, meta, children):
        return ast.NotifyAction(children[0], self._lit_string(children[1]), self._s(meta))

    def emit(self, meta, children):
        return ast.EmitAction(self._ident(children[0]), self._s(meta))

    # expressions
    def _fold(self, meta, children, ops):
        result = children[0]
        for i in range(1, len(children), 2 if ops else 1):
            if ops:
                op, right = str(children[i]), children[i + 1]
            else:
                op, right = self._op, children[i]
            span = Span(self.file, result.span.line, result.span.column, right.span.end_line,
                        right.span.end_column, result.span.start, right.span.end)
            result = ast.Binary(op, result, right, span)
        return result

    def or_expr(self, meta, children):
        self._op = "or"
        return self._fold(meta, children, False)

    def and_expr(self, meta, children):
        self._op = "and"
        return self._fold(meta, children, False)

    def sum(self, meta, children):
        return self._fold(meta, children, True)

    product = sum

    def not_(self, meta, children):
        return ast.Unary("not", children[0], self._s(meta))

    def neg(self, meta, children):
        if str(children[0]) == "+":
            return children[1]
        return ast.Unary("-", children[1], self._s(meta))

    def compare(self, meta, children):
        return ast.Binary(str(children[1]), children[0], children[2], self._s(meta))

    def is_set(self, meta, children):
        return ast.IsSet(children[0], False, self._s(meta))

    def is_not_set(self, meta, children):
        return ast.IsSet(children[0], True, self._s(meta))

    def in_list(self, meta, children):
        return ast.InList(children[0], children[1], False, self._s(meta))

    def not_in_list(self, meta, children):
        return ast.InList(children[0], children[1], True, self._s(meta))

    def list_lit(self, meta, children):
        return ast.ListLit(tuple(children), self._s(meta))

    def number(self, meta, children):
        text = str(children[0])
        clean = text.replace("_", "")
        value = float(clean) if "." in clean else int(clean)
        return ast.Literal(value, "number", text, _tok_span(self.file, children[0]))

    def string(self, meta, children):
        return self._lit_string(children[0])

    def true(self, meta, children):
        return ast.Literal(True, "bool", "true", self._s(meta))

    def false(self, meta, children):
        return ast.Literal(False, "bool", "false", self._s(meta))

    def duration(self, meta, children):
        return self._duration(children[0])

    def percent(self, meta, children):
        return self._percent(children[0])

    def date(self, meta, children):
        return self._date(children[0])

    def datetime(self, meta, children):
        tok = children[0]
        text = str(tok)
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidLiteral(f"`{text}` is not a valid date and time", _tok_span(self.file, tok))
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return ast.Literal(value, "datetime", text, _tok_span(self.file, tok))

    def event_ref(self, meta, children):
        return ast.EventRef(str(children[0]), self._s(meta))

    def call(self, meta, children):
        return ast.Call(self._ident(children[0]), tuple(children[1:]), self._s(meta))

    def name(self, meta, children):
        return ast.Name(str(children[0]), _tok_span(self.file, children[0]))

    def _duration(self, tok) -> ast.Literal:
        return ast.Literal(parse_duration(str(tok)), "duration", str(tok), _tok_span(self.file, tok))

    def _percent(self, tok) -> ast.Literal:
        text = str(tok)
        value = float(text[:-1].replace("_", "")) / 100
        if not 0 <= value <= 1:
            raise InvalidLiteral(f"`{text}` is not a percentage between 0% and 100%", _tok_span(self.file, tok))
        return ast.Literal(value, "percent", text, _tok_span(self.file, tok))

    def _date(self, tok) -> ast.Literal:
        text = str(tok)
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidLiteral(f"`{text}` is not a valid date", _tok_span(self.file, tok))
        return ast.Literal(value, "date", text, _tok_span(self.file, tok))


def parse_source(source: Source) -> tuple[ast.FileAst | None, list[Diagnostic]]:
    """Parse one file. A syntax error gives (None, [diagnostic]); never raises for bad text."""
    from . import codes

    _comments.clear()
    try:
        tree = _lark().parse(source.text)
        comments = tuple(ast.Comment(str(t), _tok_span(source.path, t)) for t in _comments)
        imports, funnels = _ToAst(source.path).transform(tree)
    except UnexpectedInput as err:
        return None, [describe_syntax_error(source, err, _lark())]
    except VisitError as err:
        if isinstance(err.orig_exc, InvalidLiteral):
            return None, [codes.diagnostic("FNL005", err.orig_exc.message, err.orig_exc.span)]
        raise
    except LarkError as err:  # any other lark complaint is still the user's text
        return None, [codes.diagnostic("FNL001", f"cannot parse: {err}", source.span_at(0))]
    finally:
        _comments.clear()
    whole = source.span_at(0, len(source.text))
    whole = Span(source.path, 1, 1, len(source.lines), len(source.lines[-1]) + 1, 0, len(source.text))
    return ast.FileAst(source.path, imports, funnels, comments, whole), []


def parse_text(text: str, path: str = "<text>") -> tuple[ast.FileAst | None, list[Diagnostic]]:
    return parse_source(Source(path, text))
