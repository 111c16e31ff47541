"""`funnel import CRM EXPORT.json`: a CRM's pipelines as a `.funnel` spec and the mapping back (docs/crm.md)."""
from __future__ import annotations

import os

import click

from . import main
from .common import EXIT_FINDINGS, fail, use_color
from .outputs import check_outputs, write_output
from ..crm import CRMS


@main.command("import")
@click.argument("crm", type=click.Choice(CRMS))
@click.argument("export", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the spec here instead of stdout.")
@click.option("--mapping", type=click.Path(dir_okay=False),
              help="Write the mapping here [default: beside -o, NAME.crm.toml].")
def import_(crm: str, export: str, output: str | None, mapping: str | None) -> None:
    """A `.funnel` spec from CRM's pipeline EXPORT (JSON), one funnel per pipeline.

    Stage ids come from the titles (Cyrillic transliterated), titles and order
    are kept; the mapping from the CRM's pipeline and stage ids to the spec's
    (the [amocrm]-style table `funnel convert` and `funnel serve --mapping`
    read) goes to --mapping, by default NAME.crm.toml beside -o. The spec is
    linted and the findings printed: exit 1 when it has errors, 2 when the
    export cannot be read.
    """
    from ..api import analyse
    from ..crm import CrmError
    from ..crm.funnel import import_export
    from ..dsl.diagnostics import has_errors
    from ..dsl.render.text import render_text

    if mapping is None and output is not None:
        mapping = os.path.splitext(output)[0] + ".crm.toml"
    check_outputs([("EXPORT", export)], [("-o", output), ("--mapping", mapping)])
    try:
        result = import_export(crm, export, os.path.basename(mapping) if mapping else "the mapping")
    except CrmError as err:
        fail(str(err))
    checked = analyse(output or "<import>", result.spec)
    write_output(result.spec, output)
    if mapping:
        write_output(result.mapping, mapping)
    else:
        click.echo("funnel import: no -o or --mapping: the mapping from the CRM's ids is not written", err=True)
    if checked.diagnostics:
        click.echo(render_text(checked.diagnostics, checked.sources, use_color()), err=True)
    if has_errors(checked.diagnostics):
        raise SystemExit(EXIT_FINDINGS)
