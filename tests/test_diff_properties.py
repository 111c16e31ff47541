"""Properties of `funnel diff`: a spec against itself, or against an equivalent text of itself, changes nothing.

Equivalent texts: the formatter's output (dsl/format.py), and the same spec
with its fields and its events declared in another order. Neither may show a
structural change, nor a deal whose outcome, path, actions or violations change.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES
from funnelspec.api import load
from funnelspec.dsl.format import format_text
from funnelspec.engine.diff_plan import plan_diff
from funnelspec.engine.sample import sample_events

FIELDS = [
    "budget: money",
    'segment: text = ""',
    "meeting_at: datetime?",
    "paid: money = 0",
    "manager: text?",
    "touches: int = 0",
    "тег: text = \"\"",
]
EVENTS = ["payment { amount: money }", "touch", "звонок { минут: int = 0 }"]
BODY = """
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


def spec_text(fields: list[str], events: list[str]) -> str:
    lines = ['funnel sales "Продажи" {', "  value budget", "  fields {"]
    lines += [f"    {f}" for f in fields] + ["  }", "  events {"] + [f"    {e}" for e in events] + ["  }"]
    return "\n".join(lines) + BODY


def _load(text: str, name: str):
    model, diagnostics = load(name, text)
    assert model is not None, diagnostics
    return model


ORIGINAL = _load(spec_text(FIELDS, EVENTS), "old.funnel")


def assert_no_change(plan) -> None:
    assert plan.replayed.totals.applied > 0 and plan.replayed.totals.deals > 0
    assert len(plan.replayed.rows) > 5
    assert plan.structural_count == 0, [c.describe() for cs in plan.changes.values() for c in cs]
    assert plan.replayed.deals == [], [d.to_json() for d in plan.replayed.deals[:3]]
    assert plan.replayed.rejected_old == plan.replayed.rejected_new == []
    assert all(row.old == row.new for row in plan.replayed.rows)
    assert plan.exit_code() == 0


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=40))
def test_a_spec_against_itself_changes_nothing(seed, deals):
    events = list(sample_events(ORIGINAL, deals=deals, seed=seed, steps=8, days=30))
    assert_no_change(plan_diff(ORIGINAL, ORIGINAL, events))


@settings(max_examples=25, deadline=None)
@given(st.permutations(FIELDS), st.permutations(EVENTS), st.integers(min_value=0, max_value=10_000),
       st.booleans())
def test_reordered_or_formatted_equivalents_change_nothing(fields, events, seed, formatted):
    text = spec_text(list(fields), list(events))
    if formatted:
        text, problems = format_text(text, "new.funnel")
        assert text is not None, problems
    other = _load(text, "new.funnel")
    stream = list(sample_events(ORIGINAL, deals=25, seed=seed, steps=8, days=30))
    assert_no_change(plan_diff(ORIGINAL, other, stream))


def test_a_changed_spec_does_change_something():
    """The properties above are not vacuous: the same history tells a changed criterion apart."""
    text = spec_text(FIELDS, EVENTS).replace("meeting -> negotiation", "meeting -> negotiation when paid > 0")
    changed = _load(text, "new.funnel")
    stream = list(sample_events(ORIGINAL, deals=60, seed=1, steps=10, days=60))
    plan = plan_diff(ORIGINAL, changed, stream)
    assert plan.structural_count == 1
    assert plan.replayed.counts["outcome_changes"] > 0
    assert plan.exit_code() == 1


SHIPPED = sorted(p for p in EXAMPLES.glob("*.funnel") if (EXAMPLES / (p.stem + ".events.jsonl")).exists()
                 and (EXAMPLES / (p.stem + ".events.jsonl")).stat().st_size < 1_000_000)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_examples_against_their_formatted_text(path):
    text = path.read_text(encoding="utf-8")
    formatted, problems = format_text(text, str(path))
    assert formatted is not None, problems
    old = _load(text, str(path))
    new = _load(formatted, str(path.with_name("formatted.funnel")))
    assert_no_change(plan_diff(old, new, str(EXAMPLES / (path.stem + ".events.jsonl"))))
