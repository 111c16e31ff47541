"""Properties of the parser and resolver, with generated input (hypothesis).

- A generated well-formed, well-typed funnel parses and resolves with no finding.
- Any text at all — random, or an example with random damage — gives a model
  or diagnostics, never an exception; every diagnostic points into the text
  and renders.
- The parser's fast path builds exactly lark's tree, or gives way to lark
  when the text does not parse.
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES
from funnelspec.api import analyse
from funnelspec.dsl.ast_builder import InvalidSyntax
from funnelspec.dsl.diagnostics import Severity
from funnelspec.dsl.parser import _parser
from funnelspec.dsl.render.text import render_text
from lark.exceptions import LarkError

PROPERTY = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
EXAMPLE_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.rglob("*.funnel"))]

STAGE_IDS = ["new", "qualification", "meeting", "proposal", "negotiation", "этап_1", "переговоры", "s2", "won_like",
             "start", "require", "sla"]
FIELD_NAMES = ["budget", "paid", "manager", "segment", "calls", "vip", "meeting_at", "сумма", "канал", "flag_2",
               "start", "won", "sla", "require", "rule", "block", "at", "probability", "value", "when"]  # keywords elsewhere
TITLES = ["Новый лид", "Квалификация", "Встреча/Звонок", "КП", "Согласование", "Sales «B2B»", 'Кавычки \\"внутри\\"']
DURATIONS = ["30m", "12h", "1d", "3d", "2w", "1_0d"]


@st.composite
def field_decls(draw):
    """(name, kind, options, optional) for 3-7 fields with distinct names."""
    names = draw(st.lists(st.sampled_from(FIELD_NAMES), min_size=3, max_size=7, unique=True))
    fields = []
    for name in names:
        kind = draw(st.sampled_from(["money", "number", "int", "text", "bool", "datetime", "enum", "duration"]))
        options = tuple(draw(st.lists(st.sampled_from(["a", "b", "целевой", "spam", "x_y"]), min_size=1,
                                      max_size=4, unique=True))) if kind == "enum" else ()
        optional = kind in ("text", "datetime") and draw(st.booleans())
        fields.append((name, kind, options, optional))
    return fields


def field_line(name, kind, options, optional, draw) -> str:
    type_text = " | ".join(f'"{o}"' for o in options) if kind == "enum" else kind
    default = {
        "money": f" = {draw(st.integers(0, 10**6))}", "number": " = 0.5", "int": " = 0", "bool": " = false",
        "text": ' = ""', "enum": f' = "{options[0]}"' if options else "", "datetime": "", "duration": " = 1d",
    }[kind]
    if optional:
        return f"    {name}: {type_text}?"
    return f"    {name}: {type_text}{default if kind != 'datetime' else ''}"


def condition(draw, fields, stages, depth=0) -> str:
    """A true/false expression over the declared fields."""
    if depth < 2 and draw(st.integers(0, 3)) == 0:
        op = draw(st.sampled_from(["and", "or"]))
        left, right = condition(draw, fields, stages, depth + 1), condition(draw, fields, stages, depth + 1)
        text = f"{left} {op} {right}"
        return f"not ({text})" if draw(st.booleans()) else f"({text})"
    name, kind, options, optional = draw(st.sampled_from(fields))
    if optional or kind == "datetime":
        return f"{name} is {draw(st.sampled_from(['set', 'not set']))}"
    if kind in ("money", "number", "int"):
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        other = draw(st.sampled_from([str(draw(st.integers(0, 10**6))), "1_000", "2.5", name,
                                      f"{name} * 2 + 1", f"-{name}"]))
        return f"{name} {op} {other}"
    if kind == "bool":
        return name if draw(st.booleans()) else f"not {name}"
    if kind == "enum":
        values = ", ".join(f'"{o}"' for o in options)
        return draw(st.sampled_from([f'{name} == "{options[0]}"', f"{name} in [{values}]",
                                     f"{name} not in [{values}]"]))
    if kind == "duration":
        return f"{name} > {draw(st.sampled_from(DURATIONS))}"
    return draw(st.sampled_from([f'{name} != ""', f'lower({name}) == "x"', f'stage == "{stages[0]}"',
                                 f"time_in_stage > {draw(st.sampled_from(DURATIONS))}"]))


def action(draw, fields, stages) -> str:
    name, kind, options, optional = draw(st.sampled_from(fields))
    text_fields = [f for f, k, _, _ in fields if k == "text"]
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return f"move to {draw(st.sampled_from(stages + ['won', 'lost']))}"
    if choice == 1:
        recipient = draw(st.sampled_from(text_fields)) if text_fields and draw(st.booleans()) else '"Отдел продаж"'
        return f'notify {recipient} "{draw(st.sampled_from(TITLES))}"'
    if choice == 2:
        return f'task "{draw(st.sampled_from(TITLES))}" due {draw(st.sampled_from(DURATIONS))}'
    value = {"money": f"{name} + 1", "number": f"{name} / 2", "int": f"{name} + 1", "bool": "true",
             "text": '"готово"', "enum": f'"{options[-1]}"' if options else None, "datetime": "now + 1d",
             "duration": "2h"}[kind]
    return f"set {name} = {value}" if value else "emit ping"


def rule(draw, fields, stages) -> str:
    stage = draw(st.sampled_from(stages))
    trigger = draw(st.sampled_from([
        f"on enter {stage}", f"on exit {stage}", "on event ping", f"on change {fields[0][0]}",
        f"after {draw(st.sampled_from(DURATIONS))} in {stage}", f"every {draw(st.sampled_from(DURATIONS))} in {stage}",
    ]))
    if trigger.startswith("every") and draw(st.booleans()):
        trigger += f" while {condition(draw, fields, stages)}"
    elif not trigger.startswith("every") and draw(st.booleans()):
        trigger += f" when {condition(draw, fields, stages)}"
    actions = [action(draw, fields, stages) for _ in range(draw(st.integers(1, 3)))]
    if len(actions) == 1:
        return f"  {trigger}: {actions[0]}"
    return f"  {trigger} {{\n" + "".join(f"    {a}\n" for a in actions) + "  }"


@st.composite
def funnels(draw):
    fields = draw(field_decls())
    stages = draw(st.lists(st.sampled_from(STAGE_IDS), min_size=1, max_size=6, unique=True))
    lines = [f'funnel f_{draw(st.integers(0, 99))} "{draw(st.sampled_from(TITLES))}" {{']
    money = [n for n, k, _, opt in fields if k in ("money", "number", "int") and not opt]
    if money and draw(st.booleans()):
        lines += ["  currency RUB", f"  value {money[0]}"]
    lines.append("  fields {")
    lines += [field_line(*f, draw) for f in fields]
    lines += ["  }", "  events { ping  payment { amount: money } }"]
    for i, stage in enumerate(stages):
        items = ["start"] if i == 0 else []
        if draw(st.booleans()):
            items.append(f"probability {draw(st.integers(0, 100))}%")
        if draw(st.booleans()):
            items.append(f"sla {draw(st.sampled_from(DURATIONS))}")
        if draw(st.booleans()):
            items.append(f"require {condition(draw, fields, stages)}")
        lines.append(f'  stage {stage} "{draw(st.sampled_from(TITLES))}" {{ {"  ".join(items)} }}')
    lines += ['  stage won "Успех" { won }', '  stage lost "Отклонено" { lost }']
    targets = stages[1:] + ["won"]
    for source, target in zip(stages, targets):
        criterion = f" when {condition(draw, fields, stages)}" if draw(st.booleans()) else ""
        lines.append(f"  {source} -> {target}{criterion}")
    lines.append('  any -> lost because "отказ"')
    lines += [rule(draw, fields, stages) for _ in range(draw(st.integers(0, 6)))]
    lines.append("}")
    return "\n".join(lines) + "\n"


@PROPERTY
@given(text=funnels())
def test_generated_funnels_parse_and_resolve_without_findings(text):
    result = analyse("generated.funnel", text, lint=False)
    assert result.diagnostics == [], "\n" + text + "\n" + render_text(result.diagnostics, result.sources)
    assert result.spec is not None


def check_never_raises(text: str) -> None:
    result = analyse("input.funnel", text, lint=False)
    if result.spec is None:
        assert any(d.severity is Severity.ERROR for d in result.diagnostics)
    lines = text.split("\n")
    for d in result.diagnostics:
        if d.span.file == "input.funnel":
            assert 1 <= d.span.line <= len(lines)
            assert 1 <= d.span.column <= len(lines[d.span.line - 1]) + 1
    render_text(result.diagnostics, result.sources)


@PROPERTY
@given(text=st.text(max_size=300))
def test_arbitrary_text_gives_diagnostics_not_exceptions(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)          # an `import` in the text looks for files here
    check_never_raises(text)


VOCABULARY = ["{", "}", "(", ")", "[", "]", '"', "'", "->", "=", "==", ":", ";", ",", ".", "?", "|", "#", "\n",
              " when ", " and ", " not ", " stage ", " block ", " any ", " on ", " enter ", " after ", " in ",
              " 3d", " 10%", " 2026-13-45", " 2026-02-30T10:00", " 1x", " event.", " funnel ", " import ",
              " -", " *", " /", " is set", " because ", " fields ", "stage ", "ё", "\t", "\\"]


@st.composite
def damaged_examples(draw):
    text = draw(st.sampled_from(EXAMPLE_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.integers(0, 2))
        if kind == 0:
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif kind == 1:
            text = text[:at] + draw(st.sampled_from(VOCABULARY)) + text[at:]
        else:
            end = min(len(text), at + draw(st.integers(1, 80)))
            text = text[:at] + text[at:end] + text[at:]
    return text


@PROPERTY
@given(text=damaged_examples())
def test_damaged_examples_give_diagnostics_not_exceptions(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_never_raises(text)


def parse_both(text: str):
    """(fast path's result, lark's result or the exception it raised)."""
    parser = _parser()
    with parser.lock:
        parser.builder.file = "t.funnel"
        try:
            fast = parser.fast.parse(text)
        except InvalidSyntax as err:
            fast = err
        try:
            slow = parser.lark.parse(text)
        except (LarkError, InvalidSyntax) as err:
            slow = err
        finally:
            parser.comments.clear()
    return fast, slow


@PROPERTY
@given(text=st.one_of(funnels(), damaged_examples()))
def test_fast_path_agrees_with_lark(text):
    fast, slow = parse_both(text)
    if fast is None:
        assert isinstance(slow, Exception), "the fast path gave way on text that lark parses"
    elif isinstance(fast, InvalidSyntax):
        assert isinstance(slow, InvalidSyntax) and (slow.message, slow.span) == (fast.message, fast.span)
    else:
        assert fast == slow


def test_damaged_examples_start_from_the_examples():
    assert len(EXAMPLE_TEXTS) >= 10
