"""One `funnel run` from start to stop: the checks before it starts, the loop, the delivery, the close.

`RunSession.open` refuses to start (RunRefused, a message for the user) when
the store cannot be opened, when a `--migrate` names a stage the spec does
not have, or when stored deals stand in stages the spec no longer has and no
`--migrate` maps them. It records the spec (content hash, path, the funnels'
shapes for `funnel state summary`) in the store's meta.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Callable

from ..engine.compile import CompiledSpec, compile_spec
from ..engine.serialize import funnels_json
from .engine import SPEC_KEY, RunEngine, spec_hash, unmapped_stages
from .loop import LineReader, LoopTotals, Stopper, run_loop
from .outbox import Delivery, open_sink
from .store import Store, StoreError, open_store

FUNNELS_KEY = "funnels"
SPEC_PATH_KEY = "spec_path"


class RunRefused(Exception):
    """The run cannot start; the message says why and what to do."""


def refusal(counts, spec_path: str) -> str:
    listed = ", ".join(f"`{c.stage}` of funnel `{c.funnel}` ({c.deals} deal{'s' if c.deals != 1 else ''})"
                       for c in counts)
    return (f"{spec_path}: deals stand in stages this spec no longer has: {listed}; "
            f"map each with --migrate OLD=NEW, or run the spec they were made with")


@dataclass
class RunSession:
    store: Store
    engine: RunEngine
    delivery: Delivery | None
    stopper: Stopper
    source_name: str = "<stdin>"

    @classmethod
    def open(cls, analysis, target: str, *, migrate: dict[str, str] | None = None, moves: str = "enforce",
             sink: str | None = None, now: Callable[[], float] = time.time) -> "RunSession":
        """Open the store and the sink for a checked spec (api.analyse's Analysis); raises RunRefused."""
        compiled = compile_spec(analysis.spec)
        migrate = migrate or {}
        _check_targets(compiled, migrate)
        try:
            store = open_store(target)
        except StoreError as err:
            raise RunRefused(str(err)) from None
        try:
            missing = unmapped_stages(compiled, store.stage_counts(), migrate)
            if missing:
                raise RunRefused(refusal(missing, analysis.path))
            digest = spec_hash((path, source.text) for path, source in analysis.sources.items())
            delivery = None
            engine = RunEngine(compiled, store, hash=digest, moves=moves, migrate=migrate)
            if sink is not None:
                delivery = Delivery(store, open_sink(sink), clock=now)
                engine.on_commit = delivery.wake
            engine.apply_migration()
            with store.transaction() as tx:
                tx.set_meta(SPEC_KEY, digest)
                tx.set_meta(SPEC_PATH_KEY, analysis.path)
                tx.set_meta(FUNNELS_KEY, json.dumps(funnels_json(analysis.spec), ensure_ascii=False))
        except StoreError as err:
            store.close()
            raise RunRefused(str(err)) from None
        except BaseException:
            store.close()
            raise
        return cls(store, engine, delivery, Stopper())

    def consume(self, events: str, *, follow: bool = False, clock: str = "event", on_error: str = "skip",
                now: Callable[[], float] = time.time, install_signals: bool = True) -> LoopTotals:
        """Run the loop over `events` (a path or `-`) until it ends or SIGTERM/Ctrl-C; the totals."""
        self.source_name = "<stdin>" if events == "-" else events
        source = "<stdin>" if events == "-" else os.path.abspath(events)
        reader = LineReader(events, follow=follow, start=self.store.meta(f"position:{source}"))
        if self.delivery is not None:
            self.delivery.start()
        if install_signals:
            self.stopper.install()
        try:
            return run_loop(self.engine, reader, clock=clock, on_error=on_error, now=now, stopper=self.stopper)
        finally:
            reader.close()

    def close(self) -> dict:
        """Stop the delivery (it delivers what is due first), close the store; the outbox counts."""
        try:
            if self.delivery is not None:
                self.delivery.stop(drain=True)
                self.delivery.sink.close()
            counts = self.store.outbox_counts()
            return {"pending": counts.pending, "delivered": counts.delivered, "dead": counts.dead}
        finally:
            self.store.close()


def _check_targets(spec: CompiledSpec, migrate: dict[str, str]) -> None:
    stages = {stage.id for funnel in spec.funnels for stage in funnel.stages}
    for old, new in migrate.items():
        if new not in stages:
            raise RunRefused(f"--migrate {old}={new}: the spec has no stage `{new}`")
