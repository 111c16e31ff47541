"""Running a funnel for real: a durable store, the run loop over it and the outbox delivery.

Nothing in dsl/ or engine/ imports this package; it drives the same compiled
rules and replay (engine/replay.py) that `funnel simulate` uses.
"""
