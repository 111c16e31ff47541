"""`funnel new NAME --template T [--dir D]` and `funnel new --list`: start a funnel from a template."""
from __future__ import annotations

import os

import click

from . import main
from .common import EXIT_OK, dump_json, fail
from ..stdlib import template_names, template_summary


@main.command()
@click.argument("name", required=False)
@click.option("-t", "--template", metavar="T", help="The template to start from (`funnel new --list`).")
@click.option("--dir", "directory", metavar="D", type=click.Path(file_okay=False),
              help="Where to write the files (default: a new folder NAME).")
@click.option("--list", "list_templates", is_flag=True, help="List the templates, one line each.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def new(name: str | None, template: str | None, directory: str | None, list_templates: bool, fmt: str) -> None:
    """Start a funnel NAME from a template: NAME.funnel extending it, a sample event stream, a README
    and a CI workflow that lints it. Existing files are never overwritten.
    """
    if list_templates:
        _list(fmt)
        return
    from ..stdlib.scaffold import ScaffoldError, plan_project, write_project

    if not name:
        fail("missing NAME: `funnel new NAME --template T` (`funnel new --list` shows the templates)")
    if not template:
        fail(f"missing `--template`: one of {', '.join(template_names())} (`funnel new --list` describes them)")
    target = directory if directory is not None else name
    try:
        files = plan_project(name, template, target)
        write_project(target, files)
    except ScaffoldError as err:
        fail(str(err))
    if fmt == "json":
        click.echo(dump_json({"name": name, "template": template, "directory": target,
                              "files": [f.path for f in files]}), nl=False)
        return
    click.echo(f"created {name} from std.{template} in {os.path.normpath(target)}{os.sep}")
    width = max(len(f.path) for f in files)
    for f in files:
        click.echo(f"  {f.path:<{width}}  {f.role}")
    spec = files[0].path
    prefix = "" if os.path.normpath(target) == "." else f"cd {target} && "
    click.echo(f"\nnext: {prefix}funnel lint {spec} && funnel simulate {spec} --events {files[1].path}")
    raise SystemExit(EXIT_OK)


def _list(fmt: str) -> None:
    names = template_names()
    if fmt == "json":
        click.echo(dump_json([{"name": n, "summary": template_summary(n)} for n in names]), nl=False)
        return
    width = max(len(n) for n in names)
    for n in names:
        click.echo(f"{n:<{width}}  {template_summary(n)}")
