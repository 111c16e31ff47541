"""`funnel lint PATH...`: findings rendered in one of several formats, optionally against a baseline."""
from __future__ import annotations

import os

import click

from . import main
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, dump_json, fail, files_below, import_root_option, use_color
from .outputs import check_outputs, write_output
from ..api import analyse
from ..dsl.config import expand_codes, settings_for, unknown_code_hint
from ..dsl.diagnostics import Severity
from ..dsl.gcpause import gc_paused
from ..dsl.baseline import BaselineError, baseline_text, new_findings, read_baseline
from ..dsl.lint import FileReport, LintRun, combine, lint_analysis
from ..dsl.render.safe_text import terminal
from ..dsl.render.text import render_text, summary_line

FORMATS = ("text", "concise", "json", "sarif", "github", "junit")


def _codes_option(value: str | None, option: str) -> set[str] | None:
    if value is None:
        return None
    found, unknown = expand_codes(value.split(","))
    if unknown:
        fail(f"{option}: unknown code `{unknown[0]}`; {unknown_code_hint(unknown[0])}")
    return found


def render(run: LintRun, fmt: str, color: bool, files: list[str] | None = None, baselined: int = 0) -> str:
    """`files`: every file checked (JUnit shows the clean ones as passing); `baselined`: findings the baseline matched."""
    if fmt == "json":
        from ..dsl.render.json_out import lint_json
        return dump_json(lint_json(run))
    if fmt == "sarif":
        from ..dsl.render.sarif import lint_sarif
        return dump_json(lint_sarif(run))
    if fmt == "github":
        from ..dsl.render.github import lint_github
        return lint_github(run)
    if fmt == "concise":
        from ..dsl.render.concise import lint_concise
        return lint_concise(run)
    if fmt == "junit":
        from ..dsl.render.junit import lint_junit
        return lint_junit(run, files or [])
    text = render_text(run.findings, run.sources, color)
    summary = summary_line(run.findings, run.files)
    if run.suppressed:
        summary += f" ({len(run.suppressed)} suppressed)"
    if baselined:
        summary += f" ({baselined} in the baseline)"
    if run.advice:
        summary += f" ({run.advice} advice not shown: --show-advice)"
    return (text + "\n\n" if text else "") + summary + "\n"


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="text for people, concise for one line a finding, json for machines, sarif for code scanning, "
                   "github for annotations, junit for CI test reports  [default: github when GITHUB_ACTIONS=true, "
                   "else text]")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default=None,
              help="Exit 1 when a finding is at least this severe  [default: from pyproject.toml, else error]")
@click.option("--show-advice", is_flag=True,
              help="Also show advice (info level: FNL402 stage count, FNL404 no sla, …); it never fails the run. "
                   "`show-advice = true` in [tool.funnel] does the same.")
@click.option("--select", metavar="CODES", help="Run only these checks: codes, names or prefixes, comma-separated.")
@click.option("--ignore", metavar="CODES", help="Skip these checks: codes, names or prefixes, comma-separated.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report here instead of stdout.")
@click.option("--baseline", type=click.Path(dir_okay=False), metavar="FILE",
              help="Report only findings not recorded in FILE; when FILE does not exist, record today's findings in it.")
@click.option("--update-baseline", is_flag=True, help="Record today's findings in the --baseline FILE, replacing it.")
@click.option("--fix", is_flag=True, help="Apply the safe quick fixes to the files, then report what is left.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix: also apply fixes that guess (a misspelled name).")
@click.option("--diff", "show_diff", is_flag=True,
              help="With --fix: write nothing; print the diff of the fixes and exit 1 when there are any.")
@import_root_option
def lint(paths: tuple[str, ...], fmt: str | None, fail_on: str | None, show_advice: bool, select: str | None,
         ignore: str | None, output: str | None, baseline: str | None, update_baseline: bool, fix: bool = False,
         unsafe_fixes: bool = False, show_diff: bool = False, import_roots: tuple[str, ...] = ()) -> None:
    """Check funnel specs (files, or folders searched for *.funnel) for mistakes.

    Exit status: 0 clean, 1 findings at the failing severity, 2 usage or I/O error (a file that cannot
    be read is reported and the others are still checked).
    Settings come from `[tool.funnel]` in the nearest pyproject.toml; the options here win.

    A baseline lets a spec with old findings adopt lint: findings are matched by code, file,
    message and the text of their line (not its number), so edits elsewhere keep them matched.

    --fix mends what has one clear fix (docs/editors.md lists them); a fix that would leave the
    file parsing worse is not applied.
    """
    if update_baseline and not baseline:
        fail("--update-baseline needs --baseline FILE")
    if fmt is None:
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    selected = _codes_option(select, "--select")
    ignored = _codes_option(ignore, "--ignore") or set()
    threshold = Severity.parse(fail_on) if fail_on else None
    if (show_diff or unsafe_fixes) and not fix:
        fail("--diff and --unsafe-fixes go with --fix")
    if fix:
        from .lint_fix import apply_fixes
        changed = apply_fixes(files_below(paths, ".funnel"), lambda p: settings_for(p).overridden(selected, ignored),
                              unsafe_fixes, show_diff, import_roots)
        if show_diff:
            raise SystemExit(EXIT_FINDINGS if changed else EXIT_OK)
    reports, unreadable = [], 0
    for path in files_below(paths, ".funnel"):
        settings = settings_for(path).overridden(selected, ignored, threshold, show_advice)
        try:
            with gc_paused():           # one collection after the file's parse, resolve and checks, not three
                reports.append(lint_analysis(analyse(path, lint=False, import_roots=import_roots), settings))
        except OSError as err:          # this file cannot be read (not UTF-8, a device): say so, check the others
            click.echo(click.style("error", fg="red", bold=True) + ": "
                       + terminal(f"{err.filename or path}: {err.strerror or err}"), err=True)
            unreadable += 1
    files = [r.path for r in reports]
    writes_baseline = bool(baseline) and (update_baseline or not os.path.exists(baseline))
    read = [("a spec being linted", f) for r in reports for f in r.sources]
    check_outputs(read + ([] if writes_baseline else [("--baseline", baseline)]),
                  [("--baseline", baseline if writes_baseline else None), ("-o", output)])
    baselined = 0
    if writes_baseline:
        recorded = combine(reports)
        write_output(baseline_text(recorded.findings, recorded.sources, baseline), baseline)
        click.echo(f"baseline: {len(recorded.findings)} findings recorded in {baseline}", err=True)
        reports = [FileReport(r.path, [], r.suppressed, r.sources, r.fail_on, r.advice) for r in reports]
    elif baseline:
        reports, baselined = _against_baseline(reports, baseline)
    run = combine(reports)
    write_output(render(run, fmt, use_color() and output is None and fmt == "text", files, baselined), output)
    raise SystemExit(EXIT_USAGE if unreadable else EXIT_FINDINGS if run.failed else EXIT_OK)


def _against_baseline(reports: list[FileReport], path: str) -> tuple[list[FileReport], int]:
    """Each file's findings less those recorded in the baseline, and how many findings were matched in all."""
    try:
        recorded = read_baseline(path)
    except BaselineError as err:
        fail(str(err))
    kept, matched = [], set()
    for report in reports:
        fresh, _ = new_findings(report.findings, report.sources, recorded, path)
        matched.update((d.sort_key(), d.severity) for d in report.findings if d not in fresh)
        kept.append(FileReport(report.path, fresh, report.suppressed, report.sources, report.fail_on, report.advice))
    return kept, len(matched)

