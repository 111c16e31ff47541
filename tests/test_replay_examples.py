"""Every example funnel ships a sample deal stream that replays without a rejected line."""
from __future__ import annotations

import pytest

from conftest import EXAMPLES
from funnelspec.api import simulate

FUNNELS = sorted(EXAMPLES.glob("*.funnel"))
REGENERATE = "funnel sample examples/{0}.funnel --deals 150 --seed 1 -o examples/{0}.events.jsonl"


def test_there_are_examples():
    assert FUNNELS


@pytest.mark.parametrize("funnel", FUNNELS, ids=[p.stem for p in FUNNELS])
def test_example_stream_replays_cleanly(funnel):
    events = funnel.with_name(funnel.stem + ".events.jsonl")
    assert events.exists(), f"no sample stream for {funnel.name}: {REGENERATE.format(funnel.stem)}"
    result = simulate(str(funnel), str(events), on_error="skip")
    reasons = [f"line {r.line}: {r.reason}" for r in result.rejects[:5]]
    assert result.totals.rejected == 0, f"rejected lines ({REGENERATE.format(funnel.stem)}): {reasons}"
    assert result.totals.balanced and result.totals.applied > 0
    assert not [p for p in result.problems if p.kind == "loop"]
