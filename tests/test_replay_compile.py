"""Compiled expressions (engine/codegen.py) agree with the reference evaluator (engine/evaluate.py)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnelspec.dsl import ast
from funnelspec.dsl.source import Span
from funnelspec.engine.codegen import ModuleBuilder
from funnelspec.engine.evaluate import Env, evaluate

SPAN = Span("<test>", 1, 1, 1, 2)
FIELDS = ("amount", "count", "name", "flag", "when")
FIELD_INDEX = {name: i for i, name in enumerate(FIELDS)}

values = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(-1e6, 1e6, allow_nan=False),
                   st.sampled_from(["", "a", "target", "Иванова"]))


def literal(value) -> ast.Literal:
    kind = {bool: "bool", int: "number", float: "number", str: "string"}[type(value)]
    return ast.Literal(value, kind, repr(value), SPAN)


leaves = st.one_of(
    st.sampled_from(FIELDS + ("stage", "now", "time_in_stage")).map(lambda n: ast.Name(n, SPAN)),
    st.sampled_from(["amount", "note"]).map(lambda f: ast.EventRef(f, SPAN)),
    st.one_of(st.booleans(), st.integers(-3, 3), st.floats(-10, 10, allow_nan=False),
              st.sampled_from(["a", "new", "won"])).map(literal),
)


def branches(children):
    ops = st.sampled_from(["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or"])
    return st.one_of(
        st.builds(lambda op, a, b: ast.Binary(op, a, b, SPAN), ops, children, children),
        st.builds(lambda op, a: ast.Unary(op, a, SPAN), st.sampled_from(["-", "not"]), children),
        st.builds(lambda a, neg: ast.IsSet(a, neg, SPAN), children, st.booleans()),
        st.builds(lambda a, items, neg: ast.InList(a, ast.ListLit(tuple(items), SPAN), neg, SPAN),
                  children, st.lists(children, max_size=3), st.booleans()),
        st.builds(lambda name, args: ast.Call(ast.Ident(name, SPAN), tuple(args), SPAN),
                  st.sampled_from(["min", "max", "abs", "coalesce", "lower"]), st.lists(children, min_size=1,
                                                                                         max_size=3)),
    )


expressions = st.recursive(leaves, branches, max_leaves=12)


def outcome(fn):
    try:
        return "value", fn()
    except (ArithmeticError, TypeError, ValueError, AttributeError) as err:
        return "error", type(err).__name__


@settings(max_examples=400, deadline=None)
@given(expr=expressions, field_values=st.lists(values, min_size=len(FIELDS), max_size=len(FIELDS)),
       event=st.fixed_dictionaries({"amount": values, "note": values}), now=st.integers(0, 10**9),
       stay=st.integers(0, 10**6), stage=st.sampled_from(["new", "won"]))
def test_compiled_expressions_agree_with_the_reference(expr, field_values, event, now, stay, stage):
    builder = ModuleBuilder("test", FIELD_INDEX)
    handle = builder.add(expr)
    compiled = builder.build()[handle]
    env = Env(dict(zip(FIELDS, field_values)), stage, float(now), float(now - stay), event)
    expected = outcome(lambda: evaluate(expr, env))
    got = outcome(lambda: compiled(list(field_values), stage, float(now), float(now - stay), event))
    assert got == expected
    if expected[0] == "value":
        assert type(got[1]) is type(expected[1])


def test_generated_code_holds_no_user_text():
    """Field names and literals reach the module as indices and constants, never as source text."""
    evil = ast.Binary("==", ast.Name("name", SPAN), literal('x") or __import__("os'), SPAN)
    builder = ModuleBuilder("test", FIELD_INDEX)
    handle = builder.add(evil)
    assert "__import__" not in builder.source and "name" not in builder.source.replace("_k", "")
    assert builder.build()[handle](["", 0, 'x") or __import__("os', None, None], "new", 0.0, 0.0, None) is True
    assert builder.span_of_line(1) == SPAN


def test_the_module_has_no_builtins():
    builder = ModuleBuilder("test", FIELD_INDEX)
    builder.add(ast.Name("amount", SPAN))
    functions = builder.build()
    assert functions[0].__globals__["__builtins__"] == {}


@pytest.mark.parametrize("text,expected", [
    ("amount > 5", False),           # unset: an ordering is false
    ("amount + 1 is set", False),    # unset: arithmetic stays unset
    ("not flag", True),              # unset counts as false in a condition
    ("name == \"\"", False),
])
def test_unset_values(text, expected):
    from funnelspec.dsl.parser import parse_source
    from funnelspec.dsl.source import Source

    tree, _ = parse_source(Source("<t>", "funnel f { stage a { start } a -> a when " + text + " }"))
    criterion = tree.funnels[0].items[-1].criterion
    builder = ModuleBuilder("test", FIELD_INDEX)
    handle = builder.add(criterion)
    fields = [None, 0, None, None, None]
    assert bool(builder.build()[handle](fields, "a", 0.0, 0.0, None)) is expected
    assert bool(evaluate(criterion, Env(dict(zip(FIELDS, fields)), "a", 0.0, 0.0))) is expected
