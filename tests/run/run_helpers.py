"""Helpers the `funnel run` tests share: a session over a spec and a stream, and what a store ends with."""
from __future__ import annotations

import json
import os
import signal

from funnelspec.api import analyse
from funnelspec.run.deal_codec import stored_outcome
from funnelspec.run.session import RunSession
from funnelspec.run.store import open_store


def run_once(spec: str, events: str, store: str, *, sink: str | None = None, clock: str = "event",
             on_error: str = "skip", migrate=None, now=None):
    """One `funnel run` in this process (no signal handlers); the loop's totals."""
    analysis = analyse(spec)
    assert analysis.spec is not None, analysis.diagnostics
    session = RunSession.open(analysis, store, sink=sink, migrate=migrate)
    kwargs = {"now": now} if now is not None else {}
    try:
        return session.consume(events, clock=clock, on_error=on_error, install_signals=False, **kwargs)
    finally:
        session.close()


def final_state(store_path: str) -> dict:
    """Everything a store ends with that must not depend on crashes: deals (timers included), actions."""
    store = open_store(store_path)
    try:
        deals = {d.deal: (d.stage, d.next_due, d.state) for d in store.deals()}
        actions = {a.id: (a.deal, a.ts, a.kind, a.payload, a.rule) for a in store.actions()}
        pending = store.outbox_counts().pending
    finally:
        store.close()
    return {"deals": deals, "actions": actions, "pending": pending}


def outcomes_and_actions(store_path: str) -> tuple[dict, dict]:
    """Each deal's outcome as simulate writes it, and each deal's actions in order (without their ids)."""
    store = open_store(store_path)
    try:
        outcomes = {d.deal: stored_outcome(d.deal, d.state).to_json() for d in store.deals()}
        actions: dict[str, list] = {}
        for a in sorted(store.actions(), key=lambda a: (a.deal, int(a.id.rsplit(":", 1)[1]))):
            record = a.to_json()
            del record["id"]
            actions.setdefault(a.deal, []).append(record)
    finally:
        store.close()
    return outcomes, actions


def forked_run(args: list[str]) -> int:
    """Start `funnel ARGS` in a forked child (no interpreter start-up to wait for); its pid."""
    import funnelspec.cli.run  # noqa: F401 - what the command imports, once, before the fork
    import funnelspec.dsl.lint  # noqa: F401
    import funnelspec.dsl.checks  # noqa: F401
    import funnelspec.run.session  # noqa: F401

    pid = os.fork()
    if pid == 0:                      # the child: run the command, never return into pytest
        code = 1
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            from funnelspec.cli import main

            try:
                main(args, standalone_mode=False)
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            os._exit(code)
    return pid


def read_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
