"""`funnel test PATH...`: run the journeys of `*.funnel-test` files, pytest-like."""
from __future__ import annotations

import os

import click

from . import main
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, dump_json, files_below, import_root_option


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one document with every journey's status and what diverged.")
@import_root_option
def test(paths: tuple[str, ...], fmt: str, import_roots: tuple[str, ...] = ()) -> None:
    """Run the journeys of *.funnel-test files (or folders searched for them) against their specs.

    A journey is one deal's events and the outcome it should reach: final stage, status, lost
    reason, fields, actions taken or not. A failure shows what diverged and the explain trace.
    The spec is the .funnel of the same name beside the test file, unless a `spec FILE` line
    names another. Exit status: 0 all passed, 1 a journey failed, 2 an error (a file that
    cannot be read, a spec with errors, an event the replay refused).
    """
    from ..api import analyse_runnable
    from ..dsl.journeys import JourneyFileError, parse_journeys
    from ..dsl.loader import display_path
    from ..dsl.render.safe_text import terminal
    from ..dsl.roots import roots_for
    from ..dsl.render.text import render_text
    from ..engine.compile import compile_spec
    from ..engine.journeys import JourneyResult, run_file

    results: list[JourneyResult] = []
    errors: list[str] = []
    say = (lambda line: click.echo(terminal(line))) if fmt == "text" else (lambda line: None)
    from ..dsl.journeys import SUFFIX

    for path in files_below(paths, SUFFIX):
        try:
            with open(path, encoding="utf-8") as handle:
                tests = parse_journeys(handle.read(), path)
        except JourneyFileError as err:
            errors.append(str(err))
            say(f"{path} ERROR")
            continue
        refused = roots_for(path, import_roots).refusal(tests.spec)
        if refused is not None:           # a `spec` line is user content, as an import is (dsl/roots.py)
            errors.append(f"{path}: its spec `{display_path(tests.spec)}` {refused}")
            say(f"{path} ERROR")
            continue
        if not os.path.exists(tests.spec):
            errors.append(f"{path}: its spec `{tests.spec}` does not exist (a `spec FILE` line names another)")
            say(f"{path} ERROR")
            continue
        try:
            analysis = analyse_runnable(tests.spec, import_roots)
        except OSError as err:            # not UTF-8, unreadable: this file's error, the others still run
            errors.append(f"{path}: its spec `{err.filename or tests.spec}`: {err.strerror or err}")
            say(f"{path} ERROR")
            continue
        if analysis.spec is None:
            errors.append(f"{path}: its spec has errors:\n" + render_text(analysis.diagnostics, analysis.sources))
            say(f"{path} ERROR")
            continue
        compiled = compile_spec(analysis.spec)
        for result in run_file(compiled, tests):
            results.append(result)
            say(f"{path}::{result.name} {result.status.upper()}")
    bad = [r for r in results if r.status != "passed"]
    counts = {s: sum(1 for r in results if r.status == s) for s in ("passed", "failed", "error")}
    counts["error"] += len(errors)
    if fmt == "json":
        click.echo(dump_json({
            "journeys": [{"file": r.file, "name": r.name, "status": r.status, "problems": list(r.problems)}
                         for r in results],
            "errors": errors, "counts": counts}), nl=False)
    else:
        _print_text(bad, errors, counts)
    if counts["error"]:
        raise SystemExit(EXIT_USAGE)
    raise SystemExit(EXIT_FINDINGS if counts["failed"] else EXIT_OK)


def _print_text(bad, errors, counts) -> None:
    from ..dsl.render.safe_text import terminal
    from ..engine.journeys import failure_text

    if bad or errors:
        click.echo("\n" + "=" * 20 + " failures and errors " + "=" * 20)
    for result in bad:
        click.echo(failure_text(result))
    for message in errors:
        click.echo(terminal(f"ERROR {message}\n"))
    summary = ", ".join(f"{n} {word}" for word, n in (("failed", counts["failed"]), ("passed", counts["passed"]),
                                                       ("error" if counts["error"] == 1 else "errors", counts["error"])) if n)
    click.echo(f"{'=' * 8} {summary or 'no journeys'} {'=' * 8}")
