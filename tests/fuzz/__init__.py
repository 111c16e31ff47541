"""Fuzz campaigns: every surface that takes outside input, mutated, against one oracle.

- `mutate.py`: the mutations (bytes, tokens, JSON values), driven by a `Pick`
  (hypothesis draws, a seeded random.Random, or atheris' data provider).
- `surfaces.py`: each input surface: its seed corpus, the file it mutates,
  the commands it runs.
- `oracle.py`: what a run must never do: a traceback, an exit code other
  than 0/1/2, a hang past the deadline, a stream line not accounted for.
- `test_campaigns.py`: a short fixed-seed budget per surface in `make test`,
  a long one with `make fuzz` (FUZZ_EXAMPLES=N).
- `test_regressions.py`: every input that ever failed, replayed
  (regressions/<surface>/<case>/).
"""
