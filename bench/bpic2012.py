"""The BPI Challenge 2012 loan applications (examples/data/bpic2012/, CC BY 4.0) as a deal stream and a funnel.

Each case is a deal created at A_SUBMITTED with its requested amount; every
later A_ activity is a `moved` event to its stage; the first of A_APPROVED,
A_REGISTERED and A_ACTIVATED is the win (the three come together, in either
order), A_DECLINED and A_CANCELLED the losses.
"""
from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "examples" / "data" / "bpic2012" / "bpic2012_A_events.csv.gz"
STAGES = {"A_PARTLYSUBMITTED": "partly_submitted", "A_PREACCEPTED": "preaccepted", "A_ACCEPTED": "accepted",
          "A_FINALIZED": "finalized", "A_APPROVED": "approved", "A_REGISTERED": "approved",
          "A_ACTIVATED": "approved", "A_DECLINED": "declined", "A_CANCELLED": "cancelled"}

SPEC_TEXT = """\
# BPI Challenge 2012 (4TU.ResearchData, CC BY 4.0): loan applications at a Dutch financial institute.
# funnel: ignore[FNL402] the log's own application states, kept as they are to replay its history
funnel bpic2012 "Loan applications (BPI Challenge 2012)" {
  currency EUR
  value amount

  fields {
    amount: money = 0
  }

  stage submitted "Submitted" { start }
  stage partly_submitted "Partly submitted" { probability 20% }
  stage preaccepted "Pre-accepted" { probability 35% }
  stage accepted "Accepted" { probability 45% }
  stage finalized "Finalized" { probability 55% }
  stage approved "Approved" { won }
  stage declined "Declined" { lost }
  stage cancelled "Cancelled" { lost }

  submitted -> partly_submitted
  partly_submitted -> preaccepted
  preaccepted -> accepted
  accepted -> finalized
  finalized -> approved
  any -> declined
  any -> cancelled
}
"""


def write_spec(folder: Path) -> Path:
    path = folder / "bpic2012.funnel"
    path.write_text(SPEC_TEXT, encoding="utf-8")
    return path


def events(path: Path = DATA) -> list[dict]:
    """The deal stream, in time order (the log's order within each case)."""
    out, won = [], set()
    with gzip.open(path, "rb") as raw:
        for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")):
            case, activity, ts = row["case_id"], row["activity"], row["timestamp_utc"]
            if activity == "A_SUBMITTED":
                out.append({"deal": case, "ts": ts, "type": "created",
                            "fields": {"amount": float(row["amount_req"] or 0)}})
                continue
            stage = STAGES.get(activity)
            if stage is None or (stage == "approved" and case in won):
                continue
            if stage == "approved":
                won.add(case)
            out.append({"deal": case, "ts": ts, "type": "moved", "to": stage})
    order = sorted(range(len(out)), key=lambda i: (out[i]["ts"], i))
    stream = [out[i] for i in order]
    for number, event in enumerate(stream):
        event["id"] = f"e{number}"
    return stream
