"""`funnel lint` and `funnel explain CODE`."""
from __future__ import annotations

import click

from . import main
from .common import EXIT_FINDINGS, EXIT_OK, use_color
from .model import explain_code
from ..api import analyse
from ..dsl.diagnostics import Severity
from ..dsl.render.text import render_text, summary_line


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default="error", show_default=True)
def lint(paths: tuple[str, ...], fail_on: str) -> None:
    """Check funnel specs for mistakes."""
    findings, sources = [], {}
    for path in paths:
        result = analyse(path)
        findings.extend(result.diagnostics)
        sources.update(result.sources)
    if findings:
        click.echo(render_text(findings, sources, use_color()) + "\n")
    click.echo(summary_line(findings, len(paths)))
    threshold = Severity.parse(fail_on)
    raise SystemExit(EXIT_FINDINGS if any(d.severity >= threshold for d in findings) else EXIT_OK)


@main.command()
@click.argument("code", required=False, default="")
@click.option("--list", "list_all", is_flag=True, help="List every code with its summary.")
def explain(code: str, list_all: bool) -> None:
    """Explain a diagnostic code (FNL102 or unknown-stage): why it matters, a bad example and the fix."""
    explain_code(code, list_all)
