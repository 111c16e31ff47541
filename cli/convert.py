"""`funnel convert KIND PATH`: turn a CRM export, or a deal stream, into a deal stream for `funnel simulate`."""
from __future__ import annotations

import io
import os

import click

from . import main
from .common import fail
from .outputs import check_outputs, publish, temp_beside, write_output


@main.command()
@click.argument("kind", type=click.Choice(["crm-opportunities", "events"]))
@click.argument("path")
@click.option("--to", "to", type=click.Choice(["jsonl", "parquet"]), default="jsonl", show_default=True,
              help="What to write: JSON Lines, or Parquet (needs pyarrow: pip install 'funnelspec[parquet]'; "
                   "give -o).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def convert(kind: str, path: str, to: str, output: str | None) -> None:
    """Convert a CRM export, or a deal stream, at PATH into a deal stream (JSON Lines or Parquet).

    crm-opportunities: the Maven Analytics "CRM + Sales + Opportunities"
    snapshot; PATH is its folder (sales_pipeline.csv with sales_teams.csv,
    products.csv and accounts.csv beside it) or sales_pipeline.csv alone.
    The assumptions are in docs/simulate.md; the funnel it fits is
    examples/crm_opportunities.funnel.

    events: a deal stream as `funnel simulate --events` reads it (JSON Lines,
    .gz, Parquet, a directory or a glob of them), written again, say as
    Parquet (docs/scale.md).

    An input it cannot read stops it with the file, line and column at fault
    (exit 2); nothing is written.
    """
    from ..engine.convert import CONVERTERS, ConvertError, export_files

    if to == "parquet" and output in (None, "-"):
        fail("--to parquet writes a file: give it with -o FILE.parquet")
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
        if to == "parquet":
            _write_parquet(events, output)
        else:
            _write_jsonl(events, output)
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


def _write_jsonl(events, output: str | None) -> None:
    from ..engine.convert import write_stream

    buffer = io.StringIO()
    write_stream((event for _, event in events), buffer)
    write_output(buffer.getvalue(), output)


def _write_parquet(events, output: str) -> None:
    from ..engine.convert import ConvertError
    from ..engine.parquet import MixedColumn, write_parquet

    tmp, handle = temp_beside(output, binary=True)
    handle.close()
    try:
        write_parquet(((n if line is None else line, event) for n, (line, event) in enumerate(events, 1)), tmp)
    except (MixedColumn, OSError) as err:
        os.unlink(tmp)
        raise ConvertError(str(err)) from None
    except BaseException:
        os.unlink(tmp)
        raise
    publish(tmp, output)
