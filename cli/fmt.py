"""`funnel fmt`: rewrite funnel files in the one canonical layout, or say which would change.

Exit codes: 0 every file is (now) formatted; 1 with `--check`, some file would
change; 2 a path is missing, unreadable, or a file has a syntax error (such a
file is never written; its diagnostic is printed).
"""
from __future__ import annotations

import difflib
import os
import sys

import click

from . import main
from .common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, dump_json, fail, files_in, no_files_message, use_color
from .outputs import write_output
from ..dsl.format import FormatError, format_text
from ..dsl.render.safe_text import terminal
from ..dsl.roots import device_or_kernel, quotable
from ..dsl.render.text import render_text
from ..dsl.source import Source


def unified_diff(before: str, after: str, name: str, done: str = "formatted") -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 f"{name} (original)", f"{name} ({done})")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _paint_diff(text: str) -> str:
    def paint(line: str) -> str:
        if line.startswith(("+++", "---")):
            return click.style(line, bold=True)
        if line.startswith("+"):
            return click.style(line, fg="green")
        if line.startswith("-"):
            return click.style(line, fg="red")
        if line.startswith("@@"):
            return click.style(line, fg="cyan")
        return line
    return "".join(paint(line) for line in text.splitlines(keepends=True))


def _shown_diff(patch: str, color: bool) -> str:
    """A diff for the terminal: the file's own control characters made visible, then painted."""
    patch = terminal(patch)
    return _paint_diff(patch) if color else patch


class _Run:
    """What happened to each file, for the summary and the exit code."""

    def __init__(self, check: bool, diff: bool):
        self.check, self.diff = check, diff
        self.changed = self.unchanged = self.failed = 0
        self.files: list[dict] = []          # each file's name and what happened to it, for --format json

    def error(self, message: str, name: str | None = None) -> None:
        click.echo(click.style("error", fg="red", bold=True) + f": {terminal(message)}", err=True)
        self.failed += 1
        self.files.append({"path": name, "status": "error", "message": message})

    def one(self, name: str, before: str, write_to: str | None) -> None:
        """Format one text; `write_to` is the file to rewrite, or None for stdin (result to stdout)."""
        try:
            after, diagnostics = format_text(before, name)
        except FormatError as err:
            self.error(f"{err}; the file is left as it is (a bug in `funnel fmt`: please report it with the file)",
                       name)
            return
        if after is None:
            click.echo(render_text(diagnostics, {name: Source(name, before, write_to is None or quotable(name))}, use_color(sys.stderr)), err=True)
            self.failed += 1
            self.files.append({"path": name, "status": "error",
                               "message": "; ".join(f"{d.span.label()}: {d.message}" for d in diagnostics)})
            return
        if after == before:
            self.unchanged += 1
            self.files.append({"path": name, "status": "unchanged"})
            if write_to is None and not (self.check or self.diff):
                click.echo(after, nl=False)
            return
        self.changed += 1
        self.files.append({"path": name, "status": "would change" if self.check or self.diff else "reformatted"})
        if self.diff:
            patch = unified_diff(before, after, name)
            click.echo(_shown_diff(patch, use_color()), nl=False)
        if self.check or self.diff:
            if self.check:
                click.echo(terminal(f"would reformat {name}"), err=True)
            return
        if write_to is None:
            click.echo(after, nl=False)
            return
        write_output(after, write_to)          # through a symlink to its target, keeping its permissions
        click.echo(terminal(f"reformatted {name}"), err=True)

    def summary(self) -> str:
        def files(n: int) -> str:
            return f"{n} file{'s' if n != 1 else ''}"
        verb = "would be reformatted" if self.check or self.diff else "reformatted"
        parts = []
        if self.changed:
            parts.append(f"{files(self.changed)} {verb}")
        if self.unchanged:
            parts.append(f"{files(self.unchanged)} {'already formatted' if self.check or self.diff else 'left unchanged'}")
        if self.failed:
            parts.append(f"{files(self.failed)} could not be formatted")
        return ", ".join(parts) or "no .funnel files found"


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--check", is_flag=True, help="Write nothing; list the files that would change, exit 1 if any.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff of the changes.")
@click.option("--format", "out_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: print each file's status (unchanged, reformatted, would change, error) as one document.")
def fmt(paths: tuple[str, ...], check: bool, show_diff: bool, out_format: str) -> None:
    """Rewrite funnel files in the canonical layout.

    PATHS are files or directories (every *.funnel below, hidden directories
    skipped); `-` formats standard input to standard output. A file with a
    syntax error is reported and left as it is. Exit 0 when done, 1 when
    `--check` finds a file that would change, 2 when a file could not be
    read or parsed.
    """
    if out_format == "json" and ("-" in paths or show_diff):
        fail("--format json reports on files; it cannot be combined with `-` (standard input) or --diff")
    run = _Run(check, show_diff)
    for path in paths:
        if path == "-":
            try:
                text = sys.stdin.buffer.read().decode("utf-8")
            except UnicodeDecodeError as err:
                run.error(f"standard input: not valid UTF-8 ({err.reason} at byte {err.start})")
                continue
            run.one("<stdin>", text, None)
            continue
        if not os.path.exists(path):
            run.error(f"{path}: no such file or directory", path)
            continue
        files = files_in(path, ".funnel") if os.path.isdir(path) else [path]
        if not files:                     # as lint: a folder with nothing to format is a mistake in the command
            run.error(no_files_message(path, ".funnel"), path)
        for file in files:
            refused = device_or_kernel(os.path.realpath(file))
            if refused is not None:       # a link to /proc/self/environ would be quoted in a syntax error
                run.error(f"{file}: {refused}", file)
                continue
            try:
                with open(file, encoding="utf-8", newline="") as handle:
                    text = handle.read()
            except UnicodeDecodeError as err:
                run.error(f"{file}: not valid UTF-8 ({err.reason} at byte {err.start})", str(file))
                continue
            except OSError as err:
                run.error(f"{file}: {err.strerror}", str(file))
                continue
            run.one(str(file), text, str(file))
    if out_format == "json":
        counts = {"unchanged": run.unchanged, "changed": run.changed, "errors": run.failed}
        click.echo(dump_json({"files": run.files, "counts": counts}), nl=False)
    elif paths != ("-",) or run.failed:
        click.echo(run.summary(), err=True)
    if run.failed:
        raise SystemExit(EXIT_USAGE)
    raise SystemExit(EXIT_FINDINGS if check and run.changed else EXIT_OK)
