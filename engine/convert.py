"""CRM exports -> deal streams. The Maven Analytics "CRM + Sales + Opportunities" snapshot, for one.

`sales_pipeline.csv` holds where each opportunity *is* (a snapshot), not how
it got there; the stream rebuilds the least history that snapshot implies
(docs/simulate.md, "Converting a CRM export", states every assumption):

- an opportunity with an engage date is created in `prospecting` on that
  date and moved to `engaging` by its sales agent the same day;
- a Prospecting opportunity has no date at all: it is created on the
  snapshot date, the latest date in the file (2017-12-31), and stays;
- a Won or Lost one is updated at its close date (`amount` becomes the
  close value, 0 for every Lost deal) and moved to `won` or `lost`;
- `amount` starts as the product's list price, so that open deals carry a
  pipeline value; fields come from the sibling tables when they are there
  (`sales_teams.csv`: manager and office; `products.csv`: series and list
  price; `accounts.csv`: sector);
- quirks: the product `GTXPro` is `GTX Pro` in products.csv and is written
  so; the sector `technolgy` is written `technology`; a blank account is
  left unset.

Events come out in time order (ties: file order, then created, moved,
updated, moved), each deal's date as midnight UTC.
"""
from __future__ import annotations

import csv
import json
import os
from typing import IO, Iterator

PIPELINE = "sales_pipeline.csv"
PRODUCT_SPELLING = {"GTXPro": "GTX Pro"}
SECTOR_SPELLING = {"technolgy": "technology"}
STAGES = {"Prospecting": "prospecting", "Engaging": "engaging", "Won": "won", "Lost": "lost"}


class ConvertError(ValueError):
    """The export is not what the converter reads; the message names the file, line and column."""


def _table(path: str, key: str) -> dict[str, dict]:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return {row[key]: row for row in csv.DictReader(handle)}


def _day(text: str, where: str) -> str:
    import datetime as dt

    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise ConvertError(f"{where}: `{text}` is not a date (YYYY-MM-DD)") from None
    return f"{text}T00:00:00Z"


def crm_opportunities(path: str) -> Iterator[dict]:
    """The deal stream of a Maven CRM export: `path` is its folder or its sales_pipeline.csv."""
    folder = path if os.path.isdir(path) else os.path.dirname(path) or "."
    pipeline = os.path.join(path, PIPELINE) if os.path.isdir(path) else path
    teams = _table(os.path.join(folder, "sales_teams.csv"), "sales_agent")
    products = _table(os.path.join(folder, "products.csv"), "product")
    accounts = _table(os.path.join(folder, "accounts.csv"), "account")
    with open(pipeline, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        needed = {"opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
                  "close_date", "close_value"}
        missing = needed - set(reader.fieldnames or ())
        if missing:
            raise ConvertError(f"{pipeline}: no column {', '.join(sorted(missing))}")
        rows = [(reader.line_num, row) for row in reader]
    snapshot = max((row[c] for _, row in rows for c in ("engage_date", "close_date") if row[c]), default=None)
    events = []
    for order, (line, row) in enumerate(rows):
        events.extend(_row_events(row, order, f"{pipeline}:{line}", snapshot, teams, products, accounts))
    events.sort(key=lambda e: e[:3])
    for *_, event in events:
        yield event


def _row_events(row, order, where, snapshot, teams, products, accounts) -> list[tuple]:
    deal = row["opportunity_id"]
    stage = STAGES.get(row["deal_stage"])
    if stage is None:
        raise ConvertError(f"{where}: deal_stage `{row['deal_stage']}` is not one of {', '.join(STAGES)}")
    product = PRODUCT_SPELLING.get(row["product"], row["product"])
    fields: dict = {"agent": row["sales_agent"], "product": product}
    team = teams.get(row["sales_agent"])
    if team:
        fields.update(manager=team["manager"], office=team["regional_office"])
    item = products.get(product)
    if item:
        fields.update(series=item["series"], list_price=int(item["sales_price"]), amount=int(item["sales_price"]))
    if row["account"]:
        fields["account"] = row["account"]
        sector = accounts.get(row["account"], {}).get("sector")
        if sector:
            fields["sector"] = SECTOR_SPELLING.get(sector, sector)
    agent = row["sales_agent"]
    out = []

    def add(ts: str, step: int, event: dict) -> None:
        out.append((ts, order, step, {"id": f"{deal}-{step}", "deal": deal, "ts": ts, **event}))

    if not row["engage_date"]:
        if stage != "prospecting":
            raise ConvertError(f"{where}: a {row['deal_stage']} deal without an engage_date")
        add(_day(snapshot, where), 1, {"type": "created", "fields": fields})
        return out
    engaged = _day(row["engage_date"], f"{where}: engage_date")
    add(engaged, 1, {"type": "created", "fields": fields})
    add(engaged, 2, {"type": "moved", "to": "engaging", "by": agent})
    if stage in ("won", "lost"):
        if not row["close_date"] or not row["close_value"]:
            raise ConvertError(f"{where}: a {row['deal_stage']} deal needs a close_date and a close_value")
        closed = _day(row["close_date"], f"{where}: close_date")
        try:
            value = int(row["close_value"])
        except ValueError:
            raise ConvertError(f"{where}: close_value `{row['close_value']}` is not a whole number") from None
        add(closed, 3, {"type": "updated", "fields": {"amount": value}})
        add(closed, 4, {"type": "moved", "to": stage, "by": agent})
    return out


def write_stream(events: Iterator[dict], out: IO[str], snapshot: str | None = None) -> int:
    """Events as JSON Lines, after a `# snapshot: NOTE` line when `snapshot` is the caveat; returns how many."""
    if snapshot:
        out.write(f"# snapshot: {snapshot}\n")
    count = 0
    for event in events:
        out.write(json.dumps(event, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


CONVERTERS = {"crm-opportunities": crm_opportunities}
# What each converter's stream is rebuilt from, said on its first line (engine/events.py reads it back).
SNAPSHOTS = {"crm-opportunities": "every opportunity's history is rebuilt from its current stage, engage date "
                                  "and close date in the export, not recorded as it happened"}
