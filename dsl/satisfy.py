"""Can these conditions hold together? A small decision procedure for criteria and rule conditions.

The answer is YES (with an example of the values), NO (they contradict each
other), or UNKNOWN (the procedure cannot tell, and says which parts it could
not reason about). It never guesses: YES and NO are proofs within the
language's meaning.

How: conditions are put in disjunctive normal form over atoms. An atom that
compares one term (a field, `stage`, `now`, `time_in_stage`, `event.X`) with
constants (`==`, `<`, `in [...]`, `is set`, a bool field) becomes a set of
values of that term (dsl/domains.py); `a < b` between two terms becomes a set
of relations {less, equal, greater, unset}; anything else (function calls,
arithmetic on fields) is opaque, known only to contradict its own negation.

Unset values follow the evaluator: an unset value equals nothing, so `==`,
`<`, `in` and the like are false for it and `!=`, `not in` are true.
"""
from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from . import ast
from .domains import Numbers, Strings, Term, Values
from .model import per_funnel
from .render.expr import expr_text
from .resolve import literal_value
from .terms import funnel_terms

MAX_CLAUSES = 256
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
COMPARISONS = frozenset(FLIP)
# How two terms can relate: less, equal, greater, one of them unset, both unset (then `==` holds)
LT, EQ, GT, ONE_UNSET, BOTH_UNSET = "lt", "eq", "gt", "one-unset", "both-unset"
RELATIONS = {"<": {LT}, "<=": {LT, EQ}, "==": {EQ, BOTH_UNSET}, ">=": {GT, EQ}, ">": {GT}}
SWAP = {LT: GT, GT: LT, EQ: EQ, ONE_UNSET: ONE_UNSET, BOTH_UNSET: BOTH_UNSET}


class Answer(enum.Enum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verdict:
    answer: Answer
    example: tuple[tuple[str, object], ...] = ()     # (term, value or None for unset), when YES
    undecided: tuple[str, ...] = ()                   # the parts it could not reason about, when UNKNOWN


@dataclass(frozen=True)
class Condition:
    """An expression, with names bound to constants where it is evaluated (`stage` in a transition)."""

    expr: ast.Expr
    bindings: tuple[tuple[str, object], ...] = ()


def condition(expr: ast.Expr, **bindings) -> Condition:
    return Condition(expr, tuple(sorted(bindings.items())))


# Atoms -------------------------------------------------------------------------

@dataclass(frozen=True)
class Restrict:
    values: Values


@dataclass(frozen=True)
class Relation:
    left: str
    right: str
    relations: frozenset[str]
    domain: frozenset[str]
    terms: tuple[Term | None, Term | None]


@dataclass(frozen=True)
class Opaque:
    key: str
    positive: bool


class _TooComplex(Exception):
    pass


_NOT_CONSTANT = object()


@dataclass
class _Reader:
    """Turns one expression into DNF clauses, given the terms it may name and its bindings."""

    terms: Mapping[str, Term]
    bindings: dict[str, object] = field(default_factory=dict)

    def term_of(self, expr) -> Term | None:
        if isinstance(expr, ast.Name) and expr.name not in self.bindings:
            return self.terms.get(expr.name)
        if isinstance(expr, ast.EventRef):
            return self.terms.get(f"event.{expr.field}")
        return None

    def constant(self, expr):
        """The value of an expression made of literals (and bound names), else _NOT_CONSTANT."""
        kind = type(expr)
        if kind is ast.Name:
            return self.bindings.get(expr.name, _NOT_CONSTANT)
        if kind is ast.Literal:
            return literal_value(expr)
        if kind is ast.Unary:
            value = self.constant(expr.operand)
            if expr.op == "not":
                return (not value) if isinstance(value, bool) else _NOT_CONSTANT
            return -value if _is_number(value) else _NOT_CONSTANT
        if kind is ast.Binary:
            left, right = self.constant(expr.left), self.constant(expr.right)
            if left is _NOT_CONSTANT or right is _NOT_CONSTANT:
                return _NOT_CONSTANT
            return _apply(expr.op, left, right)
        return _NOT_CONSTANT

    def clauses(self, expr, positive: bool = True) -> list[tuple]:
        if isinstance(expr, ast.Unary) and expr.op == "not":
            return self.clauses(expr.operand, not positive)
        if isinstance(expr, ast.Binary) and expr.op in ("and", "or"):
            left, right = self.clauses(expr.left, positive), self.clauses(expr.right, positive)
            if (expr.op == "and") == positive:
                return conjoin(left, right)
            return _capped(left + right)
        atom = self.atom(expr, positive)
        if atom is True:
            return [()]
        if atom is False:
            return []
        return [(atom,)]

    def atom(self, expr, positive: bool):
        value = self.constant(expr)
        if isinstance(value, bool):
            return value == positive
        if isinstance(expr, (ast.Name, ast.EventRef)):
            term = self.term_of(expr)
            if term is not None and term.kind == "bool":
                return self.restrict(Values(term, frozenset({True}), False), positive)
        elif isinstance(expr, ast.IsSet):
            return self.is_set(expr, positive)
        elif isinstance(expr, ast.InList):
            found = self.in_list(expr, positive != expr.negated)
            if found is not None:
                return found
        elif isinstance(expr, ast.Binary) and expr.op in COMPARISONS:
            found = self.comparison(expr, positive)
            if found is not None:
                return found
        return Opaque(expr_text(expr), positive)

    def restrict(self, values: Values, positive: bool):
        values = values if positive else values.complement()
        if values.is_empty():
            return False
        if values == values.term.everything():
            return True
        return Restrict(values)

    def is_set(self, expr: ast.IsSet, positive: bool):
        term = self.term_of(expr.operand)
        if term is None:
            return Opaque(expr_text(expr), positive)
        is_set = term.everything()
        return self.restrict(Values(term, is_set.part, False), positive != expr.negated)

    def in_list(self, expr: ast.InList, positive: bool):
        items = [self.constant(i) for i in expr.items.items]
        if any(i is _NOT_CONSTANT for i in items):
            return None
        operand = self.constant(expr.operand)
        if operand is not _NOT_CONSTANT:
            return any(_apply("==", operand, i) is True for i in items) == positive
        term = self.term_of(expr.operand)
        if term is None:
            return None
        values = self.values_equal(term, items)
        return None if values is None else self.restrict(values, positive)

    def values_equal(self, term: Term, items) -> Values | None:
        if term.kind == "number" and all(isinstance(i, (int, float)) and not isinstance(i, bool) for i in items):
            return Values(term, Numbers.points(items), False)
        if term.kind == "text" and all(isinstance(i, str) for i in items):
            return Values(term, Strings(True, frozenset(items)).within(term.universe), False)
        if term.kind == "bool" and all(isinstance(i, bool) for i in items):
            return Values(term, frozenset(items), False)
        return None

    def comparison(self, expr: ast.Binary, positive: bool):
        op, left, right = expr.op, expr.left, expr.right
        left_value, right_value = self.constant(left), self.constant(right)
        if left_value is not _NOT_CONSTANT and right_value is not _NOT_CONSTANT:
            return None      # two constants of different kinds; the type checker has spoken
        if left_value is not _NOT_CONSTANT:
            op, left, right, right_value = FLIP[op], right, left, left_value
        term = self.term_of(left)
        if right_value is _NOT_CONSTANT:
            return self.relation(op, left, right, positive)
        if term is None:
            return None
        if op in ("==", "!="):
            values = self.values_equal(term, [right_value])
            return None if values is None else self.restrict(values, positive == (op == "=="))
        if term.kind != "number" or not isinstance(right_value, (int, float)) or isinstance(right_value, bool):
            return None
        return self.restrict(Values(term, Numbers.compare(op, right_value), False), positive)

    def relation(self, op: str, left, right, positive: bool) -> Relation:
        terms = [self.term_of(left), self.term_of(right)]
        keys = [expr_text(left), expr_text(right)]
        unsettable = [t is None or t.optional for t in terms]
        domain = {LT, EQ, GT} | ({ONE_UNSET} if any(unsettable) else set())
        domain = frozenset(domain | ({BOTH_UNSET} if all(unsettable) else set()))
        holds = domain & frozenset(RELATIONS[op]) if op != "!=" else domain - RELATIONS["=="]
        if not positive:
            holds = domain - holds
        if keys[1] < keys[0]:
            keys.reverse()
            terms.reverse()
            holds = frozenset(SWAP[r] for r in holds)
        return Relation(keys[0], keys[1], holds, domain, (terms[0], terms[1]))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _apply(op: str, left, right):
    """`left OP right` for constants of fitting kinds, else _NOT_CONSTANT."""
    if op in ("and", "or"):
        if isinstance(left, bool) and isinstance(right, bool):
            return (left and right) if op == "and" else (left or right)
        return _NOT_CONSTANT
    same_kind = (_is_number(left) and _is_number(right)) or type(left) is type(right)
    if not same_kind:
        return _NOT_CONSTANT
    if op in ("==", "!="):
        return (left == right) == (op == "==")
    if op in COMPARISONS:
        if isinstance(left, bool):
            return _NOT_CONSTANT
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    if op == "+" and (isinstance(left, str) or _is_number(left)):
        return left + right
    if _is_number(left) and op in "-*":
        return left - right if op == "-" else left * right
    if _is_number(left) and op == "/" and right != 0:
        return left / right
    return _NOT_CONSTANT


def _capped(clauses: list) -> list:
    if len(clauses) > MAX_CLAUSES:
        raise _TooComplex
    return clauses


def conjoin(left: list[tuple], right: list[tuple]) -> list[tuple]:
    if len(left) * len(right) > MAX_CLAUSES:
        raise _TooComplex
    return [a + b for a, b in itertools.product(left, right)]


# Deciding --------------------------------------------------------------------

def _clause_verdict(clause: tuple) -> Verdict:
    values: dict[str, Values] = {}
    relations: dict[tuple[str, str], Relation] = {}
    opaque: dict[str, set[bool]] = {}
    for atom in clause:
        if isinstance(atom, Restrict):
            name = atom.values.term.name
            values[name] = values[name].intersect(atom.values) if name in values else atom.values
            if values[name].is_empty():
                return Verdict(Answer.NO)
        elif isinstance(atom, Relation):
            key = (atom.left, atom.right)
            if key in relations:
                atom = Relation(atom.left, atom.right, relations[key].relations & atom.relations,
                                atom.domain & relations[key].domain, atom.terms)
            relations[key] = atom
            if not atom.relations:
                return Verdict(Answer.NO)
        else:
            opaque.setdefault(atom.key, set()).add(atom.positive)
            if len(opaque[atom.key]) == 2:
                return Verdict(Answer.NO)
    if opaque:
        return Verdict(Answer.UNKNOWN, undecided=tuple(sorted(opaque)))
    if not _relations_realisable(relations.values(), set(values)):
        return Verdict(Answer.UNKNOWN, undecided=tuple(sorted(f"{a} vs {b}" for a, b in relations)))
    example = tuple((name, v.example()) for name, v in sorted(values.items()))
    return Verdict(Answer.YES, example)


def _relations_realisable(relations: Iterable[Relation], constrained: set[str]) -> bool:
    """Relations between free, distinct terms can always be met; anything more entangled is not decided here."""
    seen: set[str] = set(constrained)
    for relation in relations:
        left, right = relation.terms
        if left is None or right is None or left.kind != right.kind or left.kind == "bool":
            return False
        if {left.name, right.name} & seen or left.name == right.name:
            return False
        seen |= {left.name, right.name}
        can = set(relation.relations)
        if not (left.optional or right.optional):
            can.discard(ONE_UNSET)
        if not (left.optional and right.optional):
            can.discard(BOTH_UNSET)
        if left.kind == "text" and any(t.universe is not None and len(t.universe) < 2 for t in (left, right)):
            can -= {LT, GT}
        if not can:
            return False
    return True


def decide(conditions: Iterable[Condition], terms: Mapping[str, Term]) -> Verdict:
    """Can every condition hold at once?"""
    try:
        clauses: list[tuple] = [()]
        for cond in conditions:
            reader = _Reader(terms, dict(cond.bindings))
            clauses = conjoin(clauses, reader.clauses(cond.expr))
    except _TooComplex:
        return Verdict(Answer.UNKNOWN, undecided=("conditions too large to decide",))
    unknown: list[Verdict] = []
    for clause in clauses:
        verdict = _clause_verdict(clause)
        if verdict.answer is Answer.YES:
            return verdict
        if verdict.answer is Answer.UNKNOWN:
            unknown.append(verdict)
    if unknown:
        parts = sorted({part for v in unknown for part in v.undecided})
        return Verdict(Answer.UNKNOWN, undecided=tuple(parts))
    return Verdict(Answer.NO)


class Decisions:
    """`decide` over one set of terms, each verdict remembered by what its conditions say.

    What conditions say is their text and the bound values of the names they
    read; a verdict depends on nothing else. A large spec says the same thing
    many times (`while paid < budget` on a thousand stages, the criterion of
    `any -> lost` on every stage it leaves), and is decided once for each."""

    def __init__(self, terms: Mapping[str, Term]):
        self.terms = terms
        self.known: dict[tuple, Verdict] = {}

    def __call__(self, conditions: Iterable[Condition]) -> Verdict:
        conditions = list(conditions)
        key = tuple(_what_it_says(c) for c in conditions)
        verdict = self.known.get(key)
        if verdict is None:
            verdict = self.known[key] = decide(conditions, self.terms)
        return verdict


def _what_it_says(cond: Condition) -> tuple:
    read = ast.names_read(cond.expr)
    return expr_text(cond.expr), tuple(binding for binding in cond.bindings if binding[0] in read)


@per_funnel
def funnel_decisions(funnel, event: str | None = None) -> Decisions:
    """Decisions over what a condition in `funnel` can name (`event.X` of `event` too, when given)."""
    return Decisions(funnel_terms(funnel, event))
