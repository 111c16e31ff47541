"""`python -m fuzz.run SURFACE... [--count N] [--seed S]` (from tests/): a campaign without hypothesis.

Seeded random choices, the same oracle and regression bookkeeping as the
suite's campaigns; prints each surface's figures. For a quick look or a
replay of a seed a report named; `make fuzz` runs the hypothesis campaigns.
"""
from __future__ import annotations

import argparse
import sys

from .campaign import Tally, try_input
from .mutate import RandomPick
from .surfaces import SURFACES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz.run")
    parser.add_argument("surfaces", nargs="*", metavar="SURFACE", help=", ".join(SURFACES) + " (default: every one)")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    unknown = [n for n in args.surfaces if n not in SURFACES]
    if unknown:
        parser.error(f"unknown surface {unknown[0]!r}; known: {', '.join(SURFACES)}")
    bad = 0
    for name in args.surfaces or list(SURFACES):
        surface, tally = SURFACES[name], Tally(name)
        for n in range(args.count):
            try_input(surface, surface.generate(RandomPick(args.seed * 1_000_003 + n)), tally)
        print(tally.figures(), flush=True)
        for signature, folder in sorted({(s, f) for s, f, _ in tally.new}):
            print(f"  {signature}: {folder}", flush=True)
        bad += len(tally.new)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
