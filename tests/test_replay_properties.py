"""Properties of the replay: deterministic, deals independent, every line accounted for."""
from __future__ import annotations

import io
import json
import random
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from funnelspec.api import load, simulate
from funnelspec.engine.sample import sample_events
from funnelspec.engine.serialize import write_json
from funnelspec.engine.values import parse_time

SPEC = """
funnel sales "Продажи" {
  value budget
  fields {
    budget: money
    segment: text = ""
    meeting_at: datetime?
    paid: money = 0
    manager: text?
    touches: int = 0
  }
  events { payment { amount: money }  touch }
  stage new { start  on enter: task "Call" due 1d for manager  after 3d when segment == "": notify manager "Qualify" }
  stage qualification { require segment != ""  on change segment: set touches = touches + 1 }
  stage meeting { at meeting_at - 1d: task "Prepare" }
  stage negotiation { every 7d while paid < budget: notify manager "Remind" }
  stage won { won }
  stage dropped { lost  reopen }
  new -> qualification when segment == "target"
  new -> dropped when segment == "spam" because "spam"
  qualification -> meeting when meeting_at is set
  meeting -> negotiation
  negotiation -> won when paid >= budget
  dropped -> new
  any -> dropped
  on event payment: set paid = paid + event.amount
  on event touch when touches >= 3: emit payment
  after 40d in meeting: move to dropped because "no answer"
}
"""


def _load():
    model, diagnostics = load("sales.funnel", SPEC)
    assert model is not None, diagnostics
    return model


_SPEC = _load()


def stream(seed: int, deals: int) -> list[dict]:
    return list(sample_events(_SPEC, deals=deals, seed=seed, steps=8, days=20))


def per_deal(result) -> dict:
    """Everything a replay says about each deal, in the order it happened to that deal."""
    out = defaultdict(lambda: {"outcome": None, "actions": [], "violations": [], "problems": []})
    for o in result.outcomes:
        out[o.deal]["outcome"] = o.to_json()
    for section in ("actions", "violations", "problems"):
        for record in getattr(result, section):
            data = record.to_json()
            data.pop("line", None)          # the line number depends on where the event sits in the stream
            out[record.deal][section].append(data)
    return dict(out)


def as_json(result) -> str:
    out = io.StringIO()
    write_json(result, out)
    return out.getvalue()


def last_time(events) -> float:
    return max(parse_time(e["ts"]) for e in events)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), deals=st.integers(1, 25), moves=st.sampled_from(["enforce", "record"]))
def test_the_same_input_gives_the_same_bytes(seed, deals, moves):
    events = stream(seed, deals)
    first = as_json(simulate(_SPEC, events, moves=moves))
    second = as_json(simulate(_SPEC, [json.dumps(e, ensure_ascii=False) for e in events], moves=moves))
    assert first == second


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), deals=st.integers(2, 25), shuffle=st.randoms(use_true_random=False))
def test_any_interleaving_of_deals_gives_the_same_outcomes(seed, deals, shuffle):
    events = stream(seed, deals)
    queues = defaultdict(list)
    for event in events:
        queues[event["deal"]].append(event)
    interleaved = []
    pending = {deal: list(reversed(q)) for deal, q in queues.items()}
    while pending:
        deal = shuffle.choice(sorted(pending))
        interleaved.append(pending[deal].pop())
        if not pending[deal]:
            del pending[deal]
    assert per_deal(simulate(_SPEC, interleaved)) == per_deal(simulate(_SPEC, events))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), deals=st.integers(2, 25), cut=st.randoms(use_true_random=False))
def test_replaying_a_split_stream_gives_the_same_outcomes_as_the_whole(seed, deals, cut):
    events = stream(seed, deals)
    until = last_time(events)
    names = sorted({e["deal"] for e in events})
    part = set(cut.sample(names, len(names) // 2))
    first = [e for e in events if e["deal"] in part]
    second = [e for e in events if e["deal"] not in part]
    whole = per_deal(simulate(_SPEC, events, until=until))
    parts = {**per_deal(simulate(_SPEC, first, until=until)), **per_deal(simulate(_SPEC, second, until=until))}
    assert parts == whole


BAD_LINES = [
    "not json at all",
    "{}",
    '{"id": "x", "deal": "nobody", "ts": "2026-01-10T00:00:00Z", "type": "updated", "fields": {"budget": 1}}',
    '{"id": "x", "deal": "D-0001", "ts": "2026-01-10T00:00:00Z", "type": "updated", "fields": {"budgte": 1}}',
    '{"id": "x", "deal": "D-0001", "ts": "2026-01-10T00:00:00Z", "type": "moved", "to": "nowhere"}',
    '{"id": "x", "deal": "D-0001", "ts": "2026-01-10T00:00:00Z", "type": "event", "name": "payment"}',
    '{"id": "x", "deal": "D-0001", "ts": "last week", "type": "moved", "to": "won"}',
    "[1, 2]",
]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), deals=st.integers(1, 20),
       bad=st.lists(st.tuples(st.sampled_from(BAD_LINES), st.floats(0, 1)), max_size=12),
       blanks=st.integers(0, 3))
def test_every_line_is_applied_or_rejected(seed, deals, bad, blanks):
    lines = [json.dumps(e, ensure_ascii=False) for e in stream(seed, deals)]
    good = len(lines)
    for text, where in bad:
        lines.insert(int(where * len(lines)), text)
    lines[len(lines) // 2:len(lines) // 2] = [""] * blanks
    result = simulate(_SPEC, lines, on_error="skip")
    totals = result.totals
    assert totals.lines == len(lines)
    assert totals.balanced
    assert (totals.applied, totals.rejected, totals.blank) == (good, len(bad), blanks)
    assert [r.text for r in result.rejects] == [text for text in lines if text in BAD_LINES]


def test_a_generated_stream_exercises_the_rules():
    """The property tests above are only as good as the streams: make sure the rules do fire."""
    result = simulate(_SPEC, stream(3, 60))
    kinds = {a.kind for a in result.actions}
    assert kinds == {"move", "set", "task", "notify", "emit"}
    assert {o.status for o in result.outcomes} == {"open", "won", "lost"}
    assert not result.rejects and result.totals.balanced


def test_deals_in_random_order_of_creation_replay_the_same(tmp_path):
    events = stream(11, 30)
    rng = random.Random(5)
    by_deal = defaultdict(list)
    for e in events:
        by_deal[e["deal"]].append(e)
    order = sorted(by_deal)
    rng.shuffle(order)
    concatenated = [e for deal in order for e in by_deal[deal]]
    until = last_time(events)
    assert per_deal(simulate(_SPEC, concatenated, until=until)) == per_deal(simulate(_SPEC, events, until=until))
