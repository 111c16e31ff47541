"""`funnel fmt`: one canonical layout for a funnel file, from its syntax tree.

Two spaces a level, one item a line, single spaces around operators, names
in `fields { }` padded so that the types line up, long criteria wrapped
before `and`/`or`, at most one blank line where the author left one, every
comment kept beside the item it was written beside. Literals stay as written
(`450_000`, `1d`). A stage with no rules and an event with few fields may
sit on one line (`stage won "Успех" { won }`), as in the design example.

The result is checked before anyone writes it: it must parse to the same
tree (spans aside) with the same comments, else `FormatError`.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import fields as dataclass_fields, is_dataclass

from . import ast
from .diagnostics import Diagnostic
from .gcpause import gc_paused
from .format_layout import INDENT, WIDTH, Layout, Line, block, body_lines, clauses, hoisted_then, lines_text, wrap_expr
from .parser import parse_text
from .render.expr import expr_text


class FormatError(Exception):
    """The formatter produced text that does not mean what the input meant: a bug, never the user's."""


def format_text(text: str, path: str = "<text>", width: int = WIDTH) -> tuple[str | None, list[Diagnostic]]:
    """The canonical text of a funnel file, or (None, the syntax errors) when it cannot be parsed.

    A byte order mark is dropped, as lint drops it when reading: the canonical file is UTF-8 without one.
    """
    text = text.removeprefix("\ufeff")
    tree, diagnostics = parse_text(text, path)
    if tree is None:
        return None, diagnostics
    with gc_paused():       # the layout and the safety net's tree shapes are many small acyclic objects
        result = format_tree(tree, text, width)
        _check_same(tree, result, path)
    first_end = text.find("\n")
    if first_end > 0 and text[first_end - 1] == "\r":      # Windows line ends stay Windows line ends
        result = result.replace("\n", "\r\n")
    return result, []


def format_tree(tree: ast.FileAst, text: str, width: int = WIDTH) -> str:
    """The canonical text of a parsed file; `text` is its source (for comments and blank lines)."""
    layout = Layout(text, tree.comments, width)
    children = list(tree.imports) + list(tree.funnels)
    _, lines = body_lines(layout, children, layout.comments, 0, len(text), 0, _Renderer(layout).top_level)
    return lines_text(lines, width)


class _Renderer:
    """One method per construct: (node, the comments inside it, indentation) -> lines."""

    def __init__(self, layout: Layout):
        self.layout = layout

    # file ------------------------------------------------------------------------
    def top_level(self, node, comments, indent):
        if isinstance(node, ast.ImportDecl):
            return hoisted_then(node, comments, indent, [Line(indent, self.import_text(node))])
        lines = self.funnel(node, comments, indent)
        first = next(i for i, line in enumerate(lines) if not line.code.startswith("#"))
        lines[first].apart = True
        return lines

    def import_text(self, node: ast.ImportDecl) -> str:
        if node.std:
            return f"import std.{node.target}"
        path = next(t for t in self.layout.tokens(node.span.start, node.span.end) if t.startswith('"'))
        return f"import {path}" + (f" as {node.alias.name}" if node.alias else "")

    def funnel(self, node: ast.FunnelDecl, comments, indent):
        head = f"funnel {node.id.name}"
        after = node.id.span.end
        if node.title is not None:
            head, after = f"{head} {node.title.text}", node.title.span.end
        if node.extends is not None:
            head, after = f"{head} extends {node.extends.name}", node.extends.span.end
        opener = self.layout.opener(after)
        return block(self.layout, node, [Line(indent, head)], node.items, comments, opener, node.span.end - 1, indent,
                     self.funnel_item)

    def funnel_item(self, node, comments, indent):
        kind = type(node)
        if kind is ast.StageDecl:
            return self.stage(node, comments, indent)
        if kind is ast.BlockDecl:
            opener = self.layout.opener(node.title.span.end)
            return block(self.layout, node, [Line(indent, f"block {node.title.text}")], node.stages, comments, opener,
                         node.span.end - 1, indent, self.stage)
        if kind is ast.TransitionDecl:
            return hoisted_then(node, comments, indent, self.transition(node, indent))
        if kind is ast.RuleDecl:
            return self.rule(node, comments, indent)
        if kind is ast.FieldsBlock:
            return self.fields_block(node, comments, indent)
        if kind is ast.EventsBlock:
            return self.events_block(node, comments, indent)
        if kind is ast.HolidaysDecl:
            return self.holidays(node, comments, indent)
        if kind is ast.RouteDecl:
            return hoisted_then(node, comments, indent,
                                wrap_expr(self.layout, "route when ", node.condition, indent, indent + 4))
        return hoisted_then(node, comments, indent, [Line(indent, _simple_item(node))])

    # fields and events -------------------------------------------------------------
    def fields_block(self, node: ast.FieldsBlock, comments, indent):
        opener = self.layout.opener(node.span.start + len("fields"))
        render = self.field_renderer(node.fields)
        return block(self.layout, node, [Line(indent, "fields")], node.fields, comments, opener, node.span.end - 1,
                     indent, render)

    def field_renderer(self, decls):
        """Fields line up in groups: a blank line between two fields starts a new group."""
        widths: dict[int, int] = {}
        group: list[ast.FieldDecl] = []
        for decl in decls:
            if group and self.layout.blank_between(group[-1].span.end, decl.span.start):
                self._set_width(group, widths)
                group = []
            group.append(decl)
        self._set_width(group, widths)

        def render(decl: ast.FieldDecl, comments, indent):
            return hoisted_then(decl, comments, indent, self.field(decl, widths[id(decl)], indent))
        return render

    @staticmethod
    def _set_width(group, widths) -> None:
        width = max((len(d.name.name) + 1 for d in group), default=0)
        for decl in group:
            widths[id(decl)] = width

    def field(self, decl: ast.FieldDecl, width: int, indent: int) -> list[Line]:
        name = f"{decl.name.name}:".ljust(width) + " "
        optional = "?" if decl.type.optional else ""
        default = f" = {expr_text(decl.default)}" if decl.default is not None else ""
        if decl.type.name is not None:
            return [Line(indent, f"{name}{decl.type.name}{optional}{default}")]
        options = [t for t in self.layout.tokens(decl.type.span.start, decl.type.span.end) if t.startswith('"')]
        one = f"{name}{' | '.join(options)}{optional}{default}"
        if self.layout.fits(indent, one) or len(options) < 2:
            return [Line(indent, one)]
        # a long enum: one option a line, the bars under the colon's column
        lines = [Line(indent, f"{name}{options[0]}")]
        bar_indent = indent + len(name) - 2
        lines += [Line(bar_indent, f"| {option}") for option in options[1:]]
        lines[-1].code += optional + default
        return lines

    def events_block(self, node: ast.EventsBlock, comments, indent):
        opener = self.layout.opener(node.span.start + len("events"))
        return block(self.layout, node, [Line(indent, "events")], node.events, comments, opener, node.span.end - 1,
                     indent, self.event)

    def event(self, node: ast.EventDecl, comments, indent):
        head = [Line(indent, node.name.name)]
        opener = self.layout.opener(node.name.span.end)
        if opener >= node.span.end or self.layout.text[opener] != "{":
            return hoisted_then(node, comments, indent, head)
        if not any(c.span.start > opener for c in comments):
            # `payment { amount: money  months: int }` when it fits, names not padded
            items = [self.field(decl, 0, 0) for decl in node.fields]
            one = f"{node.name.name} " + _inline_items([lines[0] for lines in items])
            if all(len(lines) == 1 for lines in items) and self.layout.fits(indent, one):
                return hoisted_then(node, comments, indent, [Line(indent, one)])
        return block(self.layout, node, head, node.fields, comments, opener, node.span.end - 1, indent,
                     self.field_renderer(node.fields))

    def holidays(self, node: ast.HolidaysDecl, comments, indent):
        """`holidays [d1, d2]`; a long calendar fills its lines; one with comments among the dates, a date a line."""
        opener = self.layout.opener(node.span.start + len("holidays"))
        dates = [date.text for date in node.dates]
        opener_line = self.layout.line_of(opener)
        if any(c.span.start > opener and c.span.line != opener_line for c in comments):
            return block(self.layout, node, [Line(indent, "holidays")], node.dates, comments, opener, node.span.end - 1,
                         indent, lambda date, inner, at: hoisted_then(date, inner, at, [Line(at, date.text + ",")]),
                         close="]")
        one = Line(indent, "holidays [" + ", ".join(dates) + "]")
        if self.layout.fits(indent, one.code):
            return hoisted_then(node, comments, indent, [one])
        lines = [Line(indent, "holidays [")]
        for date in dates:
            last = lines[-1]
            if last.indent == indent or not self.layout.fits(last.indent, f"{last.code} {date},"):
                lines.append(Line(indent + INDENT, f"{date},"))
            else:
                last.code += f" {date},"
        return hoisted_then(node, comments, indent, lines + [Line(indent, "]")])

    # stages --------------------------------------------------------------------------
    def stage(self, node: ast.StageDecl, comments, indent):
        head = f"stage {node.id.name}" + (f" {node.title.text}" if node.title is not None else "")
        after = node.title.span.end if node.title is not None else node.id.span.end
        for word, place in (("before", node.before), ("after", node.after)):
            if place is not None:
                head, after = f"{head} {word} {place.name}", place.span.end
        opener = self.layout.opener(after)
        # flags, probability and sla fit on the stage's line; a `require` or a rule opens the block
        short = all(isinstance(item, ast.Ident) or item is node.probability or item is node.sla
                    for item in node.items)

        def render(item, inner, at):
            return self.stage_item(node, item, inner, at)

        return block(self.layout, node, [Line(indent, head)], node.items, comments, opener, node.span.end - 1, indent,
                     render, inline=_inline_items if short else None)

    def stage_item(self, stage: ast.StageDecl, item, comments, indent):
        if isinstance(item, ast.RuleDecl):
            return self.rule(item, comments, indent)
        if isinstance(item, ast.Ident):
            lines = [Line(indent, item.name)]
        elif any(item is r for r in stage.requires):
            lines = wrap_expr(self.layout, "require ", item, indent, indent + 4)
        elif item.kind == "percent":
            lines = [Line(indent, f"probability {item.text}")]
        else:
            lines = [Line(indent, f"sla {item.text}")]
        return hoisted_then(item, comments, indent, lines)

    # transitions and rules ---------------------------------------------------------------
    def transition(self, node: ast.TransitionDecl, indent: int) -> list[Line]:
        parts = []
        if node.criterion is not None:
            parts.append(("when", node.criterion))
        if node.because is not None:
            parts.append(("because", node.because.text))
        return clauses(self.layout, f"{node.source.name} -> {node.target.name}", parts, indent)

    def rule(self, node: ast.RuleDecl, comments, indent):
        """`trigger: action` on one line, or the action on the next; several actions (or comments among them) in braces."""
        head, parts = self.trigger(node)
        opener = self.layout.opener(node.trigger.span.end)
        braces = self.layout.text[opener] == "{"
        if len(node.actions) == 1 and not (braces and any(c.span.start > opener for c in comments)):
            action = self.action(node.actions[0])
            one = clauses(self.layout, head, parts, indent, ": " + action)
            if len(one) > 1 or not self.layout.fits(indent, one[0].code):
                one = clauses(self.layout, head, parts, indent, ":") + [Line(indent + INDENT, action)]
            return hoisted_then(node, comments, indent, one)
        return block(self.layout, node, clauses(self.layout, head, parts, indent), node.actions, comments, opener,
                     node.span.end - 1, indent,
                     lambda action, inner, at: hoisted_then(action, inner, at, [Line(at, self.action(action))]))

    def trigger(self, node: ast.RuleDecl) -> tuple[str, list]:
        """The trigger's head (`after 30d in proposal`) and its condition clause."""
        trigger = node.trigger
        name = f"rule {node.name.name} " if node.name is not None else ""
        tokens = self.layout.tokens(trigger.span.start, trigger.span.end)
        where = f" in {trigger.stage.name}" if trigger.stage is not None and trigger.kind not in ("enter", "exit") else ""
        if trigger.kind in ("enter", "exit"):
            head = f"on {trigger.kind}" + (f" {trigger.stage.name}" if trigger.stage is not None else "")
        elif trigger.kind in ("event", "change"):
            head = f"on {trigger.kind} {trigger.subject.name}{where}"
        elif trigger.kind in ("after", "every"):
            head = f"{trigger.kind} {tokens[1]}{where}"
        else:
            offset = f" {tokens[2]} {tokens[3]}" if len(tokens) > 3 and tokens[2] in "+-" else ""
            head = f"at {trigger.subject.name}{offset}{where}"
        parts = []
        if trigger.condition is not None:
            parts.append(("while" if trigger.kind == "every" else "when", trigger.condition))
        return name + head, parts

    def action(self, node) -> str:
        kind = type(node)
        if kind is ast.MoveAction:
            return f"move to {node.target.name}" + (f" because {node.because.text}" if node.because else "")
        if kind is ast.SetAction:
            return f"set {node.field.name} = {expr_text(node.value)}"
        if kind is ast.TaskAction:
            due = f" due {expr_text(node.due)}" if node.due is not None else ""
            assignee = f" for {self.recipient(node.assignee)}" if node.assignee is not None else ""
            return f"task {node.text.text}{due}{assignee}"
        if kind is ast.NotifyAction:
            return f"notify {self.recipient(node.recipient)} {node.text.text}"
        return f"emit {node.event.name}"

    def recipient(self, node: ast.Recipient) -> str:
        return node.value if node.is_field else self.layout.text[node.span.start:node.span.end]


def _simple_item(node) -> str:
    kind = type(node)
    if kind is ast.CurrencyDecl:
        return f"currency {node.code.name}"
    if kind is ast.TimezoneDecl:
        bare = re.fullmatch(r"(?!\d)\w+([/+-]((?!\d)\w+|\d+))*", node.name)     # as zone_name parses it
        return f"timezone {node.name}" if bare else f'timezone "{node.name}"'
    if kind is ast.LanguageDecl:
        return f"language {node.name.name}"
    if kind is ast.ValueDecl:
        return f"value {node.field.name}"
    if kind is ast.DropDecl:
        if node.kind == "transition":
            return f"drop transition {node.name.name} -> {node.target.name}"
        return f"drop {node.kind} {node.name.name}"
    raise TypeError(f"no layout for {kind.__name__}")


def _inline_items(lines: list[Line]) -> str | None:
    """`{ probability 50%  sla 7d }`: a short block on one line, items two spaces apart."""
    return "{ " + "  ".join(line.code for line in lines) + " }" if lines else "{}"


# The safety net ------------------------------------------------------------------------

def tree_shape(node):
    """A syntax tree with every span (and the file's path and comments) left out, for comparing meaning."""
    if is_dataclass(node):
        skip = {"span", "path", "comments"}
        return (type(node).__name__,) + tuple(
            (f.name, tree_shape(getattr(node, f.name))) for f in dataclass_fields(node)
            if f.name not in skip and not f.name.endswith("_span"))
    if isinstance(node, tuple):
        return tuple(tree_shape(item) for item in node)
    return node


def comment_texts(tree: ast.FileAst) -> Counter:
    return Counter(c.text.rstrip() for c in tree.comments)


def _check_same(before: ast.FileAst, text: str, path: str) -> None:
    after, problems = parse_text(text, path)
    if after is None:
        raise FormatError(f"formatting {path} gave text that does not parse: {problems[0].message}")
    if tree_shape(after) != tree_shape(before):
        raise FormatError(f"formatting {path} changed its meaning")
    if comment_texts(after) != comment_texts(before):
        raise FormatError(f"formatting {path} lost or changed a comment")
