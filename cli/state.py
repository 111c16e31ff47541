"""`funnel state STORE [deal ID | summary | outbox | rejects]`: what a `funnel run` store holds."""
from __future__ import annotations

import json
import os

import click

from . import main
from .common import dump_json, fail, use_color, write_output
from .report import REPORT_FORMATS, by_option, diagnosis_thresholds, lang_option, parse_by

VIEWS = ("summary", "deal", "outbox", "rejects")


@main.command("state")
@click.argument("target", metavar="STORE")
@click.argument("what", nargs=-1, metavar="[deal ID | summary | outbox | rejects]")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="text", show_default=True,
              help="text or json (summary also csv and html, as `funnel report`).")
@click.option("--status", type=click.Choice(["pending", "delivered", "dead"]),
              help="outbox: only the actions in this state.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="outbox, rejects: at most this many, oldest first.")
@by_option
@lang_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def state(target: str, what: tuple[str, ...], fmt: str, status: str | None, limit: int, by: tuple[str, ...],
          lang: str | None, output: str | None) -> None:
    """Show what the `funnel run` store STORE holds: a deal's state, fields, pending timers and actions
    (`deal ID`), the live funnel's figures as `funnel report` shows them (`summary`, the default), the
    outbox, or the rejected lines."""
    from ..run.store import StoreError, open_store
    from ..run import views

    view, deal_id = _view(what)
    if fmt in ("csv", "html") and view != "summary":
        fail(f"--format {fmt} is for `summary` only")
    if lang is not None and view != "summary":
        fail("--lang is for `summary` only")
    if "://" not in target and not os.path.isfile(target):
        fail(f"{target}: no such store (`funnel run SPEC --state {target}` creates it)")
    try:
        store = open_store(target)
    except StoreError as err:
        fail(str(err))
    try:
        if view == "summary":
            try:
                report = views.live_report(store, parse_by(by), diagnosis_thresholds((), "."))
            except ValueError as err:
                fail(str(err))
            from ..engine.report import render

            color = fmt == "text" and output in (None, "-") and use_color()
            write_output(render(report, fmt, color, lang), output)
            return
        if view == "deal":
            data = views.deal_view(store, deal_id)
            if data is None:
                fail(f'{target}: no deal "{deal_id}"', 1)
        elif view == "outbox":
            data = views.outbox_view(store, status, limit)
        else:
            data = views.rejects_view(store, limit)
    finally:
        store.close()
    write_output(dump_json(data) if fmt == "json" else TEXT[view](data), output)


def _view(what: tuple[str, ...]) -> tuple[str, str | None]:
    if not what:
        return "summary", None
    if what[0] not in VIEWS:
        fail(f"`{what[0]}`: expected one of deal ID, summary, outbox, rejects")
    if what[0] == "deal":
        if len(what) != 2:
            fail("`deal` needs the deal's id: funnel state STORE deal ID")
        return "deal", what[1]
    if len(what) != 1:
        fail(f"`{what[0]}` takes no further argument")
    return what[0], None


def _value(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def deal_text(d: dict) -> str:
    lines = [f"deal {d['deal']}: funnel `{d['funnel']}`, stage `{d['stage']}` ({d['status']})"
             + (f", lost because {d['lost_reason']}" if d["lost_reason"] else ""),
             f"  created {d['created']}, in this stage since {d['entered']}, last event {d['last_event']}"
             + (f", closed {d['closed']}" if d["closed"] else ""),
             f"  spec {d['spec_hash']}", "fields:"]
    lines += [f"  {name} = {_value(value)}" for name, value in d["fields"].items()]
    lines.append("pending timers:" if d["timers"] else "pending timers: none")
    lines += [f"  {t['due']}  {t['rule']}" for t in d["timers"]]
    lines.append("path:")
    lines += [f"  {v['stage']}  {v['entered']} .. {v['left'] or 'now'}  ({v['via']})" for v in d["path"]]
    lines.append("actions:" if d["actions"] else "actions: none")
    lines += [_action_line(a) for a in d["actions"]]
    if d["problems"]:
        lines.append("problems (latest):")
        lines += [f"  {p.get('time')}  {p.get('message')}" for p in d["problems"]]
    return "\n".join(lines) + "\n"


def _action_line(a: dict) -> str:
    line = f"  {a['id']}  {a['time']}  {a['kind']} {_value(a['payload'])}  [{a['status']}"
    if a["attempts"]:
        line += f", {a['attempts']} failed attempt(s): {a['error']}"
    return line + "]"


def outbox_text(o: dict) -> str:
    lines = [f"outbox: {o['pending']} pending, {o['delivered']} delivered, {o['dead']} dead"]
    lines += [_action_line(a).replace("  ", "  " + a["deal"] + "  ", 1) for a in o["actions"]]
    return "\n".join(lines) + "\n"


def rejects_text(r: dict) -> str:
    if not r["rejects"]:
        return "no rejected lines\n"
    return "".join(f"{x['source']}:{x['line']}: {x['reason']}\n    {x['raw']}\n" for x in r["rejects"])


TEXT = {"deal": deal_text, "outbox": outbox_text, "rejects": rejects_text}
