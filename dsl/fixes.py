"""Quick fixes: the edits that mend a diagnostic, computed from the diagnostic and its source.

One module owns fixes: `funnel lint --fix` and the language server's code
actions both ask `fixes_for`, and both apply edits with `apply_edits`.

A fix is *safe* when it keeps what the spec means (a duration written out
becomes the same duration; a suppression that suppresses nothing goes).
Replacing a misspelled name by its one close candidate is a guess, and giving
a loss without `because` the one reason the funnel has changes what loss
reports show: both are *unsafe*. `lint --fix` applies them only with
`--unsafe-fixes`, and an editor offers them without marking them preferred.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .diagnostics import Diagnostic
from .parser import parse_text
from .source import Source

# Codes whose hint names the one close candidate for the name the span covers.
MISSPELLINGS = frozenset({"FNL102", "FNL103", "FNL106", "FNL108", "FNL109", "FNL113"})
_CANDIDATE = re.compile(r"^did you mean [`\"]([^`\"]+)[`\"]\?$")
_REASON = re.compile(r'`(because "(?:[^"\\]|\\.)*")`$')
_UNITS = {"m": ("minute", "minutes", "min", "mins"), "h": ("hour", "hours", "hr", "hrs"),
          "d": ("day", "days"), "w": ("week", "weeks", "wk", "wks")}
_UNIT_OF = {word: unit for unit, words in _UNITS.items() for word in words}
_WRITTEN_OUT = re.compile(r"(\d[\d_]*)[ \t]*(" + "|".join(sorted(_UNIT_OF, key=len, reverse=True)) + r")\b")


@dataclass(frozen=True)
class Edit:
    """Replace the code points [start, end) of `file` by `text`."""

    file: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    code: str
    title: str
    edits: tuple[Edit, ...]
    safe: bool


def fixes_for(d: Diagnostic, source: Source | None) -> list[Fix]:
    """The fixes for one diagnostic written in `source` (none when there is no clear fix)."""
    if source is None or source.path != d.span.file or not source.quote:
        return []
    if d.code in MISSPELLINGS:
        return _misspelling(d, source)
    if d.code == "FNL008":
        return _unused_suppression(d, source)
    if d.code == "FNL001":
        return _written_out_duration(d, source)
    if d.code == "FNL410":
        return _missing_reason(d, source)
    return []


def _misspelling(d: Diagnostic, source: Source) -> list[Fix]:
    match = _CANDIDATE.match(d.hint or "")
    wrong = re.search(r"`([^`]+)`", d.message)
    if match is None or wrong is None:
        return []
    name, start = wrong.group(1), d.span.start
    written = source.text[start:d.span.end]
    if not written.startswith(name):
        at = written.find(name)
        if at < 0:
            return []
        start += at
    new = match.group(1)
    edit = Edit(source.path, start, start + len(name), new)
    return [Fix(d.code, f"replace `{name}` with `{new}`", (edit,), safe=False)]


def _unused_suppression(d: Diagnostic, source: Source) -> list[Fix]:
    """Drop the code from the brackets, or the whole comment when it was the only code."""
    text = source.text
    open_at = text.rfind("[", 0, d.span.start)
    close_at = text.find("]", d.span.end)
    line_start = text.rfind("\n", 0, d.span.start) + 1
    hash_at = text.rfind("#", line_start, open_at)
    if open_at < 0 or close_at < 0 or hash_at < 0:
        return []
    items = [m for m in re.finditer(r"[^,\s]+", text[open_at + 1:close_at])]
    code = text[d.span.start:d.span.end]
    if len(items) <= 1:
        line_end = text.find("\n", close_at)
        line_end = len(text) if line_end < 0 else line_end
        if text[line_end - 1:line_end] == "\r":
            line_end -= 1
        start = hash_at
        while start > line_start and text[start - 1] in " \t":
            start -= 1
        if start == line_start:             # alone on its line: the line goes
            end = line_end + 1 if line_end < len(text) and text[line_end] == "\n" else line_end
            if text[line_end:line_end + 2] == "\r\n":
                end = line_end + 2
            edit = Edit(source.path, line_start, end, "")
        else:
            edit = Edit(source.path, start, line_end, "")
        return [Fix(d.code, "remove the unused suppression", (edit,), safe=True)]
    kept = [m.group() for m in items if open_at + 1 + m.start() != d.span.start]
    edit = Edit(source.path, open_at + 1, close_at, ", ".join(kept))
    return [Fix(d.code, f"remove `{code}` from the suppression", (edit,), safe=True)]


def _written_out_duration(d: Diagnostic, source: Source) -> list[Fix]:
    """`3 days` where a duration is expected: `3d`."""
    line_start = d.span.start - (d.span.column - 1)
    line_end = source.text.find("\n", line_start)
    line = source.text[line_start:len(source.text) if line_end < 0 else line_end]
    for match in _WRITTEN_OUT.finditer(line):
        if match.start() <= d.span.column - 1 < match.end():
            number, word = match.groups()
            new = number + _UNIT_OF[word]
            edit = Edit(source.path, line_start + match.start(), line_start + match.end(), new)
            return [Fix(d.code, f"write `{match.group()}` as `{new}`", (edit,), safe=True)]
    return []


def _missing_reason(d: Diagnostic, source: Source) -> list[Fix]:
    """A loss without `because` where the funnel has one reason: that reason, after the move.

    Unsafe: the reason the reports show for these deals changes.
    """
    match = _REASON.search(d.hint or "")
    if match is None or source.text[d.span.start:d.span.end].rstrip() != source.text[d.span.start:d.span.end]:
        return []
    edit = Edit(source.path, d.span.end, d.span.end, " " + match.group(1))
    return [Fix(d.code, f"add `{match.group(1)}`", (edit,), safe=False)]


def apply_edits(text: str, edits) -> str:
    """`text` with `edits` applied; an edit overlapping one already taken is left out."""
    chosen, last_start = [], None
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        if last_start is not None and edit.end > last_start:
            continue
        chosen.append(edit)
        last_start = edit.start
    for edit in chosen:                     # from the end, so earlier offsets stay valid
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text


def fixed_text(path: str, text: str, fixes: list[Fix]) -> str:
    """`text` with the edits of `fixes` in file `path`; unchanged when the result would parse worse.

    A file that parsed must still parse; a file with a syntax error must have its first
    syntax error moved on (the fix mended it) or gone.
    """
    edits = [e for fix in fixes for e in fix.edits if e.file == path]
    if not edits:
        return text
    after = apply_edits(text, edits)
    before_error, after_error = _first_syntax_error(text, path), _first_syntax_error(after, path)
    if after_error is None:
        return after
    if before_error is None or after_error <= before_error:
        return text
    return after


def _first_syntax_error(text: str, path: str) -> int | None:
    tree, problems = parse_text(text, path)
    errors = [d.span.start for d in problems if d.code == "FNL001"]
    return min(errors) if errors else (None if tree is not None else 0)
