"""`funnel run SPEC --state STORE`: execute a funnel durably against a live deal stream."""
from __future__ import annotations

import json
import sys
import time

import click

from . import main
from .common import EXIT_FINDINGS, fail, use_color


def parse_migrations(pairs: tuple[str, ...]) -> dict[str, str]:
    """`--migrate OLD=NEW` (repeatable) -> {OLD: NEW}; exits 2 on a malformed pair."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            fail(f"--migrate: `{pair}` is not OLD=NEW (a stage id the spec no longer has = one it has)")
        mapping[old.strip()] = new.strip()
    return mapping


# --actions and --migrate mean the same for `funnel serve` (cli/serve.py), which takes them from here.
actions_option = click.option(
    "--actions", "sink", metavar="FILE|-|URL",
    help="Deliver actions as JSON Lines to FILE (appended) or stdout (`-`), or POST them to an "
         "http(s) URL. Without it they wait in the store's outbox.")
migrate_option = click.option(
    "--migrate", "migrations", multiple=True, metavar="OLD=NEW",
    help="Move deals standing in stage OLD, which the spec no longer has, to stage NEW (repeatable).")


@main.command("run")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--state", "target", required=True, metavar="STORE",
              help="Where the deals, timers and outbox live: a SQLite file (created if missing) or a "
                   "postgresql:// URL.")
@click.option("--events", default="-", show_default=True, metavar="FILE|-",
              help="The deal stream, JSON Lines; `-` for stdin.")
@click.option("--follow", is_flag=True, help="At the end of --events, wait for more lines (a growing file).")
@click.option("--clock", type=click.Choice(["wall", "event"]), default=None,
              help="When timers fire: on the wall clock (default for stdin and --follow), or at the events' "
                   "own times, as `simulate` does (default for a file).")
@actions_option
@migrate_option
@click.option("--moves", type=click.Choice(["enforce", "record"]), default="enforce", show_default=True,
              help="A person's move the spec does not allow: refused (enforce) or applied (record).")
@click.option("--on-error", type=click.Choice(["skip", "stop"]), default="skip", show_default=True,
              help="A bad line goes to the store's rejects and the stream goes on (skip), or ends the run "
                   "before it, exit 2 (stop).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The closing summary: text (stderr) or JSON (stdout, or stderr when actions go to stdout).")
def run(spec: str, target: str, events: str, follow: bool, clock: str | None, sink: str | None,
        migrations: tuple[str, ...], moves: str, on_error: str, fmt: str) -> None:
    """Apply the deal events of --events to the deals in --state, durably, as SPEC's rules say.

    Each batch of events is one transaction: the deals, their timers, the actions
    produced (the outbox) and the event ids are kept together, so a repeated event
    is skipped and a crash loses nothing. SIGTERM or Ctrl-C finishes the batch in
    flight and exits 0. See docs/run.md.
    """
    from ..api import analyse
    from ..dsl.render.text import render_text
    from ..run.session import RunRefused, RunSession

    analysis = analyse(spec, lint=True)
    if analysis.spec is None:
        click.echo(render_text(analysis.diagnostics, analysis.sources, use_color(sys.stderr)), err=True)
        fail(f"{spec}: the spec has errors; `funnel run` runs only a spec that `funnel lint` passes", EXIT_FINDINGS)
    clock = clock or ("wall" if follow or events == "-" else "event")
    try:
        session = RunSession.open(analysis, target, migrate=parse_migrations(migrations), moves=moves,
                                  sink=sink)
    except RunRefused as err:
        fail(str(err))
    started = time.monotonic()
    try:
        totals = session.consume(events, follow=follow, clock=clock, on_error=on_error)
    finally:
        outbox = session.close()
    summary = {**totals.to_json(), "seconds": round(time.monotonic() - started, 3), "outbox": outbox}
    to_stderr = fmt == "text" or sink == "-"
    if fmt == "json":
        click.echo(json.dumps(summary, ensure_ascii=False), err=to_stderr)
    else:
        click.echo(f"{summary['lines']} lines: {summary['applied']} applied, {summary['duplicates']} duplicates, "
                   f"{summary['rejected']} rejected; timers fired for {summary['timer_deals']} deals; outbox: "
                   f"{outbox['delivered']} delivered, {outbox['pending']} pending, {outbox['dead']} dead", err=True)
    if totals.stopped_at is not None:
        line, reason = totals.stopped_at
        fail(f"{session.source_name}:{line}: {reason}")
