"""`funnel lint PATH...` and `funnel explain CODE`."""
from __future__ import annotations

import os

import click

from . import main
from .common import EXIT_FINDINGS, EXIT_OK, dump_json, fail, use_color, write_output
from .model import explain_code
from ..api import analyse
from ..dsl.config import expand_codes, settings_for, unknown_code_hint
from ..dsl.diagnostics import Severity
from ..dsl.lint import LintRun, combine, lint_analysis
from ..dsl.render.text import render_text, summary_line

FORMATS = ("text", "json", "sarif", "github")


def funnel_files(paths: tuple[str, ...]) -> list[str]:
    """The files named, and every *.funnel below the folders named (hidden folders skipped), in a stable order."""
    found: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            fail(f"{path}: no such file or folder")
        if not os.path.isdir(path):
            found.append(path)
            continue
        inside = []
        for folder, subfolders, files in os.walk(path):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            inside += [os.path.join(folder, f) for f in files if f.endswith(".funnel")]
        if not inside:
            fail(f"{path}: no .funnel files in this folder")
        found += sorted(inside)
    unique = list(dict.fromkeys(os.path.normpath(p) for p in found))
    return unique


def _codes_option(value: str | None, option: str) -> set[str] | None:
    if value is None:
        return None
    found, unknown = expand_codes(value.split(","))
    if unknown:
        fail(f"{option}: unknown code `{unknown[0]}`; {unknown_code_hint(unknown[0])}")
    return found


def render(run: LintRun, fmt: str, color: bool) -> str:
    if fmt == "json":
        from ..dsl.render.json_out import lint_json
        return dump_json(lint_json(run))
    if fmt == "sarif":
        from ..dsl.render.sarif import lint_sarif
        return dump_json(lint_sarif(run))
    if fmt == "github":
        from ..dsl.render.github import lint_github
        return lint_github(run)
    text = render_text(run.findings, run.sources, color)
    summary = summary_line(run.findings, run.files)
    if run.suppressed:
        summary += f" ({len(run.suppressed)} suppressed)"
    return (text + "\n\n" if text else "") + summary + "\n"


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for machines, sarif for code scanning, github for annotations.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default=None,
              help="Exit 1 when a finding is at least this severe  [default: from pyproject.toml, else error]")
@click.option("--select", metavar="CODES", help="Run only these checks: codes, names or prefixes, comma-separated.")
@click.option("--ignore", metavar="CODES", help="Skip these checks: codes, names or prefixes, comma-separated.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here instead of stdout.")
def lint(paths: tuple[str, ...], fmt: str, fail_on: str | None, select: str | None, ignore: str | None,
         output: str | None) -> None:
    """Check funnel specs (files, or folders searched for *.funnel) for mistakes.

    Exit status: 0 clean, 1 findings at the failing severity, 2 usage or I/O error.
    Settings come from `[tool.funnel]` in the nearest pyproject.toml; the options here win.
    """
    selected = _codes_option(select, "--select")
    ignored = _codes_option(ignore, "--ignore") or set()
    threshold = Severity.parse(fail_on) if fail_on else None
    reports = []
    for path in funnel_files(paths):
        settings = settings_for(path).overridden(selected, ignored, threshold)
        reports.append(lint_analysis(analyse(path, lint=False), settings))
    run = combine(reports)
    write_output(render(run, fmt, use_color() and output is None and fmt == "text"), output)
    raise SystemExit(EXIT_FINDINGS if run.failed else EXIT_OK)


@main.command()
@click.argument("code", required=False, default="")
@click.option("--list", "list_all", is_flag=True, help="List every code with its summary.")
def explain(code: str, list_all: bool) -> None:
    """Explain a diagnostic code (FNL102 or unknown-stage): why it matters, a bad example and the fix."""
    from ..dsl.codes import all_codes

    all_codes()          # every check module registers its codes when imported
    explain_code(code, list_all)
