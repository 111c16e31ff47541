"""The Python facade: the calls a notebook makes, on the bundled example."""
from __future__ import annotations

import pytest

import funnelspec
from conftest import CASES, EXAMPLES

SPEC = EXAMPLES / "security_b2b.funnel"
EVENTS = EXAMPLES / "security_b2b.events.jsonl"


def test_load_gives_the_model_and_no_errors():
    spec, diagnostics = funnelspec.load(str(SPEC))
    assert spec is not None
    assert [f.id for f in spec.funnels] == ["security"]
    assert not [d for d in diagnostics if d.severity.word == "error"]


def test_simulate_accounts_for_every_line():
    result = funnelspec.simulate(str(SPEC), str(EVENTS))
    with open(EVENTS, encoding="utf-8") as handle:
        lines = sum(1 for _ in handle)
    assert result.totals.lines == lines == result.totals.applied + result.totals.rejected + result.totals.blank
    assert {o.status for o in result.outcomes} <= {"open", "won", "lost"}


def test_diff_of_a_spec_against_itself_changes_nothing():
    plan = funnelspec.diff(str(SPEC), str(SPEC), str(EVENTS))
    assert plan.structural_count == 0
    assert not plan.outcomes_changed and plan.exit_code() == 0


def test_diff_sees_a_new_timer():
    case = CASES / "diff" / "new_timer"
    plan = funnelspec.diff(str(case / "old.funnel"), str(case / "new.funnel"), str(case / "events.jsonl"))
    assert plan.structural_count > 0
    assert plan.outcomes_changed and plan.exit_code() == 1


def test_diff_on_two_workers_is_the_same_plan():
    from funnelspec.engine.diff_render import plan_json

    case = CASES / "diff" / "tightened_criterion"
    args = (str(case / "old.funnel"), str(case / "new.funnel"), str(case / "events.jsonl"))
    one, two = funnelspec.diff(*args), funnelspec.diff(*args, workers=2)
    assert one.outcomes_changed and plan_json(two, 100) == plan_json(one, 100)


def test_a_spec_with_errors_raises_with_its_findings(tmp_path):
    bad = tmp_path / "bad.funnel"
    bad.write_text("funnel f { stage a { start } a -> nowhere }", encoding="utf-8")
    with pytest.raises(funnelspec.SpecError) as raised:
        funnelspec.simulate(str(bad), [])
    assert "unknown stage `nowhere`" in str(raised.value)
    assert raised.value.diagnostics
