"""What a store holds, for people and programs: a deal, the live funnel's report, the outbox, the rejects.

Read-only, and without the spec: the store keeps the funnels' shapes (run/
session.py writes them), so `funnel state` and an HTTP server can answer
from the store alone. Each view is JSON-ready; cli/state.py renders it.
"""
from __future__ import annotations

import json
import time

from ..engine.outcome import iso
from ..engine.report.model import Report, ReplaySummary, build_report
from ..engine.shape import FunnelShape
from .deal_codec import pending_timers, stored_outcome
from .engine import CLOCK_KEY, COUNT_KEYS, SPEC_KEY
from .session import FUNNELS_KEY, SPEC_PATH_KEY
from .store import OutboxAction, Store, StoredDeal


def deal_view(store: Store, deal_id: str) -> dict | None:
    """A deal's stage, fields, pending timers, path, kept problems and its actions with their delivery."""
    stored = store.deal(deal_id)
    if stored is None:
        return None
    state = stored.state
    run = state.get("run", {})
    return {
        "deal": stored.deal,
        "funnel": stored.funnel,
        "stage": stored.stage,
        "status": state["status"],
        "lost_reason": state["lost_reason"],
        "created": iso(state["created"]),
        "entered": iso(state["entered"]),
        "closed": iso(state["closed"]),
        "last_event": iso(state["last"]),
        "spec_hash": stored.spec_hash,
        "fields": state["fields"],
        "timers": [{"due": iso(t["due"]), "rule": t["rule"]} for t in pending_timers(state)],
        "path": [{"stage": s, "entered": iso(entered), "left": iso(left), "via": via}
                 for s, entered, left, via in state["path"]],
        "problems": run.get("problems", []),
        "actions": [action_view(a) for a in store.actions(deal=deal_id)],
    }


def action_view(action: OutboxAction) -> dict:
    view = action.to_json()
    view.update({"status": action.status, "attempts": action.attempts, "error": action.error})
    if action.status == "pending" and action.attempts:
        view["next_try"] = iso(action.next_try)
    return view


def outbox_view(store: Store, status: str | None = None, limit: int | None = 100) -> dict:
    counts = store.outbox_counts()
    return {"pending": counts.pending, "delivered": counts.delivered, "dead": counts.dead,
            "actions": [action_view(a) for a in store.actions(status=status, limit=limit)]}


def rejects_view(store: Store, limit: int | None = 100) -> dict:
    rejects = store.rejects(limit)
    return {"rejects": [{"source": r.source, "line": r.line, "reason": r.reason, "raw": r.raw, "at": iso(r.at)}
                        for r in rejects]}


def live_report(store: Store, by: tuple[str, ...] = (), thresholds=None, as_of: float | None = None) -> Report:
    """The live funnel's figures, in `funnel report`'s form, from the stored deals.

    as_of: the end of the figures (time in stage of open deals runs to it); default the event clock's
    position (the latest event applied), else now. Raises ValueError when the store has never run a spec."""
    raw = store.meta(FUNNELS_KEY)
    if raw is None:
        raise ValueError(f"{store.target}: no spec has run on this store yet")
    shapes = [FunnelShape.from_json(f, f"{store.target}: funnels[{i}]") for i, f in enumerate(json.loads(raw))]
    deals: list[StoredDeal] = list(store.deals())
    outcomes = [stored_outcome(d.deal, d.state) for d in deals]
    if as_of is None:
        clock = store.meta(CLOCK_KEY)
        as_of = float(clock) if clock is not None else time.time()
    problems = violations = 0
    for deal in deals:
        for problem in deal.state.get("run", {}).get("problems", ()):
            if problem.get("type") == "violation":
                violations += 1
            else:
                problems += 1
    counts = store.outbox_counts()
    applied, duplicates, rejected = (int(store.meta(COUNT_KEYS[k]) or 0) for k in ("applied", "duplicate", "rejected"))
    summary = ReplaySummary(lines=applied + duplicates + rejected, applied=applied, rejected=rejected,
                            actions=counts.pending + counts.delivered + counts.dead,
                            violations=violations, problems=problems)
    return build_report(outcomes, shapes, as_of, by, thresholds, store.meta(SPEC_PATH_KEY) or "", summary)


def spec_of(store: Store) -> dict:
    return {"spec": store.meta(SPEC_PATH_KEY), "hash": store.meta(SPEC_KEY)}
