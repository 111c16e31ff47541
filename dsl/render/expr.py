"""Expressions and triggers back to the language's text (for messages, graphs and the formatter)."""
from __future__ import annotations

from .. import ast

PRECEDENCE = {"or": 1, "and": 2, "not": 3, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
              "+": 5, "-": 5, "*": 6, "/": 6}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def expr_text(expr, parent: int = 0) -> str:
    """Canonical text of an expression, parenthesised only where precedence needs it."""
    kind = type(expr)
    if kind is ast.Literal:
        # as written (`450_000`, `"a\\"b"`); a string built by code has no text and is quoted
        return _quote(expr.value) if expr.kind == "string" and not expr.text else expr.text
    if kind is ast.Name:
        return expr.name
    if kind is ast.EventRef:
        return f"event.{expr.field}"
    if kind is ast.Call:
        return f"{expr.func.name}({', '.join(expr_text(a) for a in expr.args)})"
    if kind is ast.ListLit:
        return "[" + ", ".join(expr_text(i) for i in expr.items) + "]"
    if kind is ast.IsSet:
        text = f"{expr_text(expr.operand, 5)} is {'not ' if expr.negated else ''}set"
        return f"({text})" if parent >= 4 else text
    if kind is ast.InList:
        text = f"{expr_text(expr.operand, 5)} {'not ' if expr.negated else ''}in {expr_text(expr.items)}"
        return f"({text})" if parent >= 4 else text
    if kind is ast.Unary:
        if expr.op == "not":
            text = f"not {expr_text(expr.operand, 3)}"
            return f"({text})" if parent > 3 else text
        return f"-{expr_text(expr.operand, 7)}"
    if kind is ast.Binary:
        level = PRECEDENCE[expr.op]
        right_level = level + 1     # `a and (b and c)` keeps its parentheses: the tree stays as written
        left_level = level + 1 if level == 4 else level
        text = f"{expr_text(expr.left, left_level)} {expr.op} {expr_text(expr.right, right_level)}"
        return f"({text})" if parent > level or (parent == level and level == 4) else text
    raise TypeError(kind.__name__)


def action_text(action) -> str:
    """`move to lost`, `set paid = paid + event.amount`, `task "Call back"`: an action as written, in short."""
    if action.kind == "move":
        return f"move to {action.target}"
    if action.kind == "set":
        return f"set {action.field} = {expr_text(action.value)}"
    if action.kind == "emit":
        return f"emit {action.event}"
    return f"{action.kind} {_quote(short(action.text or '', 30))}"


def default_rule_name(rule) -> str:
    """A readable name for a rule written without one: its trigger and what it does,
    `after 30d in proposal: move to lost`. Long lists of actions end in `…`."""
    actions = "; ".join(action_text(a) for a in rule.actions)
    return f"{describe_trigger(rule)}: {short(actions, 60)}"


def short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def duration_text(seconds: int) -> str:
    """`2h`, `1d`, `14d`: in days at most, as specs write durations (`sla 14d` read back as `2w` looked like
    someone else's spec); a week shows as `7d`."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


def describe_trigger(rule) -> str:
    """`after 30d in proposal`, `on event payment when …` for a model Rule."""
    where = f" in {rule.stage}" if rule.stage else ""
    cond = f" when {expr_text(rule.condition)}" if rule.condition is not None else ""
    if rule.kind in ("enter", "exit"):
        return (f"on {rule.kind} {rule.stage}" if rule.stage else f"on {rule.kind}") + cond
    if rule.kind == "event":
        return f"on event {rule.subject}{where}{cond}"
    if rule.kind == "change":
        return f"on change {rule.subject}{where}{cond}"
    if rule.kind == "after":
        return f"after {duration_text(rule.delay)}{where}{cond}"
    if rule.kind == "every":
        guard = f" while {expr_text(rule.condition)}" if rule.condition is not None else ""
        return f"every {duration_text(rule.delay)}{where}{guard}"
    offset = ""
    if rule.delay:
        offset = f" {'-' if rule.delay < 0 else '+'} {duration_text(abs(rule.delay))}"
    return f"at {rule.subject}{offset}{where}{cond}"
