"""`funnel sample SPEC`: a seeded sample deal stream for a spec, to try `funnel simulate` on."""
from __future__ import annotations

import io

import click

from . import main
from .common import fail, import_root_option, runnable_analysis
from .outputs import check_outputs, write_output


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--deals", type=click.IntRange(min=1), default=100, show_default=True, help="How many deals.")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same stream.")
@click.option("--steps", type=click.IntRange(min=0), default=8, show_default=True,
              help="At most this many events per deal after `created`.")
@click.option("--start", default="2026-01-05T09:00:00Z", show_default=True,
              help="When the first deal is created (ISO 8601); the sample ends by 2200-12-31.")
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True,
              help="Deals are created over this many days.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@import_root_option
def sample(spec: str, deals: int, seed: int, steps: int, start: str, days: int, output: str | None,
           import_roots: tuple[str, ...] = ()) -> None:
    """Write a sample deal stream (JSON Lines) that replays against SPEC without a rejected line.

    A SPEC that `funnel lint` reports errors for is refused: its errors are printed, exit 1.
    """
    from ..engine.sample import sample_start, write_sample

    try:
        sample_start(start, days, steps)
    except ValueError as err:
        fail(f"--{err}")
    analysis = runnable_analysis(spec, import_roots=import_roots)
    check_outputs([("SPEC", spec)] + [("a spec it imports", f) for f in analysis.sources], [("-o", output)])
    checked = analysis.spec
    buffer = io.StringIO()
    write_sample(buffer, checked, deals=deals, seed=seed, steps=steps, start=start, days=days)
    write_output(buffer.getvalue(), output)
