"""`funnel graph`: the picture of a funnel's stages and moves, as DOT, Mermaid, SVG or PNG.

DOT and Mermaid are text and need nothing; SVG and PNG run Graphviz's `dot`
on the DOT text. Exit codes: 0 drawn; 1 the spec has errors (they are
printed); 2 usage, a missing Graphviz, an unreadable results file.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import click

from . import main
from .common import EXIT_FINDINGS, fail, import_root_option, runnable_analysis, use_color
from .outputs import check_outputs, write_output
from ..api import analyse
from ..dsl.render.text import render_text

FORMATS = ("dot", "mermaid", "svg", "png")
INSTALL_GRAPHVIZ = ("Graphviz's `dot` command is needed for {fmt} output and was not found on PATH; "
                    "install it (Debian/Ubuntu: `apt-get install graphviz`, macOS: `brew install graphviz`, "
                    "others: https://graphviz.org/download/), or use `--format dot` or `--format mermaid`, "
                    "which need nothing")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--funnel", "funnel_id", metavar="ID", help="The funnel to draw, when the file has several.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="dot", show_default=True,
              help="dot and mermaid are text; svg and png need Graphviz (`dot`).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@click.option("--results", type=click.Path(dir_okay=False), metavar="RESULT.json",
              help="A `funnel simulate --format json` result: deals on stages, moves and conversion on edges.")
@import_root_option
def graph(spec: str, funnel_id: str | None, fmt: str, output: str | None, results: str | None,
          import_roots: tuple[str, ...] = ()) -> None:
    """Draw the stage graph of SPEC: start, won and lost marked, automatic moves, moves by hand, rules.

    Mermaid renders in GitHub markdown (```mermaid blocks); DOT renders with
    Graphviz (`dot -Tsvg`), as `--format svg` and `--format png` do here.
    """
    from ..dsl.render.dot import render_dot
    from ..dsl.render.mermaid import render_mermaid
    from ..dsl.render.stage_picture import ResultsError, add_traffic, stage_picture

    if results is not None:          # traffic is what the spec did: drawn only on a spec that could run
        result = runnable_analysis(spec, import_roots=import_roots)
    else:                            # a picture of a spec with lint errors helps to see them
        result = analyse(spec, lint=False, import_roots=import_roots)
        if result.spec is None:
            click.echo(render_text(result.diagnostics, result.sources, use_color(sys.stderr)), err=True)
            raise SystemExit(EXIT_FINDINGS)
    check_outputs([("SPEC", spec), ("--results", results)] + [("a spec it imports", f) for f in result.sources],
                  [("-o", output)])
    funnel = _choose(result.spec, funnel_id, spec)
    picture = stage_picture(funnel)
    if results is not None:
        try:
            add_traffic(picture, _read_json(results))
        except ResultsError as err:
            fail(f"{results}: {err}")
        if picture.deals == 0:
            click.echo(f"warning: {results} has no deal of funnel `{funnel.id}`", err=True)
        for note in picture.notes:
            click.echo(f"warning: {note}", err=True)
    if fmt == "mermaid":
        write_output(render_mermaid(picture), output)
        return
    dot = render_dot(picture)
    if fmt == "dot":
        write_output(dot, output)
        return
    picture_bytes = _run_graphviz(dot, fmt)
    if output in (None, "-") and not picture_bytes.lstrip().startswith(b"<") and sys.stdout.isatty():
        fail("png is binary: write it to a file with -o FILE.png")
    write_output(picture_bytes, output)


def _choose(spec, funnel_id: str | None, path: str):
    ids = ", ".join(f"`{f.id}`" for f in spec.funnels)
    if funnel_id is not None:
        if funnel_id not in spec.funnel_by_id:
            fail(f"{path} has no funnel `{funnel_id}`; it has {ids}")
        return spec.funnel_by_id[funnel_id]
    if len(spec.funnels) != 1:
        fail(f"{path} has {len(spec.funnels)} funnels ({ids}): choose one with --funnel ID")
    return spec.funnels[0]


def _read_json(path: str):
    from ..dsl.limits import TooDeep, json_document

    try:
        with open(path, encoding="utf-8") as handle:
            return json_document(handle.read())
    except TooDeep as err:
        fail(f"{path}: not a results file: {err}")
    except json.JSONDecodeError as err:
        fail(f"{path}:{err.lineno}:{err.colno}: not JSON ({err.msg}); "
             "`funnel simulate … --format json -o FILE` writes a results file")


def _run_graphviz(dot: str, fmt: str) -> bytes:
    program = shutil.which("dot")
    if program is None:
        fail(INSTALL_GRAPHVIZ.format(fmt=fmt))
    args = [program, f"-T{fmt}"] + (["-Gdpi=144"] if fmt == "png" else [])
    done = subprocess.run(args, input=dot.encode("utf-8"), capture_output=True, check=False)
    if done.returncode != 0:
        fail(f"Graphviz failed ({done.returncode}): {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout
