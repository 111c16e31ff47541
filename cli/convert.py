"""`funnel convert KIND PATH`: turn a CRM export or stage history, or a deal stream, into a deal stream for `funnel simulate`."""
from __future__ import annotations

import io
import os

import click

from . import main
from .common import fail, runnable_spec
from .outputs import check_outputs, write_output
from ..crm import CRMS

HISTORIES = CRMS + ("csv",)


@main.command()
@click.argument("kind", type=click.Choice(("crm-opportunities", "events") + HISTORIES))
@click.argument("path")
@click.option("--spec", type=click.Path(dir_okay=False),
              help="The spec whose stages the history names (CRMs, csv).")
@click.option("--mapping", type=click.Path(dir_okay=False),
              help="The CRM's ids to the spec's stages: what `funnel import` wrote, or a pyproject.toml "
                   "with [tool.funnel.crm].")
@click.option("--csv-map", "csv_map", multiple=True,
              help="csv: the columns, `deal=COLUMN,ts=COLUMN,stage=COLUMN` (repeatable).")
@click.option("--to", "to", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True,
              help="What to write: JSON Lines, or Parquet (needs pyarrow: pip install 'funnelspec[parquet]'; "
                   "give -o).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def convert(kind: str, path: str, spec: str | None, mapping: str | None, csv_map: tuple[str, ...], to: str,
            output: str | None) -> None:
    """Convert a CRM export or stage history, or a deal stream, at PATH into a deal stream (JSON Lines or Parquet).

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
    examples/crm_opportunities.funnel. The stream's first line, `# snapshot: …`,
    says it is rebuilt from a snapshot, and reports of it carry that caveat.

    events: a deal stream as `funnel simulate --events` reads it (JSON Lines,
    .gz, Parquet, a directory or a glob of them), written again, say as
    Parquet (docs/scale.md).

    An input it cannot read stops it with the file, line and column at fault
    (exit 2); nothing is written.
    """
    from ..engine.convert import CONVERTERS, SNAPSHOTS, ConvertError, export_files

    if to == "parquet" and output in (None, "-"):
        fail("--to parquet writes a file: give it with -o FILE.parquet")
    if kind in HISTORIES:
        if to != "jsonl":
            fail(f"--to {to} is for `funnel convert events` and `crm-opportunities`")
        if not os.path.exists(path):
            fail(f"PATH `{path}` does not exist")
        _history(kind, path, spec, mapping, csv_map, output)
        return
    if kind == "events":
        inputs = [("PATH", path)] if os.path.exists(path) else []
        events = _stream_events(path)
    else:
        if not os.path.exists(path):
            fail(f"PATH `{path}` does not exist")
        inputs = [("a file of the export", f) for f in export_files(path)]
        events = ((None, event) for event in CONVERTERS[kind](path))
    check_outputs(inputs, [("-o", output)])
    try:
        snapshot = SNAPSHOTS.get(kind) if kind != "events" else _stream_snapshot(path)
        if to == "parquet":
            _write_parquet(events, output, snapshot)
        else:
            _write_jsonl(events, output, snapshot)
    except ConvertError as err:
        fail(str(err))


def _stream_events(path: str):
    """(line, event) of every line of a stream; a line that is not an event is a ConvertError."""
    from ..engine.convert import ConvertError
    from ..engine.events import BLANK, NotJson
    from ..engine.simulate import event_lines

    try:
        lines, source, _, stream = event_lines(path)
    except OSError as err:
        fail(f"{path}: {err.strerror or err}")
    try:
        for line, _, value in lines:
            if value is BLANK:
                continue
            if type(value) is NotJson:
                raise ConvertError(f"{source}, line {line}: {value.message}")
            if type(value) is not dict:
                raise ConvertError(f"{source}, line {line}: not an event (a JSON object)")
            yield line, value
    finally:
        if stream is not None:
            stream.close()


def _stream_snapshot(path: str) -> str | None:
    """The snapshot caveat of a stream given to `convert events`, carried into what it writes."""
    from ..engine.events import file_snapshot_note

    if path == "-" or not os.path.exists(path) and not any(c in path for c in "*?["):
        return None
    try:
        return file_snapshot_note(path)
    except OSError:
        return None                     # the reading itself names the problem


def _write_jsonl(events, output: str | None, snapshot: str | None = None) -> None:
    from ..engine.convert import write_stream

    buffer = io.StringIO()
    write_stream((event for _, event in events), buffer, snapshot)
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


def _write_parquet(events, output: str, snapshot: str | None = None) -> None:
    from ..atomic import replacing
    from ..engine.convert import ConvertError
    from ..engine.parquet import MixedColumn, write_parquet

    try:
        with replacing(output, binary=True) as handle:       # whole or not at all, as every output
            write_parquet(((n if line is None else line, event) for n, (line, event) in enumerate(events, 1)),
                          handle, snapshot)
    except (MixedColumn, OSError) as err:
        raise ConvertError(str(err)) from None
