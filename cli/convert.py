"""`funnel convert KIND PATH`: turn a CRM export into a deal stream for `funnel simulate`."""
from __future__ import annotations

import io

import click

from . import main
from .common import fail
from .outputs import check_outputs, write_output


@main.command()
@click.argument("kind", type=click.Choice(["crm-opportunities"]))
@click.argument("path", type=click.Path(exists=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def convert(kind: str, path: str, output: str | None) -> None:
    """Convert a CRM export at PATH into a deal stream (JSON Lines).

    crm-opportunities: the Maven Analytics "CRM + Sales + Opportunities"
    snapshot; PATH is its folder (sales_pipeline.csv with sales_teams.csv,
    products.csv and accounts.csv beside it) or sales_pipeline.csv alone.
    The assumptions are in docs/simulate.md; the funnel it fits is
    examples/crm_opportunities.funnel. An export it cannot read stops it with
    the file, line and column at fault (exit 2); nothing is written. The
    stream's first line, `# snapshot: …`, says it is rebuilt from a snapshot,
    and reports of it carry that caveat.
    """
    from ..engine.convert import CONVERTERS, SNAPSHOTS, ConvertError, export_files, write_stream

    check_outputs([("a file of the export", f) for f in export_files(path)], [("-o", output)])
    buffer = io.StringIO()
    try:
        write_stream(CONVERTERS[kind](path), buffer, SNAPSHOTS.get(kind))
    except ConvertError as err:
        fail(str(err))
    write_output(buffer.getvalue(), output)
