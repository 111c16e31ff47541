"""Properties of `funnel fmt`: idempotent, meaning kept (the tree with spans aside), every comment kept.

Checked on every example and stdlib template that exists, on every case file
of the other test folders that parses, and on generated funnels written with
random spacing, line breaks, parentheses and comments in every gap between
tokens, at random line widths (narrow widths force every wrap).
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CASES, EXAMPLES, STDLIB
from funnelspec.dsl.format import comment_texts, format_text, tree_shape
from funnelspec.dsl.parser import parse_text


def assert_formats_well(text: str, name: str, width: int = 100) -> str:
    before, problems = parse_text(text, name)
    assert before is not None, problems
    formatted, problems = format_text(text, name, width)
    assert problems == []
    assert format_text(formatted, name, width)[0] == formatted, "formatting twice changes the text"
    after, problems = parse_text(formatted, name)
    assert after is not None, problems
    assert tree_shape(after) == tree_shape(before), "formatting changed the tree"
    assert comment_texts(after) == comment_texts(before), "formatting lost or changed a comment"
    return formatted


# Every funnel file in the repository -------------------------------------------------

SHIPPED = sorted(EXAMPLES.glob("**/*.funnel")) + sorted(STDLIB.glob("*.funnel"))
CASE_FILES = [p for p in sorted(CASES.glob("**/*.funnel")) if "fmt" not in p.relative_to(CASES).parts
              and parse_text(p.read_text(encoding="utf-8"), str(p))[0] is not None]


def _id(path):
    return str(path.relative_to(path.parents[1]))


@pytest.mark.parametrize("path", SHIPPED, ids=[_id(p) for p in SHIPPED])
def test_shipped_funnels_format_well(path):
    assert_formats_well(path.read_text(encoding="utf-8"), str(path))


@pytest.mark.parametrize("path", SHIPPED, ids=[_id(p) for p in SHIPPED])
def test_shipped_funnels_keep_their_model(path):
    """The resolved model (spans aside) of the formatted file is the model of the original."""
    from funnelspec.api import analyse
    from funnelspec.dsl.export import spec_to_json

    text = path.read_text(encoding="utf-8")
    before = analyse(str(path), text, lint=False)
    if before.spec is None:
        pytest.skip(f"{path.name} does not resolve on its own (it has errors)")
    after = analyse(str(path), format_text(text, str(path))[0], lint=False)
    assert after.spec is not None
    assert _without_spans(spec_to_json(after.spec)) == _without_spans(spec_to_json(before.spec))


def _without_spans(data):
    if isinstance(data, dict):
        return {k: _without_spans(v) for k, v in data.items() if k not in ("span", "id_span", "trigger_span")}
    if isinstance(data, list):
        return [_without_spans(v) for v in data]
    return data


def test_there_is_something_shipped_to_check():
    assert SHIPPED, "no examples/*.funnel nor stdlib/*.funnel found"


@pytest.mark.parametrize("path", CASE_FILES, ids=[str(p.relative_to(CASES)) for p in CASE_FILES])
def test_case_files_of_other_suites_format_well(path):
    assert_formats_well(path.read_text(encoding="utf-8"), str(path))


# Generated funnels -----------------------------------------------------------------------

NAMES = st.sampled_from(["budget", "paid", "segment", "x", "сумма", "этап_2", "менеджер", "a_b_c"])
STAGES = st.sampled_from(["s_new", "qual", "won_", "lost_", "квал", "встреча", "s3"])
# Strings hold no white space: `messy_files` puts its gaps at the spaces between tokens.
WORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
                              exclude_characters="\x85"), max_size=12)
STRINGS = WORDS.map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"')
COMMENT_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"),
                                     exclude_characters="\x85"), max_size=20)
DURATIONS = st.builds(lambda n, u: f"{n}{u}", st.sampled_from(["1", "30", "1_0", "720"]), st.sampled_from("mhdw"))
PERCENTS = st.sampled_from(["0%", "10%", "12.5%", "100%"])
NUMBERS = st.sampled_from(["0", "7", "450_000", "1_000.50", "3.25"])


def _leaf():
    return st.one_of(NUMBERS, STRINGS, st.sampled_from(["true", "false", "stage", "now", "time_in_stage"]),
                     DURATIONS, PERCENTS, st.just("2026-03-02"), st.just("2026-03-02T10:15:00+03:00"),
                     NAMES, NAMES.map(lambda n: f"event.{n}"))


def _compound(inner):
    group = inner.map(lambda e: f"({e})")
    return st.one_of(
        st.builds(lambda a, op, b: f"{a} {op} {b}", group, st.sampled_from(["and", "or", "+", "-", "*", "/"]), group),
        st.builds(lambda a, op, b: f"{a} {op} {b}", group, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), group),
        group.map(lambda e: f"not {e}"),
        group.map(lambda e: f"-{e}"),
        st.builds(lambda e, neg: f"{e} is {'not ' if neg else ''}set", group, st.booleans()),
        st.builds(lambda e, neg, items: f"{e} {'not ' if neg else ''}in [{', '.join(items)}]",
                  group, st.booleans(), st.lists(inner, max_size=3)),
        st.builds(lambda f, args: f"{f}({', '.join(args)})", st.sampled_from(["days_between", "coalesce"]),
                  st.lists(inner, max_size=3)),
        inner,
    )


EXPRS = st.recursive(_leaf(), _compound, max_leaves=8)
# A long `and` chain, so that wrapping is exercised at ordinary widths too.
CHAINS = st.lists(EXPRS, min_size=1, max_size=6).map(lambda es: " and ".join(f"({e})" for e in es))
CONDITIONS = st.one_of(EXPRS, CHAINS)


def _opt(strategy, text=lambda x: x):
    return st.one_of(st.just(""), strategy.map(text))


TYPES = st.one_of(
    st.builds(lambda t, o: t + o, st.sampled_from(["money", "text", "int", "bool", "datetime"]), _opt(st.just("?"))),
    st.builds(lambda opts, o: " | ".join(opts) + o, st.lists(STRINGS, min_size=1, max_size=5), _opt(st.just("?"))),
)
FIELD = st.builds(lambda n, t, d: f"{n}: {t}{d}", NAMES, TYPES, _opt(EXPRS, lambda e: f" = {e}"))
RECIPIENT = st.one_of(NAMES, STRINGS)
ACTION = st.one_of(
    st.builds(lambda s, b: f"move to {s}{b}", STAGES, _opt(STRINGS, lambda s: f" because {s}")),
    st.builds(lambda n, e: f"set {n} = {e}", NAMES, EXPRS),
    st.builds(lambda s, d, r: f"task {s}{d}{r}", STRINGS, _opt(EXPRS, lambda e: f" due {e}"),
              _opt(RECIPIENT, lambda r: f" for {r}")),
    st.builds(lambda r, s: f"notify {r} {s}", RECIPIENT, STRINGS),
    NAMES.map(lambda n: f"emit {n}"),
)
ACTIONS = st.one_of(ACTION.map(lambda a: f": {a}"), st.lists(ACTION, min_size=1, max_size=3).map(
    lambda acts: "{ " + " ".join(acts) + " }"))


def _trigger(scoped: bool):
    where = st.just("") if scoped else STAGES.map(lambda s: f" in {s}")
    guard = _opt(CONDITIONS, lambda c: f" when {c}")
    return st.one_of(
        st.builds(lambda k, s, g: f"on {k}{s}{g}", st.sampled_from(["enter", "exit"]),
                  st.just("") if scoped else STAGES.map(lambda s: f" {s}"), guard),
        st.builds(lambda k, n, g: f"on {k} {n}{g}", st.sampled_from(["event", "change"]), NAMES, guard),
        st.builds(lambda d, w, g: f"after {d}{w}{g}", DURATIONS, where, guard),
        st.builds(lambda d, w, g: f"every {d}{w}{g}", DURATIONS, where, _opt(CONDITIONS, lambda c: f" while {c}")),
        st.builds(lambda n, o, w, g: f"at {n}{o}{w}{g}", NAMES,
                  _opt(st.builds(lambda s, d: f" {s} {d}", st.sampled_from("+-"), DURATIONS)),
                  st.just("") if scoped else _opt(where), guard),
    )


def _rule(scoped: bool):
    return st.builds(lambda n, t, a: f"{n}{t}{a}", _opt(NAMES, lambda n: f"rule {n} "), _trigger(scoped), ACTIONS)


STAGE_ITEM = st.one_of(st.sampled_from(["start", "won", "lost", "reopen"]), PERCENTS.map(lambda p: f"probability {p}"),
                       DURATIONS.map(lambda d: f"sla {d}"), CONDITIONS.map(lambda c: f"require {c}"), _rule(True))
PLACEMENT = st.builds(lambda w, s: f" {w} {s}", st.sampled_from(["before", "after"]), STAGES)
STAGE = st.builds(lambda i, t, p, items: f"stage {i}{t}{p} {{ {' '.join(items)} }}", STAGES,
                  _opt(STRINGS, lambda s: f" {s}"), _opt(PLACEMENT), st.lists(STAGE_ITEM, max_size=5))
FUNNEL_ITEM = st.one_of(
    NAMES.map(lambda n: f"currency {n}"), NAMES.map(lambda n: f"value {n}"),
    CONDITIONS.map(lambda c: f"route when {c}"),
    st.lists(st.sampled_from(["2026-01-01", "2026-05-09", "2026-12-31"]), max_size=12).map(
        lambda ds: f"holidays [{', '.join(ds)}]"),
    st.lists(FIELD, max_size=6).map(lambda fs: "fields { " + " ".join(fs) + " }"),
    st.lists(st.builds(lambda n, fs: n + (" { " + " ".join(fs) + " }" if fs is not None else ""), NAMES,
                       st.none() | st.lists(FIELD, max_size=3)), max_size=3).map(lambda es: "events { " + " ".join(es) + " }"),
    STAGE,
    st.builds(lambda t, ss: f"block {t} {{ {' '.join(ss)} }}", STRINGS, st.lists(STAGE, max_size=3)),
    st.builds(lambda a, b, w, r: f"{a} -> {b}{w}{r}", STAGES | st.just("any"), STAGES,
              _opt(CONDITIONS, lambda c: f" when {c}"), _opt(STRINGS, lambda s: f" because {s}")),
    _rule(False),
    st.builds(lambda k, n: f"drop {k} {n}", st.sampled_from(["stage", "field", "rule"]), NAMES),
    st.builds(lambda a, b: f"drop transition {a} -> {b}", STAGES, STAGES),
)
FUNNEL = st.builds(lambda i, t, e, items: f"funnel {i}{t}{e} {{ {' '.join(items)} }}", STAGES,
                   _opt(STRINGS, lambda s: f" {s}"), _opt(st.just(" extends std.saas")), st.lists(FUNNEL_ITEM, max_size=8))
IMPORT = st.one_of(st.just("import std.saas"), STRINGS.map(lambda s: f"import {s} as lib"))
FILES = st.builds(lambda imports, funnels: " ".join(imports + funnels), st.lists(IMPORT, max_size=2),
                  st.lists(FUNNEL, min_size=1, max_size=2))

COMMENTS = COMMENT_TEXT.map(lambda w: f"# {w}")
GAPS = st.one_of(st.just(" "), st.just(" "), st.just("\n"), st.just("\n\n\n"), st.just("\t "),
                 COMMENTS.map(lambda c: f"  {c}\n"), COMMENTS.map(lambda c: f"\n{c}\n\n"))


@st.composite
def messy_files(draw):
    """A generated file with a random gap (spaces, line breaks, comments) between every two tokens."""
    tokens = draw(FILES).split(" ")
    out = [draw(st.sampled_from(["", "\n", "# top\n"]))]
    for token in tokens:
        out.append(token)
        out.append(draw(GAPS))
    return "".join(out)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_files(), st.integers(min_value=20, max_value=120))
def test_generated_funnels_format_well(text, width):
    assert_formats_well(text, "gen.funnel", width)
