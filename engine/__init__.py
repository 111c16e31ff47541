"""The engine: compile a checked funnel and replay deal events against it.

    from funnelspec.api import simulate
    result = simulate("sales.funnel", "sales.events.jsonl")      # a ReplayResult
    result.outcomes[0].stage, result.totals

The pieces, for finer use: `compile_spec` (engine/compile.py), `Replayer`
(engine/replay.py, one event at a time), `run_replay` with a `Sink`
(engine/simulate.py, a stream with records handed out as they happen).
"""
from .outcome import (ActionRecord, DealOutcome, Rejection, ReplayResult, RuntimeProblem, Totals, Violation,
                      Visit)

__all__ = ["ActionRecord", "DealOutcome", "Rejection", "ReplayResult", "RuntimeProblem", "Totals", "Violation",
           "Visit"]
