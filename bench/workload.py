"""The speed benchmark's workload: a seeded stream for a 7-stage B2B funnel with ten rules and timers.

`SPEC_TEXT` is the funnel (written out by `write_spec`); `generate` writes a
JSON Lines stream for it, in time order, as a CRM export would give it: each
deal is created, then gets calls (each raises its score), a demo, a
proposal, more calls and payments, with quiet spells that let the `after`
timers lose it, occasional field updates and moves to `lost` by hand. The
same seed gives the same bytes. 200,000 deals make about 1.2 million events;
`extra` adds that many field updates per deal (for the memory run: more
events, the same deals).

    python -m bench workload [--quick]    # generate and describe the stream
"""
from __future__ import annotations

import heapq
import json
import random
import time
from datetime import datetime, timezone
from pathlib import Path

DEALS, QUICK_DEALS = 200_000, 20_000
SEED = 7
START = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
DAY = 86_400

SPEC_TEXT = """\
# The speed benchmark's funnel: a 7-stage B2B pipeline with ten rules and timers (bench/workload.py)
funnel pipeline "B2B pipeline" {
  currency USD
  value budget

  fields {
    budget: money
    score: int = 0
    segment: "smb" | "mid" | "enterprise" | "spam"
    demo_done: bool = false
    proposal_sent: bool = false
    paid: money = 0
    manager: text = "team"
  }

  events {
    call { minutes: int = 0 }
    demo { attendees: int = 1 }
    proposal { amount: money = 0 }
    payment { amount: money }
  }

  stage new "New" { start  sla 14d }
  stage qualified "Qualified" { probability 10%  sla 30d }
  stage demo "Demo" { probability 30%  sla 30d }
  stage proposal "Proposal" { probability 50%  sla 21d }
  stage negotiation "Negotiation" { probability 75%  sla 60d }
  stage won "Won" { won }
  stage lost "Lost" { lost }

  new -> lost when segment == "spam" because "spam"
  new -> qualified when score >= 30 and segment != "spam"
  qualified -> demo when demo_done
  demo -> proposal when proposal_sent
  proposal -> negotiation when score >= 60
  negotiation -> won when paid >= budget
  any -> lost

  on event call: set score = score + 10
  on event demo: set demo_done = true
  on event proposal: set proposal_sent = true
  on event payment: set paid = paid + event.amount
  after 14d in new: move to lost because "no response"
  after 30d in qualified: move to lost because "stalled"
  after 21d in proposal: move to lost because "no answer"
  every 7d in negotiation while paid < budget: notify manager "payment reminder"
  on enter negotiation: task "send the contract" due 2d for manager
  on enter won: notify manager "won"
}
"""

SEGMENTS = ("smb", "mid", "enterprise", "spam")
SEGMENT_WEIGHTS = (50, 30, 15, 5)
MANAGERS = ("Ivanova", "Smith", "García", "Müller", "Чен")


def write_spec(folder: Path) -> Path:
    path = Path(folder) / "pipeline.funnel"
    path.write_text(SPEC_TEXT, encoding="utf-8")
    return path


def _iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _deal_events(rng: random.Random, deal: str, created: int, extra: int) -> list[tuple[int, dict]]:
    """One deal's story as (time, event) pairs, times strictly increasing."""
    segment = rng.choices(SEGMENTS, SEGMENT_WEIGHTS)[0]
    budget = rng.randrange(10, 2_000) * 100
    score = rng.choice((0, 0, 10, 20))
    fields = {"budget": budget, "segment": segment, "manager": rng.choice(MANAGERS)}
    if score:
        fields["score"] = score
    story = [(created, {"type": "created", "fields": fields})]
    now = created
    phase = 0                                  # 0 calls to qualify, 1 demo, 2 proposal, 3 calls, 4 payments
    paid = 0

    def step(event: dict, longest: int = 6 * DAY) -> None:
        nonlocal now
        now += rng.randrange(3_600, longest)
        story.append((now, event))

    if segment == "spam":
        if rng.random() < 0.5:
            step({"type": "event", "name": "call", "data": {"minutes": rng.randrange(1, 30)}})
    else:
        while rng.random() > 0.1:
            roll = rng.random()
            if roll < 0.03:
                step({"type": "moved", "to": "lost", "reason": "the client went quiet"})
                break
            if roll < 0.08:
                step({"type": "updated", "fields": {"manager": rng.choice(MANAGERS)}})
                continue
            if phase in (0, 3):
                step({"type": "event", "name": "call", "data": {"minutes": rng.randrange(1, 60)}})
                score += 10
                if score >= (30 if phase == 0 else 60):
                    phase += 1
            elif phase == 1:
                step({"type": "event", "name": "demo", "data": {"attendees": rng.randrange(1, 6)}}, 20 * DAY)
                phase = 2
            elif phase == 2:
                step({"type": "event", "name": "proposal", "data": {"amount": budget}}, 15 * DAY)
                phase = 3
            else:
                amount = budget - paid if rng.random() < 0.6 else budget // 2
                step({"type": "event", "name": "payment", "data": {"amount": amount}}, 20 * DAY)
                paid += amount
                if paid >= budget:
                    break
    for _ in range(extra):
        step({"type": "updated", "fields": {"manager": rng.choice(MANAGERS)}}, 2 * DAY)
    return story


def generate(path: Path, deals: int, seed: int = SEED, extra: int = 0) -> int:
    """Write the stream for `deals` deals (time order across deals) to `path`; returns the number of events."""
    try:
        import orjson

        def encode(event: dict) -> bytes:
            return orjson.dumps(event)
    except ImportError:
        def encode(event: dict) -> bytes:
            return json.dumps(event, ensure_ascii=False).encode("utf-8")

    rng = random.Random(seed)
    pending: list[tuple[int, int, bytes]] = []         # (time, order, line): events not yet written
    order = count = 0
    created = START
    with open(path, "wb") as out:
        write = out.write
        for number in range(1, deals + 1):
            created += rng.randrange(1, 300)
            while pending and pending[0][0] < created:
                write(heapq.heappop(pending)[2])
                count += 1
            deal = f"D{number:07d}"
            for n, (ts, event) in enumerate(_deal_events(rng, deal, created, extra), 1):
                order += 1
                line = encode({"id": f"{deal}-{n}", "deal": deal, "ts": _iso(ts), **event}) + b"\n"
                heapq.heappush(pending, (ts, order, line))
        while pending:
            write(heapq.heappop(pending)[2])
            count += 1
    return count


def run(quick: bool) -> None:
    import tempfile

    deals = QUICK_DEALS if quick else DEALS
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.jsonl"
        started = time.perf_counter()
        count = generate(path, deals)
        seconds = time.perf_counter() - started
        print(f"   {deals:,} deals, {count:,} events ({count / deals:.1f} a deal), "
              f"{path.stat().st_size / 1e6:.0f} MB, generated in {seconds:.1f} s (seed {SEED})")
