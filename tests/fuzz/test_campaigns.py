"""The fuzz campaigns: one per input surface, a short fixed-seed budget here, a long one with `make fuzz`.

FUZZ_EXAMPLES sets the inputs per surface (default: the short budget);
FUZZ_SEED=random draws fresh inputs (the long run) instead of the fixed
sequence; FUZZ_FIGURES names a file each campaign appends its figures to
(docs/limits.md quotes them). A failure that an `xfail` regression case
already reproduces is counted as known; any other fails the campaign, its
input saved under tests/fuzz/found/ to become a regression case.
"""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fuzz.campaign import Tally, try_input
from fuzz.mutate import DataPick
from fuzz.surfaces import SURFACES

SHORT = {"spec": 60, "stream-jsonl": 40, "stream-gzip": 40, "stream-csv": 40, "convert": 60, "journeys": 40,
         "baseline": 60, "results": 40, "options": 40}
FIXED = os.environ.get("FUZZ_SEED", "fixed") != "random"


def budget(surface: str) -> int:
    return int(os.environ.get("FUZZ_EXAMPLES", SHORT[surface]))


@pytest.mark.parametrize("name", list(SURFACES))
def test_campaign(name):
    surface, tally = SURFACES[name], Tally(name)

    # generate only: an input is kept as it failed (no shrinking); no example database: nothing to replay
    @settings(max_examples=budget(name), derandomize=FIXED, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one_input(data):
        try_input(surface, surface.generate(DataPick(data)), tally)

    one_input()
    figures = os.environ.get("FUZZ_FIGURES")
    if figures:
        with open(figures, "a", encoding="utf-8") as handle:
            handle.write(tally.figures() + "\n")
    print(tally.figures())
    new = sorted({(signature, folder) for signature, folder, _ in tally.new})
    assert not new, (f"{len(tally.new)} failures no regression case explains; inputs saved:\n"
                     + "\n".join(f"  {s}: {f}" for s, f in new) + "\n" + tally.new[0][2])
