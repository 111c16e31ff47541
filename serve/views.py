"""What the server shows: one deal (`GET /deals/{id}`) and the live funnel (`GET /funnel`), read from the store.

The live funnel is the report `funnel report --report json` prints, built
from the stored deals' outcomes as they stand now, so a dashboard reads the
same JSON from a replayed history and from the running funnel.
"""
from __future__ import annotations

from ..engine.deal import deal_outcome
from ..engine.outcome import iso
from ..engine.report import render
from ..engine.report.model import build_report
from ..engine.shape import FunnelShape
from ..run.deal_codec import CodecError, decode_deal


def deal_view(store, compiled, deal_id: str) -> dict | None:
    """The deal's stage, fields, history, pending timers and actions; None when the store has no such deal."""
    stored = store.deal(deal_id)
    if stored is None:
        return None
    state = stored.state
    view = {"deal": stored.deal, "funnel": stored.funnel, "stage": stored.stage, "spec": stored.spec_hash,
            "next_due": iso(stored.next_due) if stored.next_due is not None else None}
    try:
        view.update({k: v for k, v in deal_outcome(decode_deal(deal_id, state, compiled)).to_json().items()
                     if k not in view})
    except CodecError as err:                          # the spec changed under it: show what is stored
        view.update(fields=state.get("fields", {}), problem=str(err))
    view["timers"] = [{"due": iso(due), "rule": label} for due, _, _, label in state.get("timers", [])]
    view["problems"] = state.get("run", {}).get("problems", [])
    view["actions"] = [{**a.to_json(), "status": a.status, "attempts": a.attempts, "error": a.error}
                       for a in store.actions(deal=deal_id)]
    return view


def funnel_view(store, spec, compiled, now: float) -> str:
    """The live funnel's figures as `funnel report --report json` writes them (deals a spec change left
    behind are left out)."""
    outcomes = []
    for stored in store.deals():
        try:
            outcomes.append(deal_outcome(decode_deal(stored.deal, stored.state, compiled)))
        except CodecError:
            continue
    shapes = [FunnelShape.from_funnel(f) for f in spec.funnels]
    return render(build_report(outcomes, shapes, now, (), None, spec.path), "json")
