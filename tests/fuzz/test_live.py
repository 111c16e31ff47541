"""The campaigns of `funnel run` (event batches into RunEngine) and `funnel serve` (POST /events, the CRM
webhooks), in process (fuzz/live.py). FUZZ_EXAMPLES and FUZZ_SEED as for the file surfaces."""
from __future__ import annotations

import os
import random

import pytest

from fuzz.live import run_campaign, serve_campaign
from fuzz.mutate import RandomPick

SHORT = 60


def _pick() -> RandomPick:
    seed = os.environ.get("FUZZ_SEED", "fixed")
    return RandomPick(random.randrange(1 << 30) if seed == "random" else 20261206)


def _report(*tallies) -> None:
    figures = os.environ.get("FUZZ_FIGURES")
    for tally in tallies:
        print(tally.figures())
        if figures:
            with open(figures, "a", encoding="utf-8") as handle:
                handle.write(tally.figures() + "\n")
    failures = [f for t in tallies for f in t.failures]
    assert not failures, f"{len(failures)} failures; the first: {failures[0][0]}\n{failures[0][1]}"


def test_run_campaign():
    tally = run_campaign(_pick(), int(os.environ.get("FUZZ_EXAMPLES", SHORT)))
    assert tally.inputs > 0
    _report(tally)


def test_serve_campaign():
    pytest.importorskip("starlette")
    events, hooks = serve_campaign(_pick(), int(os.environ.get("FUZZ_EXAMPLES", SHORT)))
    assert events.inputs > 0 and hooks.inputs > 0
    _report(events, hooks)
