"""Expressions -> generated Python source -> functions, one module per funnel.

Every expression becomes `def _eN(F, st, now, ent, ev): return ...` where
F is the deal's field list (by field index), st its stage id, now the
current instant, ent when it entered its stage and ev the event's data.

User text never becomes code: fields are list indices, every literal and
every built-in function is a constant of the module's namespace (`_kN`,
`_fN`), and the namespace has no builtins. Each generated line is mapped
back to the span of the expression it came from (`span_of_line`), as jinja
maps template lines. The semantics are those of engine/evaluate.py (the
reference), which a property test compares with this.
"""
from __future__ import annotations

import hashlib
from heapq import heappush
import re
from typing import Callable

from ..dsl import ast
from ..dsl.resolve import literal_value
from ..dsl.source import Span
from ..stdlib.functions import FUNCTIONS, bound_impl

ORDERING = ("<", "<=", ">", ">=")
SIGNATURE = "(F, st, now, ent, ev)"
CASCADE_SIGNATURE = "(F, now, ent, R, deal)"
DEPTH_CAP = 150            # nested rule runs; keeps Python's own recursion limit far away (engine/replay.py's)
EXPRESSION_ERRORS = (ArithmeticError, TypeError, ValueError)     # engine/replay.py's: what a failed expression raises


_READS_STAGE = re.compile(r"\bst\b")       # generated code reads the stage / the entry time (no user text in it)
_READS_ENTRY = re.compile(r"\bent\b")

CODE_CACHE = 64                 # generated modules' code objects kept, by the hash of their source
_CODE: dict[str, object] = {}


def _function_name(fn) -> str:
    return getattr(fn, "__name__", repr(fn)).lstrip("_")


class ModuleBuilder:
    """Collects the expression functions of one funnel and compiles them together."""

    def __init__(self, name: str, field_index: dict[str, int], holidays: tuple[str, ...] = ()):
        self.name = name
        self.field_index = field_index
        self.holidays = holidays            # the funnel's, for functions that count working days
        self.lines: list[str] = []
        self.line_spans: dict[int, Span] = {}
        self.namespace: dict[str, object] = {}
        self._constants: dict[tuple, str] = {}
        self._temps = 0
        self._functions: list[tuple[str, Callable | None]] = []
        self._rule_lists: dict[tuple[int, ...], int] = {}     # the same rules (by identity) share one function
        self._unset = False

    # constants ---------------------------------------------------------------

    def constant(self, value) -> str:
        key = (type(value).__name__, value)
        if key not in self._constants:
            name = f"_k{len(self._constants)}"
            self._constants[key] = name
            self.namespace[name] = value
        return self._constants[key]

    def function(self, fname: str) -> str:
        key = ("function", fname)
        if key not in self._constants:
            name = f"_f{len(self._constants)}"
            self._constants[key] = name
            self.namespace[name] = bound_impl(FUNCTIONS[fname], self.holidays)
        return self._constants[key]

    # functions ---------------------------------------------------------------

    def add(self, expr: ast.Expr) -> int:
        """Generate the function for `expr`; returns a handle for `functions()`."""
        self._temps = 0
        body, _ = self.emit(expr)
        handle = len(self._functions)
        name = f"_e{handle}"
        start = len(self.lines) + 1
        self.lines.append(f"def {name}{SIGNATURE}:")
        self.lines.append(f"    return {body}")
        self.line_spans[start] = self.line_spans[start + 1] = expr.span
        self._functions.append((name, None))
        return handle

    def add_cascade(self, stage_id: str, autos: list[tuple[ast.Expr, tuple[ast.Expr, ...], Span]]) -> int:
        """A stage's automatic transitions as one function: the index of the first whose criterion holds and whose
        target's `require`s hold, or -1.

        `autos`: (criterion, the target's requires, the transition's span) in declaration order. A criterion or
        `require` that fails is told to `R.auto_failed(deal, now, k, which, err)` (which: "criterion" or
        "require") and counts as not holding, as engine/replay.py's reference loop does; the stage's id is a
        constant here, the deal's fields, `now` and when it entered are the arguments."""
        handle = len(self._functions)
        name = f"_c{handle}"
        start = len(self.lines) + 1
        self.lines.append(f"def {name}{CASCADE_SIGNATURE}:")
        self.lines.append(f"    st = {self.constant(stage_id)}")
        self.line_spans[start] = self.line_spans[start + 1] = autos[0][2] if autos else None
        errors = self.constant(EXPRESSION_ERRORS)
        for k, (criterion, requires, span) in enumerate(autos):
            self._temps = 0
            test, _ = self.emit(criterion)
            self._line(f"    try:", span)
            self._line(f"        h = {test}", criterion.span)
            self._line(f"    except {errors} as err:", span)
            self._line(f"        R.auto_failed(deal, now, {k}, 'criterion', err)", span)
            self._line(f"        h = False", span)
            if not requires:
                self._line(f"    if h:", span)
                self._line(f"        return {k}", span)
                continue
            joined = requires[0]
            for expr in requires[1:]:
                joined = ast.Binary("and", joined, expr, expr.span)
            self._temps = 0
            admits, _ = self.emit(joined)
            self._line(f"    if h:", span)
            self._line(f"        try:", joined.span)
            self._line(f"            if {admits}:", joined.span)
            self._line(f"                return {k}", span)
            self._line(f"        except {errors} as err:", joined.span)
            self._line(f"            R.auto_failed(deal, now, {k}, 'require', err)", joined.span)
        self._line("    return -1", None)
        self._functions.append((name, None))
        return handle

    def add_rules(self, rules: tuple, limit: int) -> int:
        """A list of rules run in order, as one function `(R, deal, now, ev)`: a stage's rules for one event, for a
        change of one field, on enter or on exit.

        `rules`: the compiled rules (engine/compile.py's CompiledRule: its model holds the expressions), in order. What engine/replay.py's `_run_rules`, `_run_actions` and
        `_act` do for them, in line: a rule scoped to a stage the deal has left is skipped; the condition and
        each value see the deal's stage and entry as they are when evaluated; a rule is pushed on the chain's
        stack (`limit`: deeper is a loop, `R.too_deep`); a failed condition or action is told to
        `R.rule_failed` and ends that rule. A `set`'s value and a task's due are inlined expressions; the
        records come from each action's constant templates (`R.set_field`, `R.act_task`, `R.act_notify`,
        `R.act_emit`, `R._rule_move`)."""
        same = (rules, limit)           # compiled rules hash by identity: a global rule is the same in every stage
        if same in self._rule_lists:
            return self._rule_lists[same]
        handle = self._rule_lists[same] = len(self._functions)
        name = f"_v{handle}"
        errors = self.constant(EXPRESSION_ERRORS)
        self._line(f"def {name}(R, deal, now, ev):", rules[0].model.span if rules else None)
        self._line("    F = deal.fields", None)
        self._line("    S = deal.funnel.stages", None)
        self._line("    stack = R._stack", None)
        for rule in rules:
            condition, span, k_rule = rule.model.condition, rule.model.span, self.constant(rule)
            pad = "    "
            if rule.stage is not None:
                self._line(f"{pad}if deal.stage == {rule.stage}:", span)
                pad += "    "
            if condition is not None:
                test = self._value(condition, pad)
                self._line(f"{pad}try:", None)
                self._line(f"{pad}    h = {test}", condition.span)
                self._line(f"{pad}except {errors} as err:", span)
                self._line(f"{pad}    R.rule_failed(deal, now, {k_rule}, None, err)", None)
                self._line(f"{pad}    h = False", None)
                self._line(f"{pad}if h:", None)
                pad += "    "
            self._rule_actions(rule, pad, limit)
        self._functions.append((name, None))
        return handle

    def _rule_actions(self, rule, pad: str, limit: int) -> None:
        """A rule's actions, as `_run_actions` and `_act` run them: pushed on the chain's stack, the first that
        fails told to `R.rule_failed` and the end of the rule."""
        k_rule, k_label = self.constant(rule), self.constant(rule.label)
        errors = self.constant(EXPRESSION_ERRORS)
        span, actions = rule.model.span, list(zip(rule.actions, rule.model.actions))
        self._line(f"{pad}stack.append({k_label})", span)
        self._line(f"{pad}if {self.constant(len)}(stack) > {limit}:", None)
        self._line(f"{pad}    R.too_deep(now)", None)
        self._line(f"{pad}try:", None)
        self._line(f"{pad}    try:", None)
        inner = pad + "        "
        if not actions:
            self._line(f"{inner}pass", None)
        kinds = {action.kind for action, _ in actions}
        failed = self.constant(next(iter(kinds))) if len(kinds) == 1 else "kd"   # the kind a failure names
        for action, model in actions:
            k_action, kind = self.constant(action), action.kind
            if failed == "kd":
                self._line(f"{inner}kd = {self.constant(kind)}", model.span)
            if kind == "set":
                code = self._value(model.value, inner)
                self._line(f"{inner}R.set_field(deal, {k_rule}, {k_action}, now, {code})", model.value.span)
            elif kind == "task":
                if model.due is None:
                    self._line(f"{inner}R.act_task(deal, {k_rule}, {k_action}, now, None)", model.span)
                    continue
                code = self._value(model.due, inner)
                if action.due_kind == "duration":       # a constant offset stays one: now + 86400
                    code = f"(now + {code})" if not self._unset else f"(None if (_due := {code}) is None else now + _due)"
                self._line(f"{inner}R.act_task(deal, {k_rule}, {k_action}, now, {code})", model.due.span)
            elif kind == "notify":
                self._line(f"{inner}R.act_notify(deal, {k_rule}, {k_action}, now)", model.span)
            elif kind == "emit":
                self._line(f"{inner}R.act_emit(deal, {k_rule}, {k_action}, now)", model.span)
            else:
                self._line(f"{inner}R._rule_move(deal, {k_rule}, {k_action}, now)", model.span)
        self._line(f"{pad}    except {errors} as err:", span)
        self._line(f"{pad}        R.rule_failed(deal, now, {k_rule}, {failed}, err)", None)
        self._line(f"{pad}finally:", None)
        self._line(f"{pad}    stack.pop()", None)

    def add_timer(self, rule, limit: int, repeat: float | None) -> int:
        """A timer's firing as one function `(R, deal, now)`, `now` its due time: what engine/replay.py's `_fire`
        does. An `at` timer is remembered as fired for that time; the condition holds or the firing does nothing
        (a failed condition is told to `R.rule_failed`); the actions run; an `every` timer (`repeat`: its period in
        seconds) is due again that much later while the deal stays; the automatic transitions are tried."""
        handle = len(self._functions)
        name = f"_x{handle}"
        k_rule, condition, span = self.constant(rule), rule.model.condition, rule.model.span
        self._line(f"def {name}(R, deal, now):", span)
        self._line("    F = deal.fields", None)
        self._line("    S = deal.funnel.stages", None)
        self._line("    stack = R._stack", None)
        self._line("    ev = None", None)
        if repeat is not None:
            self._line("    visit = deal.visit", None)
        if rule.kind == "at":
            self._line("    if deal.at_fired is None:", span)
            self._line(f"        deal.at_fired = {self.constant(set)}()", None)
            self._line(f"    deal.at_fired.add(({rule.index}, now))", None)
        if condition is not None:
            test = self._value(condition, "    ")
            self._line("    try:", None)
            self._line(f"        h = {test}", condition.span)
            self._line(f"    except {self.constant(EXPRESSION_ERRORS)} as err:", span)
            self._line(f"        R.rule_failed(deal, now, {k_rule}, None, err)", None)
            self._line("        return", None)
            self._line("    if not h:", None)
            self._line("        return", None)
        self._rule_actions(rule, "    ", limit)
        if repeat is not None:
            self._line("    if deal.visit == visit:", span)
            self._line("        deal.seq += 1", None)
            self._line(f"        {self.constant(heappush)}(deal.timers, (now + {self.constant(repeat)}, deal.seq, {k_rule}))",
                       None)
        self._line("    R._cascade(deal, now)", None)
        self._functions.append((name, None))
        return handle

    def add_schedule(self, timers: list) -> int:
        """A stage's timers started on entering it, as one function `(R, deal, now)`: `after` and `every` due at
        a precomputed offset from now, `at` when its field says (`R._at_due`); in declaration order, as
        engine/replay.py's `_schedule`."""
        handle = len(self._functions)
        name = f"_s{handle}"
        push = self.constant(heappush)
        self._line(f"def {name}(R, deal, now):", timers[0].model.span)
        self._line("    timers = deal.timers", None)
        for rule in timers:
            k_rule = self.constant(rule)
            if rule.kind == "at":
                self._line(f"    due = R._at_due(deal, {k_rule}, now)", rule.model.span)
                self._line("    if due is not None:", None)
                self._line("        deal.seq += 1", None)
                self._line(f"        {push}(timers, (due, deal.seq, {k_rule}))", None)
            else:
                self._line("    deal.seq += 1", rule.model.span)
                self._line(f"    {push}(timers, (now + {self.constant(rule.delay)}, deal.seq, {k_rule}))", None)
        self._functions.append((name, None))
        return handle

    def _value(self, expr: ast.Expr, pad: str) -> str:
        """An expression's code inside a rule function, after the lines that give it the deal's stage and entry as
        they are now (an earlier action may have moved the deal), when it reads them."""
        self._temps = 0
        code, self._unset = self.emit(expr)
        if _READS_STAGE.search(code):
            self._line(f"{pad}st = S[deal.stage].id", None)
        if _READS_ENTRY.search(code):
            self._line(f"{pad}ent = deal.entered", None)
        return code

    def _line(self, text: str, span: Span | None) -> None:
        self.lines.append(text)
        if span is not None:
            self.line_spans[len(self.lines)] = span

    def add_all(self, exprs: tuple[ast.Expr, ...]) -> int:
        """One function that holds when every expression holds (a stage's `require`s)."""
        if len(exprs) == 1:
            return self.add(exprs[0])
        joined = exprs[0]
        for expr in exprs[1:]:
            joined = ast.Binary("and", joined, expr, expr.span)
        return self.add(joined)

    def build(self) -> list[Callable]:
        """Compile the module; returns the functions in the order of their handles.

        The code object is cached by the hash of the source (which the spec alone decides): a spec compiled again
        in the same process (coverage after a replay, diff, a reloaded server) skips `compile()`."""
        source = "\n".join(self.lines) + "\n"
        key = hashlib.sha256(f"{self.name}\0{source}".encode("utf-8", "surrogatepass")).hexdigest()
        code = _CODE.get(key)
        if code is None:
            if len(_CODE) >= CODE_CACHE:
                _CODE.clear()
            code = _CODE[key] = compile(source, f"<funnel {self.name}>", "exec")
        namespace = dict(self.namespace)
        namespace["__builtins__"] = {}
        exec(code, namespace)  # noqa: S102 - generated from the checked model, see the module docstring
        return [namespace[name] for name, _ in self._functions]

    @property
    def source(self) -> str:
        return "\n".join(self.lines) + "\n"

    def span_of_line(self, line: int) -> Span | None:
        """The span of the expression a generated line came from."""
        return self.line_spans.get(line)

    def export_text(self) -> str:
        """The module as `funnel export --python` prints it: what each constant holds, and each line's source."""
        out = [f"# funnel {self.name}: the module engine/codegen.py generates and `compile()`s for it.",
               "# F is the deal's field values by index, st its stage, now the instant, ent when it entered the",
               "# stage, ev the event's data. The namespace has no builtins; its constants:"]
        out += [f"#   F[{index}] = {name}" for name, index in self.field_index.items()]
        for name, value in self.namespace.items():
            if name.startswith("_f"):
                shown = f"the built-in `{_function_name(value)}`"
            elif value is EXPRESSION_ERRORS:
                shown = "(ArithmeticError, TypeError, ValueError): what a failed expression raises"
            elif value is len or value is set or value is heappush:
                shown = value.__name__
            elif type(value).__name__ == "CompiledRule":
                shown = f"the rule `{value.label}`"
            elif type(value).__name__ == "CompiledAction":
                shown = f"its {value.kind} action at line {value.span['line']}"
            else:
                shown = repr(value)
            out.append(f"#   {name} = {shown}")
        out.append("")
        width = max((len(line) for line in self.lines), default=0)
        shown = None
        for number, line in enumerate(self.lines, 1):
            span = self.line_spans.get(number)
            if span is None or span == shown:          # the source of a line is named where it changes
                out.append(line)
                continue
            shown = span
            out.append(f"{line:<{width}}  # {span.file}:{span.line}:{span.column}")
        return "\n".join(out) + "\n"

    # expressions -> (code, may be unset) -----------------------------------

    def _temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def emit(self, expr) -> tuple[str, bool]:
        kind = type(expr)
        if kind is ast.Literal:
            return self.constant(literal_value(expr)), False
        if kind is ast.Name:
            if expr.name in self.field_index:
                return f"F[{self.field_index[expr.name]}]", True
            if expr.name == "stage":
                return "st", False
            if expr.name == "now":
                return "now", False
            if expr.name == "time_in_stage":
                return "(now - ent)", False
            raise NameError(expr.name)
        if kind is ast.EventRef:
            return f"ev.get({self.constant(expr.field)})", True
        if kind is ast.Unary:
            code, unset = self.emit(expr.operand)
            if expr.op == "not":
                return f"(not {code})", False
            if not unset:
                return f"(-{code})", False
            t = self._temp()
            return f"(None if ({t} := {code}) is None else -{t})", True
        if kind is ast.Binary:
            return self._binary(expr)
        if kind is ast.IsSet:
            code, _ = self.emit(expr.operand)
            return f"({code} is {'' if expr.negated else 'not '}None)", False
        if kind is ast.InList:
            code, _ = self.emit(expr.operand)
            items, _ = self.emit(expr.items)
            return f"({code} {'not in' if expr.negated else 'in'} {items})", False
        if kind is ast.ListLit:
            items = [self.emit(i)[0] for i in expr.items]
            return "(" + "".join(f"{i}, " for i in items) + ")", False
        if kind is ast.Call:
            args = ", ".join(self.emit(a)[0] for a in expr.args)
            return f"{self.function(expr.func.name)}({args})", True
        raise TypeError(f"unknown expression node {kind.__name__}")

    def _binary(self, expr: ast.Binary) -> tuple[str, bool]:
        op = expr.op
        left, left_unset = self.emit(expr.left)
        right, right_unset = self.emit(expr.right)
        if op in ("and", "or"):
            return f"({left} {op} {right})", left_unset or right_unset
        if op in ("==", "!="):
            return f"({left} {op} {right})", False
        if not (left_unset or right_unset):
            return f"({left} {op} {right})", False
        if not right_unset:         # a literal or a name always set: only the left side needs its test
            a = self._temp()
            if op in ORDERING:
                return f"(({a} := {left}) is not None and {a} {op} {right})", False
            return f"(None if ({a} := {left}) is None else {a} {op} {right})", True
        a, b = self._temp(), self._temp()
        if op in ORDERING:
            return f"(({a} := {left}) is not None and ({b} := {right}) is not None and {a} {op} {b})", False
        return f"(None if ({a} := {left}) is None or ({b} := {right}) is None else {a} {op} {b})", True
