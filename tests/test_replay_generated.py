"""The generated per-stage code against the reference loop: byte for byte the same result.

The replay runs each stage's automatic transitions as one generated function
(engine/codegen.py `add_cascade`) and writes actions from templates; the
reference (`run_replay(..., reference=True)`) tries the transitions one by
one, as engine/replay.py always did. On every example, template, replay
case and on hypothesis-generated specs and streams, both write the same
JSON result, and the template-made text is the records' own.
"""
from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import CASES, EXAMPLES, ROOT

from funnelspec.api import load
from funnelspec.engine.compile import compile_spec
from funnelspec.engine.sample import sample_events
from funnelspec.engine.serialize import write_json
from funnelspec.engine.simulate import CollectingSink, event_lines, result_of, run_replay
from funnelspec.engine.sinks import SpoolingSink

REPLAYS = sorted((folder / "spec.funnel", events) for folder in (CASES / "replay").iterdir()
                 for events in folder.glob("events.jsonl")) + sorted(
    (events.with_name(events.name.replace(".events.jsonl", ".funnel")), events)
    for events in list(EXAMPLES.glob("*.events.jsonl")) + list((ROOT / "stdlib").glob("*.events.jsonl")))


def _result_json(compiled, lines, reference: bool) -> str:
    sink = CollectingSink()
    run = run_replay(compiled, lines, sink, on_error="skip", moves="record", reference=reference)
    out = io.StringIO()
    write_json(result_of(compiled, run, sink, "record"), out)
    return out.getvalue()


def _both(spec, path: str) -> tuple[str, str, list[str], list[str]]:
    """(the reference's JSON result, the generated code's, the reference's actions encoded, the templates' text)."""
    compiled = compile_spec(spec)
    results = []
    for reference in (True, False):
        lines, _, _, stream = event_lines(path)
        try:
            results.append(_result_json(compiled, lines, reference))
        finally:
            if stream is not None:
                stream.close()
    lines, _, _, stream = event_lines(path)
    sink = SpoolingSink(actions="text")
    try:
        run_replay(compiled, lines, sink, on_error="skip", moves="record")
        text = list(sink.actions.json_lines())
    finally:
        sink.close()
        if stream is not None:
            stream.close()
    written = json.loads(results[0])["actions"]
    return results[0], results[1], [json.dumps(a, ensure_ascii=False) for a in written], text


@pytest.mark.parametrize("spec_path,events", REPLAYS, ids=[f"{s.parent.name}/{e.name}" for s, e in REPLAYS])
def test_the_generated_code_writes_what_the_reference_writes(spec_path, events):
    spec, diagnostics = load(str(spec_path))
    assert spec is not None, diagnostics
    reference, generated, records, text = _both(spec, str(events))
    assert generated == reference
    assert text == records


ATOMS = ("a >= {k}", "a < {k}", "b > {k}", "flag", "not flag", 't == "x"', "a / b > {k}", "when is set",
         "time_in_stage > {k}d", "t in [\"x\", \"y\"]")


@st.composite
def criteria(draw) -> str:
    parts = [draw(st.sampled_from(ATOMS)).format(k=draw(st.integers(0, 4))) for _ in range(draw(st.integers(1, 2)))]
    return f" {draw(st.sampled_from(['and', 'or']))} ".join(parts)


@st.composite
def funnels(draw) -> str:
    """A funnel of 2-6 stages with criteria, requires and rules drawn at random (some fail at run time: a / b)."""
    count = draw(st.integers(2, 6))
    ids = [f"s{i}" for i in range(count)]
    lines = ["funnel g {", "  fields {", "    a: int = 0", f"    b: int = {draw(st.integers(0, 2))}", '    t: text = ""',
             "    flag: bool = false", "    when: datetime?", "    x: number = 0", "  }", "  events { hit { n: int = 1 }  poke }"]
    for i, sid in enumerate(ids):
        body = ["start"] if i == 0 else []
        if i == count - 1:
            body.append("won")
        elif i == count - 2 and count > 2 and draw(st.booleans()):
            body += ["lost", "reopen"] if draw(st.booleans()) else ["lost"]
        if i and draw(st.integers(0, 3)) == 0:
            body.append(f"require {draw(criteria())}")
        lines.append(f"  stage {sid} {{ {'  '.join(body)} }}")
    pairs = draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)), min_size=1, max_size=10))
    seen = set()
    for source, target in pairs:
        if source == target or (source, target) in seen:
            continue
        seen.add((source, target))
        when = f" when {draw(criteria())}" if draw(st.integers(0, 4)) else ""
        lines.append(f"  {ids[source]} -> {ids[target]}{when}")
    if draw(st.booleans()):
        lines.append(f"  any -> {ids[-1]} when a > {draw(st.integers(3, 8))}")
    rules = ["on event hit: set a = a + event.n", "on event poke: set b = b - 1", "on event poke: set flag = not flag",
             f"after 2d in {ids[0]}: set t = \"x\"", f"on enter {ids[-1]}: notify \"boss\" \"done\"",
             f"every 1d in {ids[min(1, count - 1)]}: set a = a + 1", "on change a: set when = now + 1d",
             f"on event hit in {ids[min(1, count - 1)]}: move to {ids[0]}",
             "on event hit when a > 2: set t = \"x\"", "on event poke when a / b > 0: set a = a - 1",
             "on event hit: set x = 10 / b", f"on event poke in {ids[0]} {{ set a = a + 2  set x = x + 1 }}",
             "on change x: set a = a + 1",
             # every other kind of action, and the change, enter and exit rules that run generated too
             'on event hit: task "call" due 2d for "ann"', 'on event poke: notify "boss" "poked"',
             "on event hit when a > 1: emit poke", "on event poke when a > 3: emit hit",
             'on event poke: task "check" due when', 'on event hit: task "late" due (10 / b) * 1d',
             f"on enter {ids[min(1, count - 1)]}: task \"welcome\" due 1d", f"on exit {ids[0]}: set t = \"y\"",
             f"on enter {ids[0]}: set a = a + 1", f"on change t: move to {ids[-1]}",
             f"on exit {ids[0]}: move to {ids[-1]}", 'on change flag: notify "boss" "flag"',
             f"on enter {ids[-1]} {{ emit poke  set x = x + 1 }}",
             # timers, with conditions that fail (a / b), moves, repeats and `at` times
             f"after 1d in {ids[min(1, count - 1)]} when a / b > 0: move to {ids[-1]}",
             f'every 2d in {ids[0]} while a < 5: notify "boss" "tick"', 'at when + 1d: set t = "at"',
             f'at when - 1d in {ids[min(1, count - 1)]}: task "soon" due 1h', f"every 1d in {ids[0]}: emit hit",
             'at when + 1d when a / b > 1: set t = "late"']
    chosen = draw(st.lists(st.sampled_from(rules), min_size=1, max_size=10, unique=True))
    lines += [f"  {rule}" for rule in chosen]
    lines.append("}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(text=funnels(), seed=st.integers(0, 10**6), deals=st.integers(1, 8))
def test_generated_specs_and_streams_give_the_same_bytes(text, seed, deals, tmp_path_factory):
    spec, _ = load("g.funnel", text)
    assume(spec is not None)
    path = tmp_path_factory.mktemp("generated") / "events.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n"
                            for e in sample_events(spec, deals=deals, seed=seed, steps=8, days=10)), encoding="utf-8")
    reference, generated, records, text_lines = _both(spec, str(path))
    assert generated == reference
    assert text_lines == records


def test_the_generated_module_names_each_lines_source():
    spec, _ = load("g.funnel", "funnel g {\n  fields { a: int = 0 }\n  stage s0 { start }\n  stage s1 { won }\n"
                               "  s0 -> s1 when a / 0 > 1\n}\n")
    module = compile_spec(spec).funnels[0].module
    text = module.export_text()
    assert "def _c" in text and "g.funnel:5:" in text
    line = next(n for n, code in enumerate(module.lines, 1) if code.strip().startswith("h = "))
    assert module.span_of_line(line).line == 5


def test_export_python_prints_each_funnels_module(cli, snapshot, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = cli("export", "--python", "examples/b2b_basic.funnel")
    assert result.exit_code == 0
    assert result.output == snapshot
    compile(result.output, "export", "exec")          # what it prints is Python


def test_export_python_refuses_what_it_cannot_do(cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = cli("export", "--python", "examples/b2b_basic.funnel", "--funnel", "nope")
    assert result.exit_code == 2 and "no funnel `nope`" in result.output
    result = cli("export", "--python", "--to", "hubspot", "examples/b2b_basic.funnel")
    assert result.exit_code == 2 and "--python and --to" in result.output


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl"])
def test_o_and_stdout_get_the_same_bytes_in_every_format(cli, tmp_path, fmt):
    spec, events = EXAMPLES / "b2b_basic.funnel", EXAMPLES / "b2b_basic.events.jsonl"
    printed = cli("simulate", str(spec), "--events", str(events), "--format", fmt, "--workers", "1").stdout
    target = tmp_path / f"result.{fmt}"
    assert cli("simulate", str(spec), "--events", str(events), "--format", fmt, "--workers", "1",
               "-o", str(target)).stdout == ""
    assert target.read_text(encoding="utf-8") == printed


HANDLERS_SPEC = """
funnel f {
  fields {
    a: int = 0
    b: int = 0
    x: number = 0
    t: text = ""
  }
  events { hit { n: int = 1 }  poke }
  stage s0 { start }
  stage s1 { require a >= 2 }
  stage s2 { won }
  s0 -> s1 when a >= 2
  s1 -> s2 when x > 100
  on event hit: set x = 10 / b
  on event hit { set a = a + event.n  set t = "hit" }
  on event poke when a / b > 0: set a = a - 1
  on event poke in s1 { set b = b + 1  set x = x * 1000 + 1 }
  on change a: set t = "changed"
  on change a when a > 5: set b = b + 1
  on change b when a > 5: set a = a + 1
}
"""


def test_generated_event_rules_fail_loop_and_move_as_the_reference_does(tmp_path):
    """A stage's `set` rules for an event run as one generated function: values and conditions that fail,
    rules that set one another off without end, moves they cause; every record as the reference writes it."""
    spec, diagnostics = load("f.funnel", HANDLERS_SPEC)
    assert spec is not None, diagnostics
    assert all(stage.on_event_code for stage in compile_spec(spec).funnels[0].stages[:2])
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n"
                            for e in sample_events(spec, deals=40, seed=5, steps=12, days=20)), encoding="utf-8")
    reference, generated, records, text = _both(spec, str(path))
    assert generated == reference and text == records
    problems = json.loads(reference)["problems"]
    assert {"error", "loop"} <= {p["kind"] for p in problems}
    assert any("set failed" in p["message"] for p in problems)
    assert any("the condition failed" in p["message"] for p in problems)


ACTIONS_SPEC = """
funnel f {
  fields {
    a: int = 0
    b: int = 0
    t: text = ""
    owner: text = "ann"
    when: datetime?
  }
  events { hit { n: int = 1 }  poke }
  stage s0 { start }
  stage s1 { }
  stage s2 { won }
  s0 -> s1 when a >= 2
  s1 -> s2 when a > 6
  s1 -> s0
  on event hit { set a = a + event.n  task "call" due (10 / b) * 1d for owner }
  on event hit when a > 4: emit poke
  on event poke { notify owner "poked"  task "check" due when }
  on event poke when a > 3: emit hit
  on event poke in s0: move to s2
  on change a when a == 3: set b = b + 1
  on change b: notify "boss" "b changed"
  on enter s1 { task "welcome" due 1d for owner  set when = now + 2d }
  on exit s1: move to s0
  on exit s0: set t = "left"
  on enter s2 { emit poke  set t = "won" }
  after 1d in s1 when 10 / b > 1: set t = "late"
  every 1d in s0 while a < 3: notify owner "tick"
  at when + 1h: task "follow up" due 1d
}
"""


def test_generated_rules_of_every_kind_act_as_the_reference_does(tmp_path):
    """Event rules with every action, change, enter and exit rules and timers run as generated functions: records,
    failures, refused moves and loops as the reference writes them."""
    spec, diagnostics = load("f.funnel", ACTIONS_SPEC)
    assert spec is not None, diagnostics
    s0, s1, s2 = compile_spec(spec).funnels[0].stages
    assert set(s0.on_event_code) == {"hit", "poke"} and s0.on_change_code and s1.enter_code and s1.exit_code
    assert s0.exit_code and s2.enter_code and s0.schedule_code and s1.schedule_code
    assert all(rule.fire_code for stage in (s0, s1) for rule in stage.timers)
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n"
                            for e in sample_events(spec, deals=40, seed=7, steps=12, days=20)), encoding="utf-8")
    reference, generated, records, text = _both(spec, str(path))
    assert generated == reference and text == records
    result = json.loads(reference)
    assert {"task", "notify", "emit", "move", "set"} <= {a["kind"] for a in result["actions"]}
    problems = result["problems"]
    assert any("task failed" in p["message"] for p in problems)
    assert any(p["kind"] == "refused" for p in problems)
    assert any(p["kind"] == "loop" and "emit" in p["message"] for p in problems)
    assert any("the condition failed" in p["message"] and p["rules"][0].startswith("after 1d in s1")
               for p in problems)
