"""`funnel export`, `funnel schema` and `funnel explain CODE`: the model, the schemas, the codes."""
from __future__ import annotations

from importlib import resources

import click

from . import main
from .common import EXIT_FINDINGS, dump_json, fail, import_root_option, use_color
from ..crm import CRMS
from .outputs import check_outputs, write_output
from ..api import analyse
from ..dsl.render.text import render_text

SCHEMAS = ("spec", "events", "fit")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--to", "crm", type=click.Choice(CRMS),
              help="Instead of the model: the CRM's API requests that create SPEC's pipeline (docs/crm.md).")
@click.option("--funnel", "funnel_id", help="With --to or --python: the funnel to export [default: each].")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True,
              help="text: the --to plan to read and review; the model is JSON only.")
@click.option("--python", "python", is_flag=True,
              help="Instead of the model: the Python module `funnel simulate` generates and runs for each funnel "
                   "(criteria inlined, each line's .funnel position in a comment), to read.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@import_root_option
def export(spec: str, crm: str | None, funnel_id: str | None, fmt: str, output: str | None,
           python: bool = False, import_roots: tuple[str, ...] = ()) -> None:
    """Write the resolved model of SPEC (templates merged, names resolved) as JSON.

    With --python: the module of Python functions each funnel is compiled to
    for a replay (docs/performance.md), with --funnel only that funnel's.

    With --to amocrm|bitrix24|hubspot|pipedrive: the API requests (method,
    path, JSON body) that create each funnel's pipeline and stages in that
    CRM, in order, for a person to review before applying them, and per stage
    what the API cannot set (automations, deadlines, required fields) as a
    checklist for the CRM's admin. Nothing is sent.
    """
    from ..dsl.export import spec_to_json

    if python:
        _export_python(spec, crm, funnel_id, fmt, output, import_roots)
        return
    result = analyse(spec, lint=False, import_roots=import_roots)
    if result.spec is None:
        click.echo(render_text([d for d in result.diagnostics], result.sources, use_color()), err=True)
        raise SystemExit(EXIT_FINDINGS)
    check_outputs([("SPEC", spec)] + [("a spec it imports", f) for f in result.sources], [("-o", output)])
    if crm is None:
        if fmt != "json":
            fail("--format text is for a CRM plan: add --to amocrm|bitrix24|hubspot|pipedrive")
        write_output(dump_json(spec_to_json(result.spec)), output)
        return
    from ..crm.plan import plans

    try:
        chosen = plans(crm, result.spec, funnel_id)
    except ValueError as err:
        fail(str(err))
    if fmt == "json":
        write_output(dump_json([p.to_json() for p in chosen]), output)
    else:
        write_output("\n".join(p.to_text() for p in chosen), output)


def _export_python(spec: str, crm: str | None, funnel_id: str | None, fmt: str, output: str | None,
                   import_roots: tuple[str, ...]) -> None:
    """`funnel export --python`: the generated module of each funnel, as the replay compiles it."""
    from .common import runnable_analysis
    from ..engine.compile import compile_spec

    if crm is not None:
        fail("--python and --to are two different exports: give one")
    if fmt != "json":
        fail("--format text is for a CRM plan: --python prints Python")
    analysis = runnable_analysis(spec, import_roots=import_roots)
    check_outputs([("SPEC", spec)] + [("a spec it imports", f) for f in analysis.sources], [("-o", output)])
    funnels = compile_spec(analysis.spec).funnels
    if funnel_id is not None:
        funnels = tuple(f for f in funnels if f.id == funnel_id)
        if not funnels:
            fail(f"no funnel `{funnel_id}` in {spec}")
    write_output("\n".join(f.module.export_text() for f in funnels), output)


@main.command()
@click.argument("name", type=click.Choice(SCHEMAS))
def schema(name: str) -> None:
    """Print a JSON Schema the package ships: `spec` (export), `events` (the deal stream) or `fit` (funnel fit)."""
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
