"""The hand-made encoders of actions and outcomes write exactly what `dumps(record.to_json())` writes."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CASES, EXAMPLES

from funnelspec.engine.encode import dumps, encode_action, encode_outcome
from funnelspec.engine.outcome import ActionRecord, DealOutcome, Visit

values = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
spans = st.fixed_dictionaries({"file": st.text(), "line": st.integers(1, 10**6), "column": st.integers(1, 500)})


@given(deal=st.text(), time=st.floats(0, 4e9) | st.integers(0, 4 * 10**9),
       kind=st.sampled_from(["move", "set", "task", "notify", "emit"]),
       payload=st.dictionaries(st.text(), values, max_size=4), rule=st.text(), span=spans)
def test_encode_action_is_dumps_of_to_json(deal, time, kind, payload, rule, span):
    record = ActionRecord(deal, time, kind, payload, rule, span)
    assert encode_action(record) == dumps(record.to_json())


def test_a_rule_span_is_encoded_anew_when_it_is_another_object():
    first = ActionRecord("Сделка", 0.0, "set", {}, "r", {"file": "a.funnel", "line": 1})
    assert encode_action(first) == dumps(first.to_json())
    second = ActionRecord("Сделка", 1.5, "set", {}, "r", {"file": "b.funnel", "line": 2})
    assert encode_action(second) == dumps(second.to_json())


times = st.floats(-6e10, 2.5e11) | st.integers(0, 4 * 10**9).map(float)
visits = st.builds(Visit, st.text(), times, st.none() | times, st.sampled_from(["created", "auto", "manual", "rule"]))


@given(outcome=st.builds(DealOutcome, st.text(), st.text(), times, st.text(), st.sampled_from(["open", "won", "lost"]),
                         st.none() | st.text(), st.none() | times, st.lists(visits, max_size=4).map(tuple),
                         st.dictionaries(st.text(), values, max_size=4)))
def test_encode_outcome_is_dumps_of_to_json(outcome):
    assert encode_outcome(outcome) == dumps(outcome.to_json())


@given(ts=st.integers(-10**11, 3 * 10**11) | st.floats(-1e11, 3e11))
def test_iso_writes_what_datetime_writes(ts):
    import datetime as dt

    from funnelspec.engine.outcome import iso

    stamp = dt.datetime.fromtimestamp(ts, dt.timezone.utc) if -62135596800 <= ts < 253402300800 else None
    if stamp is None:
        return
    text = stamp.isoformat(timespec="microseconds" if stamp.microsecond else "seconds").replace("+00:00", "Z")
    assert iso(float(ts)) == text


values_json = st.recursive(values, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner,
                                                                                                 max_size=3))


@given(data=values_json | st.floats())
def test_dumps_is_json_dumps(data):
    import json

    assert dumps(data) == json.dumps(data, ensure_ascii=False)


REPLAYS = sorted((folder / "spec.funnel", events) for folder in (CASES / "replay").iterdir()
                 for events in folder.glob("events.jsonl")) + sorted(
    (events.with_name(events.name.replace(".events.jsonl", ".funnel")), events)
    for events in EXAMPLES.glob("*.events.jsonl"))


@pytest.mark.parametrize("spec_path,events", REPLAYS, ids=[f"{s.parent.name}/{e.name}" for s, e in REPLAYS])
def test_an_outcome_written_from_the_deal_is_the_outcome_record_written(spec_path, events):
    """The CLI writes outcomes straight from the deals' states: the same text as each DealOutcome encoded."""
    from funnelspec.api import load
    from funnelspec.engine.compile import compile_spec
    from funnelspec.engine.simulate import Sink, event_lines, run_replay

    spec, _ = load(str(spec_path))
    lines, _, _, stream = event_lines(str(events))
    try:
        run = run_replay(compile_spec(spec), lines, Sink(), on_error="skip")
    finally:
        stream.close()
    texts = list(run.outcomes.json_lines())
    assert len(texts) == len(run.outcomes) > 0
    assert texts == [encode_outcome(outcome) for outcome in run.outcomes]
    assert run.outcomes.deal_ids() == [outcome.deal for outcome in run.outcomes]


def _replay_forms(spec, events_path):
    """(records encoded one by one, the same actions as the replay's own text, their counts) for one stream."""
    from collections import Counter

    from funnelspec.engine.compile import compile_spec
    from funnelspec.engine.simulate import CollectingSink, event_lines, run_replay
    from funnelspec.engine.sinks import SpoolingSink

    compiled = compile_spec(spec)
    forms = []
    for sink in (CollectingSink(), SpoolingSink(actions="text"), SpoolingSink(actions="count")):
        lines, _, _, stream = event_lines(events_path)
        try:
            run_replay(compiled, lines, sink, on_error="skip")
        finally:
            if stream is not None:
                stream.close()
        forms.append(sink)
    records, text, count = forms
    try:
        encoded = [encode_action(record) for record in records.actions]
        by_rule = Counter((record.rule, record.kind) for record in records.actions)
        return encoded, list(text.actions.json_lines()), (by_rule, text.action_rules, count.action_rules,
                                                          len(count.actions))
    finally:
        text.close()
        count.close()


@pytest.mark.parametrize("spec_path,events", REPLAYS, ids=[f"{s.parent.name}/{e.name}" for s, e in REPLAYS])
def test_an_action_written_from_its_templates_is_the_action_record_written(spec_path, events):
    """The CLI writes actions from their templates (or only counts them): the same text, the same counts."""
    from funnelspec.api import load

    spec, _ = load(str(spec_path))
    encoded, text, (by_rule, text_counts, counts, total) = _replay_forms(spec, str(events))
    assert text == encoded
    assert by_rule == counts
    assert total == len(encoded)


TEMPLATES_SPEC = """
funnel f {
  fields {
    owner: text?
    due_on: date?
    met: datetime?
    score: number = 0
    tags: text = ""
  }
  events { ping { note: text = "é\\u2028\\"" }  promote }
  stage a { start  on enter: task "Call \\"them\\"" due 1d for owner  every 1d: notify owner "remind" }
  stage b { on enter: task "Send" due met  after 2d: move to c because "late" }
  stage c { lost  reopen  on enter: notify "boss" "lost" }
  a -> b when score >= 3
  c -> a
  on event ping: set score = score + 1.5
  on event ping: set tags = event.note
  on event promote: set met = now + 1d
  on event promote: emit ping
  on event promote in b: move to c because "promoted"
}
"""


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), deals=st.integers(1, 12))
def test_templates_write_what_the_records_write_on_generated_streams(seed, deals, tmp_path_factory):
    import json

    from funnelspec.api import load
    from funnelspec.engine.sample import sample_events

    spec, diagnostics = load("templates.funnel", TEMPLATES_SPEC)
    assert spec is not None, diagnostics
    path = tmp_path_factory.mktemp("templates") / "events.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n"
                            for e in sample_events(spec, deals=deals, seed=seed, steps=10, days=15)), encoding="utf-8")
    encoded, text, (by_rule, text_counts, counts, total) = _replay_forms(spec, str(path))
    assert text == encoded
    assert by_rule == counts and total == len(encoded)
