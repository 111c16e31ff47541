"""A deal history whose behaviour is known, for tests/cases/forecast/known.funnel (tests and bench).

Deals are created evenly over `days` days; in `lead` they stay an exponential
time (mean LEAD_MEAN) and go on to `offer` (LEAD_TO_OFFER) or `lost`; in
`offer` they stay an exponential time (mean OFFER_MEAN) and are `won`
(OFFER_TO_WON) or `lost`. Every move is a `moved` event. Each deal's whole
path is drawn, so what happened after any cut date is known too.
"""
from __future__ import annotations

import datetime as dt
import random

DAY = 86400.0
LEAD_MEAN, LEAD_TO_OFFER = 10 * DAY, 0.7
OFFER_MEAN, OFFER_TO_WON = 20 * DAY, 0.6
START = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc).timestamp()


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(round(ts), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def draw_paths(deals: int, days: float, seed: int, won_share=None) -> list[tuple[str, float, float, list]]:
    """(deal id, created, amount, [(stage moved to, at)...]) for every deal, ending won or lost.

    won_share: the share of offers won as a function of the days since START the offer ends (a drifting
    behaviour); OFFER_TO_WON throughout when left out."""
    rng = random.Random(seed)
    paths = []
    for i in range(deals):
        created = round(START + rng.random() * days * DAY)
        amount = float(rng.randrange(1, 50) * 100)
        t = created + round(rng.expovariate(1 / LEAD_MEAN))
        if rng.random() < LEAD_TO_OFFER:
            moves = [("offer", t)]
            t += round(rng.expovariate(1 / OFFER_MEAN))
            share = OFFER_TO_WON if won_share is None else won_share((t - START) / DAY)
            moves.append(("won" if rng.random() < share else "lost", t))
        else:
            moves = [("lost", t)]
        paths.append((f"d{i:05d}", created, amount, moves))
    return paths


def history(paths, cut: float) -> list[dict]:
    """The events known at `cut`, in time order."""
    events = []
    for deal, created, amount, moves in paths:
        if created > cut:
            continue
        region = "north" if int(deal[1:]) % 2 else "south"
        events.append({"deal": deal, "ts": created, "type": "created",
                       "fields": {"amount": amount, "region": region}})
        events.extend({"deal": deal, "ts": t, "type": "moved", "to": stage} for stage, t in moves if t <= cut)
    events.sort(key=lambda e: (e["ts"], e["deal"], e["type"] != "created"))
    for number, e in enumerate(events):
        e["ts"] = iso(e["ts"])
        e["id"] = f"e{number}"
    return events


def won_between(paths, cut: float, end: float) -> int:
    """Deals open at `cut` (created by then, not closed) that were won after it and by `end`."""
    count = 0
    for _, created, _, moves in paths:
        if created > cut or moves[-1][1] <= cut:
            continue
        if moves[-1][0] == "won" and moves[-1][1] <= end:
            count += 1
    return count
