"""`funnel run --clock event` over each shipped history gives what `funnel simulate` gives: one interpreter."""
from __future__ import annotations

import pytest

from conftest import EXAMPLES, STDLIB
from funnelspec.api import simulate
from run_helpers import outcomes_and_actions, run_once

HISTORIES = sorted(p for folder in (EXAMPLES, STDLIB) for p in folder.glob("*.funnel")
                   if p.with_name(p.stem + ".events.jsonl").exists())


def test_every_example_and_template_has_a_history():
    assert len(HISTORIES) >= 15


@pytest.mark.parametrize("spec", HISTORIES, ids=[f"{p.parent.name}/{p.stem}" for p in HISTORIES])
def test_run_gives_what_simulate_gives(spec, tmp_path):
    events = str(spec.with_name(spec.stem + ".events.jsonl"))
    expected = simulate(str(spec), events, on_error="skip")
    totals = run_once(str(spec), events, str(tmp_path / "state.db"))
    assert totals.applied == expected.totals.applied and totals.rejected == expected.totals.rejected
    outcomes, actions = outcomes_and_actions(str(tmp_path / "state.db"))
    assert outcomes == {o.deal: o.to_json() for o in expected.outcomes}
    simulated: dict[str, list] = {}
    for action in expected.actions:
        simulated.setdefault(action.deal, []).append(action.to_json())
    assert actions == simulated
    assert sum(map(len, actions.values())) == len(expected.actions) > 0
