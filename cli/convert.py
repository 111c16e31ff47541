"""`funnel convert KIND PATH`: turn a CRM export or stage history into a deal stream for `funnel simulate`."""
from __future__ import annotations

import io

import click

from . import main
from .common import fail, runnable_spec
from .outputs import check_outputs, write_output
from ..crm import CRMS

HISTORIES = CRMS + ("csv",)


@main.command()
@click.argument("kind", type=click.Choice(("crm-opportunities",) + HISTORIES))
@click.argument("path", type=click.Path(exists=True))
@click.option("--spec", type=click.Path(dir_okay=False),
              help="The spec whose stages the history names (CRMs, csv).")
@click.option("--mapping", type=click.Path(dir_okay=False),
              help="The CRM's ids to the spec's stages: what `funnel import` wrote, or a pyproject.toml "
                   "with [tool.funnel.crm].")
@click.option("--csv-map", "csv_map", multiple=True,
              help="csv: the columns, `deal=COLUMN,ts=COLUMN,stage=COLUMN` (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def convert(kind: str, path: str, spec: str | None, mapping: str | None, csv_map: tuple[str, ...],
            output: str | None) -> None:
    """Convert a CRM export or stage history at PATH into a deal stream (JSON Lines).

    \b
    amocrm     GET /api/v4/events (lead_status_changed, before and after)
    bitrix24   crm.stagehistory.list
    hubspot    deals read with propertiesWithHistory=dealstage
    pipedrive  GET /v1/deals/{id}/flow (one answer or a list of them)
    csv        a flat export, one row per deal and stage, with --csv-map

    Each deal is `created` in the first stage it is seen in and `moved` at
    each change. Stage values are the spec's (--spec) by the --mapping's
    ids, then stage ids, then exact titles, then titles without case and
    spacing; an unknown one stops it, naming the value, where it is, and the
    closest stage (exit 2; nothing is written). docs/crm.md has examples.

    crm-opportunities: the Maven Analytics "CRM + Sales + Opportunities"
    snapshot; PATH is its folder (sales_pipeline.csv with sales_teams.csv,
    products.csv and accounts.csv beside it) or sales_pipeline.csv alone.
    The assumptions are in docs/simulate.md; the funnel it fits is
    examples/crm_opportunities.funnel. An export it cannot read stops it with
    the file, line and column at fault (exit 2); nothing is written.
    """
    from ..engine.convert import CONVERTERS, ConvertError, export_files, write_stream

    if kind in HISTORIES:
        _history(kind, path, spec, mapping, csv_map, output)
        return
    check_outputs([("a file of the export", f) for f in export_files(path)], [("-o", output)])
    buffer = io.StringIO()
    try:
        write_stream(CONVERTERS[kind](path), buffer)
    except ConvertError as err:
        fail(str(err))
    write_output(buffer.getvalue(), output)


def _history(kind, path, spec_path, mapping, csv_map, output) -> None:
    from ..crm import CrmError
    from ..crm.history import convert_history
    from ..engine.convert import write_stream
    from ..engine.events import parse_csv_map

    if spec_path is None:
        fail(f"funnel convert {kind} needs --spec SPEC: the spec whose stages the history names")
    columns = None
    if kind == "csv":
        try:
            columns = parse_csv_map(csv_map)
        except ValueError as err:
            fail(f"--csv-map: {err}")
        missing = [k for k in ("deal", "ts", "stage") if k not in columns]
        if missing:
            fail(f"--csv-map: name the column of {', '.join(missing)}, e.g. `deal=ID,ts=Дата,stage=Стадия`")
        columns = {k: columns[k] for k in ("deal", "ts", "stage")}
    elif csv_map:
        fail("--csv-map is for `funnel convert csv`")
    check_outputs([("PATH", path), ("--spec", spec_path), ("--mapping", mapping)], [("-o", output)])
    spec = runnable_spec(spec_path)
    buffer = io.StringIO()
    try:
        write_stream(iter(convert_history(kind, path, spec, mapping, columns)), buffer)
    except CrmError as err:
        fail(str(err))
    write_output(buffer.getvalue(), output)
