"""`funnel lint --fix [--diff] [--unsafe-fixes]`: apply the quick fixes before the findings are reported.

The fixes themselves are dsl/fixes.py's (the language server offers the same
ones); this module only reads the files, writes them back or prints the diff.
"""
from __future__ import annotations

import click

from .fmt import _shown_diff, unified_diff
from .common import use_color
from .outputs import write_output
from ..api import fix
from ..dsl.render.safe_text import terminal


def apply_fixes(files: list[str], settings_of, unsafe: bool, diff: bool, import_roots: tuple[str, ...]) -> int:
    """Fix each file in place (or, with `diff`, print what would change); how many files changed.

    A file that cannot be read is left to the lint run that follows, which reports it.
    """
    changed = 0
    for path in files:
        try:
            result = fix(path, settings=settings_of(path), unsafe=unsafe, import_roots=import_roots)
        except OSError:
            continue
        if not result.changed:
            continue
        changed += 1
        count = len(result.applied)
        if diff:
            click.echo(_shown_diff(unified_diff(result.before, result.after, path, "fixed"), use_color()), nl=False)
            continue
        write_output(result.after, path)
        click.echo(terminal(f"fixed {count} finding{'s' if count != 1 else ''} in {path}"), err=True)
    return changed
