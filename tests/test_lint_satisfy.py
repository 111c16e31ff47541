"""The decision procedure behind FNL208 and FNL304-306: unit cases and a property test against evaluation.

The property: whatever the procedure answers must agree with evaluating the
condition. NO means no deal satisfies it (checked on many deals); YES comes
with an example deal that does satisfy it.
"""
from __future__ import annotations

import operator

import pytest
from hypothesis import given, settings, strategies as st

from funnelspec.dsl import ast
from funnelspec.dsl.domains import ANY_VALUE, Numbers, Strings
from funnelspec.dsl.parser import parse_text
from funnelspec.dsl.satisfy import Answer, Decisions, condition, decide
from funnelspec.dsl.terms import example_text, term_for
from funnelspec.dsl.source import Span
from funnelspec.dsl.types import Type

S = Span("<t>", 1, 1, 1, 1)
FIELDS = {
    "n": Type("int"), "x": Type("number", optional=True), "e": Type("enum", ("a", "b", "c")),
    "t": Type("text"), "f": Type("bool", optional=True), "g": Type("bool"),
}
TERMS = {name: term_for(name, t) for name, t in FIELDS.items()}
TERMS["stage"] = term_for("stage", Type("stage", ("new", "won", "lost")))


def expr(text: str) -> ast.Expr:
    tree, problems = parse_text(f"funnel f {{ stage new {{ start }} new -> new when {text} }}")
    assert not problems, problems
    return tree.funnels[0].items[-1].criterion


def answer(*texts: str, **bindings) -> Answer:
    return decide([condition(expr(t), **bindings) for t in texts], TERMS).answer


def test_remembered_decisions_tell_apart_what_the_conditions_say():
    """Decisions (FNL305 on large specs) key a verdict by the text and the bindings of the names read."""
    decided = Decisions(TERMS)
    at_won = decided([condition(expr('stage == "won"'), stage="won")])
    at_new = decided([condition(expr('stage == "won"'), stage="new")])
    assert (at_won.answer, at_new.answer) == (Answer.YES, Answer.NO)        # `stage` is read: bound apart
    assert decided([condition(expr("n > 10"), stage="new")]) is decided([condition(expr("n > 10"), stage="won")])
    assert decided([condition(expr("n > 10"))]).answer is Answer.YES
    assert decided([condition(expr("n > 10")), condition(expr("n < 5"))]).answer is Answer.NO
    assert len(decided.known) == 4


@pytest.mark.parametrize("text", [
    "x > 10 and x < 5", "n > 10 and n < 11", "n >= 3 and n <= 2", "e in [\"a\", \"b\"] and e == \"c\"",
    "e != \"a\" and e != \"b\" and e != \"c\"", "x is set and x is not set", "g and not g", "f == true and not f",
    "t == \"x\" and t == \"y\"", "1 > 2", "false", "not true", "x > 1 and (x < 0 or x < 1)",
    "length(t) > 3 and not length(t) > 3", "x < n and x >= n", "x < n and n < x",
    "stage == \"won\"", "n in [1, 2] and n in [3, 4]", "x > 2 * 5 and x < 10",
])
def test_contradictions_are_no(text):
    assert answer(text, stage="new") is Answer.NO


@pytest.mark.parametrize("text", [
    "x > 10 and x < 11", "n > 10", "e in [\"a\", \"b\"] and e != \"a\"", "x is not set", "not x > 3",
    "t != \"x\"", "f or g", "not (n > 1 and n < 5)", "x < n", "not x < n and not x >= n", "stage == \"new\"",
    "e not in [\"a\"]", "n > 2.5 and n < 3.5",
])
def test_satisfiable_are_yes(text):
    assert answer(text, stage="new") is Answer.YES


@pytest.mark.parametrize("text", ["length(t) > 3", "x + n > 3", "n > 1 and x < n and x > 5"])
def test_computed_conditions_are_unknown(text):
    verdict = decide([condition(expr(text))], TERMS)
    assert verdict.answer is Answer.UNKNOWN
    assert verdict.undecided


def test_conjunction_of_several_conditions():
    assert answer("n > 5", "n < 3") is Answer.NO
    assert answer("n > 5", "n < 7") is Answer.YES


def test_example_names_the_values():
    verdict = decide([condition(expr("n > 10 and e == \"b\" and x is not set"))], TERMS)
    assert example_text(verdict, TERMS) == "`e` = \"b\", `n` = 11, `x` is not set"


def test_int_needs_a_whole_number():
    assert answer("n > 1 and n < 2") is Answer.NO
    assert answer("x > 1 and x < 2") is Answer.YES


def test_two_unset_values_are_equal():
    terms = {**TERMS, "y": term_for("y", Type("number", optional=True))}
    both = decide([condition(expr("x == y and not x <= y"))], terms)
    assert both.answer is not Answer.NO        # both unset: `==` holds and `<=` does not


def test_number_sets():
    below = Numbers.compare("<", 5)
    assert below.complement() == Numbers.compare(">=", 5)
    assert Numbers.compare("!=", 3).intersect(Numbers.points([3])).is_empty(False)
    assert not Numbers.points([1, 2]).union(Numbers.compare(">", 10)).is_empty(True)
    assert Strings(True, frozenset({"a"})).complement().within(frozenset({"a", "b"})) == Strings(True, frozenset({"b"}))


def _pairwise_intersect(a: Numbers, b: Numbers) -> Numbers:
    """The intersection as it was computed before the sweep: every pair, then sorted (the reference)."""
    from funnelspec.dsl.domains import _intersect

    found = [_intersect(x, y) for x in a.parts for y in b.parts]
    return Numbers(tuple(sorted((i for i in found if not i.is_empty()), key=lambda i: (i.lo, not i.lo_closed))))


def _numbers_from(ops):
    result = Numbers(())
    for op, value in ops:
        result = result.union(Numbers.compare(op, value)) if op != "pts" else result.union(Numbers.points(value))
    return result


number_sets = st.lists(st.one_of(
    st.tuples(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), st.integers(-5, 5)),
    st.tuples(st.just("pts"), st.lists(st.integers(-5, 5), max_size=4))), max_size=4).map(_numbers_from)


@settings(max_examples=300, deadline=None)
@given(a=number_sets, b=number_sets)
def test_the_sweep_intersects_as_every_pair_did(a, b):
    assert a.intersect(b) == _pairwise_intersect(a, b)
    assert Numbers.points([3, 1, 2, 1]) == Numbers.compare("==", 1).union(Numbers.compare("==", 2)).union(
        Numbers.compare("==", 3))


# Property: agree with evaluation ---------------------------------------------------

def _lit(value) -> ast.Literal:
    if isinstance(value, bool):
        return ast.Literal(value, "bool", "true" if value else "false", S)
    if isinstance(value, str):
        return ast.Literal(value, "string", "", S)
    return ast.Literal(value, "number", str(value), S)


def _name(name: str) -> ast.Name:
    return ast.Name(name, S)


numbers = st.sampled_from([-1, 0, 1, 2, 3, 2.5])
comparisons = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
atoms = st.one_of(
    st.builds(lambda f, op, v: ast.Binary(op, _name(f), _lit(v), S), st.sampled_from(["n", "x"]), comparisons, numbers),
    st.builds(lambda op, v: ast.Binary(op, _name("e"), _lit(v), S), st.sampled_from(["==", "!="]),
              st.sampled_from(["a", "b", "c"])),
    st.builds(lambda op, v: ast.Binary(op, _name("t"), _lit(v), S), st.sampled_from(["==", "!="]),
              st.sampled_from(["p", "q"])),
    st.builds(lambda items, neg: ast.InList(_name("e"), ast.ListLit(tuple(_lit(i) for i in items), S), neg, S),
              st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2), st.booleans()),
    st.builds(lambda items, neg: ast.InList(_name("n"), ast.ListLit(tuple(_lit(i) for i in items), S), neg, S),
              st.lists(numbers, min_size=1, max_size=2), st.booleans()),
    st.builds(lambda f, neg: ast.IsSet(_name(f), neg, S), st.sampled_from(["x", "f"]), st.booleans()),
    st.sampled_from([_name("f"), _name("g"), _lit(True), _lit(False)]),
    st.builds(lambda op: ast.Binary(op, _name("x"), _name("n"), S), comparisons),
)
conditions = st.recursive(atoms, lambda inner: st.one_of(
    st.builds(lambda a, b: ast.Binary("and", a, b, S), inner, inner),
    st.builds(lambda a, b: ast.Binary("or", a, b, S), inner, inner),
    st.builds(lambda a: ast.Unary("not", a, S), inner),
), max_leaves=6)

ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
DEALS = [dict(n=n, x=x, e=e, t=t, f=f, g=g)
         for n in (-1, 0, 1, 2, 3) for x in (None, -1, 0, 1, 2, 2.5, 3) for e in "abc" for t in ("p", "q", "z")
         for f in (None, True, False) for g in (True, False)][::3]


def evaluate(node, deal):
    """The language's meaning (engine/evaluate.py's rules for unset values), for the nodes generated here."""
    if isinstance(node, ast.Literal):
        return node.value
    if isinstance(node, ast.Name):
        return deal[node.name]
    if isinstance(node, ast.Unary):
        return not evaluate(node.operand, deal)
    if isinstance(node, ast.IsSet):
        return (evaluate(node.operand, deal) is None) == node.negated
    if isinstance(node, ast.InList):
        return (evaluate(node.operand, deal) in [i.value for i in node.items.items]) != node.negated
    left = evaluate(node.left, deal)
    if node.op == "and":
        return left and evaluate(node.right, deal)
    if node.op == "or":
        return left or evaluate(node.right, deal)
    right = evaluate(node.right, deal)
    if node.op in ("==", "!="):
        return (left == right) == (node.op == "==")
    return False if left is None or right is None else ORDER[node.op](left, right)


def deal_from(example) -> dict:
    deal = dict(n=0, x=0, e="a", t="p", f=True, g=True)
    for name, value in example:
        deal[name] = {"x": 1, "n": 1, "f": True, "g": True, "t": "p", "e": "a"}[name] if value is ANY_VALUE else value
    return deal


@settings(max_examples=300, deadline=None)
@given(conditions)
def test_verdicts_agree_with_evaluation(node):
    verdict = decide([condition(node)], TERMS)
    if verdict.answer is Answer.NO:
        assert not any(evaluate(node, deal) for deal in DEALS)
    elif verdict.answer is Answer.YES and not _has_relation(node):
        assert evaluate(node, deal_from(verdict.example))


def _has_relation(node) -> bool:
    if isinstance(node, ast.Binary) and isinstance(node.right, ast.Name):
        return True
    return any(_has_relation(child) for child in vars(node).values() if type(child).__module__ == ast.__name__)
