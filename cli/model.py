"""`funnel export`, `funnel schema` and `funnel explain CODE`: the model, the schemas, the codes."""
from __future__ import annotations

from importlib import resources

import click

from . import main
from .common import EXIT_FINDINGS, dump_json, fail, import_root_option, use_color
from .outputs import check_outputs, write_output
from ..api import analyse
from ..dsl.render.text import render_text

SCHEMAS = ("spec", "events")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@import_root_option
def export(spec: str, fmt: str, output: str | None, import_roots: tuple[str, ...] = ()) -> None:
    """Write the resolved model of SPEC (templates merged, names resolved) as JSON."""
    from ..dsl.export import spec_to_json

    result = analyse(spec, lint=False, import_roots=import_roots)
    if result.spec is None:
        click.echo(render_text([d for d in result.diagnostics], result.sources, use_color()), err=True)
        raise SystemExit(EXIT_FINDINGS)
    check_outputs([("SPEC", spec)] + [("a spec it imports", f) for f in result.sources], [("-o", output)])
    write_output(dump_json(spec_to_json(result.spec)), output)


@main.command()
@click.argument("name", type=click.Choice(SCHEMAS))
def schema(name: str) -> None:
    """Print a JSON Schema the package ships: `spec` (export) or `events` (the deal stream)."""
    text = resources.files("funnelspec").joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
    click.echo(text, nl=not text.endswith("\n"))


def explain_code(code: str, list_all: bool) -> None:
    from ..dsl.codes import all_codes, lookup

    if list_all or not code:
        for entry in sorted(all_codes().values(), key=lambda c: c.code):
            click.echo(f"{entry.code}  {entry.severity.word:<8} {entry.name:<28} {entry.summary}")
        return
    entry = lookup(code)
    if entry is None:
        fail(f"unknown code `{code}`; `funnel explain --list` lists them")
    click.echo(f"{entry.code} {entry.name} ({entry.severity.word} by default)\n")
    click.echo(entry.doc)
