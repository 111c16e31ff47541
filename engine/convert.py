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

import json
import os
from functools import partial
from typing import IO, Iterator

from .events import record_problem
from .lines import BadRecord, csv_records

PIPELINE = "sales_pipeline.csv"
PRODUCT_SPELLING = {"GTXPro": "GTX Pro"}
SECTOR_SPELLING = {"technolgy": "technology"}
STAGES = {"Prospecting": "prospecting", "Engaging": "engaging", "Won": "won", "Lost": "lost"}


class ConvertError(ValueError):
    """The export is not what the converter reads; the message names the file, line and column."""


PIPELINE_COLUMNS = ("opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
                    "close_date", "close_value")
SIBLINGS = {"sales_teams.csv": ("sales_agent", ("sales_agent", "manager", "regional_office")),
            "products.csv": ("product", ("product", "series", "sales_price")),
            "accounts.csv": ("account", ("account", "sector"))}


class _Table:
    """A CSV table's rows, each {column: cell} with its line; where a cell is, for messages."""

    def __init__(self, path: str, needed: tuple[str, ...]):
        self.path = path
        self.header: list[str] = []
        self.rows: list[tuple[int, dict[str, str]]] = []
        with open(path, "rb") as handle:
            for line, _, cells in csv_records(handle):
                if type(cells) is BadRecord:
                    raise ConvertError(f"{self.at(line, cells.column)}: {record_problem(cells, self.header)}")
                if not self.header:
                    self.header = cells
                    missing = [c for c in needed if c not in cells]
                    if missing:
                        raise ConvertError(f"{path}:{line}: no column {', '.join(missing)} "
                                           f"(the header has {', '.join(cells) or 'no columns'})")
                elif cells:                         # a blank line is no row (as csv.DictReader has it)
                    if len(cells) != len(self.header):
                        raise ConvertError(f"{path}:{line}: a row of {len(cells)} cells under a header of "
                                           f"{len(self.header)}")
                    self.rows.append((line, dict(zip(self.header, cells))))

    def at(self, line: int, column: str | int | None = None) -> str:
        """`path:line:column` (the column from 1, by number or name), or `path:line`."""
        if isinstance(column, str):
            column = self.header.index(column) + 1
        return f"{self.path}:{line}" + (f":{column}" if column else "")


def _siblings(folder: str) -> dict[str, dict[str, tuple[int, dict]]]:
    """Each sibling table there is, by its key column: {name: {key: (line, row)}}."""
    tables = {}
    for name, (key, needed) in SIBLINGS.items():
        path = os.path.join(folder, name)
        table = _Table(path, needed) if os.path.exists(path) else None
        tables[name] = {row[key]: (line, row) for line, row in table.rows} if table else {}
        if table and name == "products.csv":
            for line, row in table.rows:
                _whole(row["sales_price"], f"{table.at(line, 'sales_price')}: sales_price")
    return tables


def _whole(text: str, where: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConvertError(f"{where} `{text[:40]}` is not a whole number") from None


def _day(text: str, where: str) -> str:
    import datetime as dt

    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise ConvertError(f"{where} `{text[:40]}` is not a date (YYYY-MM-DD)") from None
    return f"{text}T00:00:00Z"


def export_files(path: str) -> tuple[str, str, str, str]:
    """The files of a Maven CRM export at `path` (its folder or its sales_pipeline.csv): pipeline, teams,
    products, accounts; all but the pipeline may be missing."""
    folder = path if os.path.isdir(path) else os.path.dirname(path) or "."
    pipeline = os.path.join(path, PIPELINE) if os.path.isdir(path) else path
    return (pipeline, *(os.path.join(folder, name) for name in ("sales_teams.csv", "products.csv", "accounts.csv")))


def crm_opportunities(path: str) -> Iterator[dict]:
    """The deal stream of a Maven CRM export: `path` is its folder or its sales_pipeline.csv."""
    folder = path if os.path.isdir(path) else os.path.dirname(path) or "."
    pipeline = _Table(os.path.join(path, PIPELINE) if os.path.isdir(path) else path, PIPELINE_COLUMNS)
    tables = _siblings(folder)
    dates = []
    for line, row in pipeline.rows:                  # every date checked here: the latest is the snapshot's
        for column in ("engage_date", "close_date"):
            if row[column]:
                _day(row[column], f"{pipeline.at(line, column)}: {column}")
                dates.append(row[column])
    snapshot = max(dates, default=None)
    events = []
    for order, (line, row) in enumerate(pipeline.rows):
        events.extend(_row_events(row, order, partial(pipeline.at, line), snapshot, tables))
    events.sort(key=lambda e: e[:3])
    for *_, event in events:
        yield event


def _row_events(row, order, at, snapshot, tables) -> list[tuple]:
    deal = row["opportunity_id"]
    stage = STAGES.get(row["deal_stage"])
    if stage is None:
        raise ConvertError(f"{at('deal_stage')}: deal_stage `{row['deal_stage'][:40]}` is not one of "
                           f"{', '.join(STAGES)}")
    product = PRODUCT_SPELLING.get(row["product"], row["product"])
    fields: dict = {"agent": row["sales_agent"], "product": product}
    _, team = tables["sales_teams.csv"].get(row["sales_agent"], (0, None))
    if team:
        fields.update(manager=team["manager"], office=team["regional_office"])
    _, item = tables["products.csv"].get(product, (0, None))
    if item:
        price = int(item["sales_price"])             # checked when products.csv was read
        fields.update(series=item["series"], list_price=price, amount=price)
    if row["account"]:
        fields["account"] = row["account"]
        _, account = tables["accounts.csv"].get(row["account"], (0, {}))
        sector = account.get("sector")
        if sector:
            fields["sector"] = SECTOR_SPELLING.get(sector, sector)
    agent = row["sales_agent"]
    out = []

    def add(ts: str, step: int, event: dict) -> None:
        out.append((ts, order, step, {"id": f"{deal}-{step}", "deal": deal, "ts": ts, **event}))

    if not row["engage_date"]:
        if stage != "prospecting":
            raise ConvertError(f"{at()}: a {row['deal_stage']} deal without an engage_date")
        if snapshot is None:
            raise ConvertError(f"{at()}: a Prospecting deal is created on the latest date in the file, "
                               "and the file has none")
        add(f"{snapshot}T00:00:00Z", 1, {"type": "created", "fields": fields})
        return out
    engaged = f"{row['engage_date']}T00:00:00Z"
    add(engaged, 1, {"type": "created", "fields": fields})
    add(engaged, 2, {"type": "moved", "to": "engaging", "by": agent})
    if stage in ("won", "lost"):
        if not row["close_date"] or not row["close_value"]:
            raise ConvertError(f"{at()}: a {row['deal_stage']} deal needs a close_date and a close_value")
        value = _whole(row["close_value"], f"{at('close_value')}: close_value")
        add(f"{row['close_date']}T00:00:00Z", 3, {"type": "updated", "fields": {"amount": value}})
        add(f"{row['close_date']}T00:00:00Z", 4, {"type": "moved", "to": stage, "by": agent})
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
