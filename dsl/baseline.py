"""Lint baselines: adopt `funnel lint` on an existing spec by recording today's findings and reporting only new ones.

A baseline is a JSON file listing findings by code, file, message and the
text of the line they point at (stripped), never the line number: adding or
removing lines above a recorded finding does not make it "new". The same
finding recorded twice matches twice (a multiset), so a third copy is new.
Files are stored relative to the baseline's folder with `/` separators, so the
baseline works from any working directory and on any system.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass

from .diagnostics import Diagnostic
from .limits import TooDeep, json_document
from .loader import STD_PREFIX
from .source import Source

VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read: the message names the file and what is wrong."""


@dataclass(frozen=True)
class Entry:
    code: str
    file: str
    message: str
    line_text: str

    def to_json(self) -> dict:
        return {"code": self.code, "file": self.file, "message": self.message, "line_text": self.line_text}


def _relative(file: str, folder: str) -> str:
    if file.startswith(STD_PREFIX):
        return file
    return os.path.relpath(os.path.abspath(file), folder).replace(os.sep, "/")


def entry_for(d: Diagnostic, sources: dict[str, Source], folder: str) -> Entry:
    """The line-number-free identity of a finding, its file relative to `folder`."""
    source = sources.get(d.span.file)
    line = source.line_text(d.span.line).strip() if source is not None and source.quote and d.span.line >= 1 else ""
    return Entry(d.code, _relative(d.span.file, folder), d.message, line)


def _folder(path: str) -> str:
    return os.path.dirname(os.path.abspath(path))


def read_baseline(path: str) -> Counter:
    """The recorded entries of the baseline at `path`, with how many times each was recorded."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json_document(handle.read())
    except TooDeep as err:
        raise BaselineError(f"{path}: not a baseline: {err}") from None
    except json.JSONDecodeError as err:
        raise BaselineError(f"{path}:{err.lineno}:{err.colno}: not a baseline: {err.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path}: not a baseline: expected an object with a `findings` list")
    entries: Counter = Counter()
    for index, item in enumerate(data["findings"]):
        keys = ("code", "file", "message", "line_text")
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in keys):
            raise BaselineError(f"{path}: finding {index + 1} needs text `code`, `file`, `message` and `line_text`")
        entries[Entry(*(item[k] for k in keys))] += 1
    return entries


def baseline_text(findings: list[Diagnostic], sources: dict[str, Source], path: str) -> str:
    """The baseline file recording `findings`, in a stable order so that it diffs well under version control."""
    folder = _folder(path)
    entries = sorted((entry_for(d, sources, folder) for d in findings),
                     key=lambda e: (e.file, e.code, e.message, e.line_text))
    data = {"version": VERSION, "findings": [e.to_json() for e in entries]}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def new_findings(findings: list[Diagnostic], sources: dict[str, Source], recorded: Counter,
                 path: str) -> tuple[list[Diagnostic], int]:
    """The findings not in the baseline at `path`, and how many were matched (and so not reported)."""
    left = Counter(recorded)
    folder = _folder(path)
    fresh: list[Diagnostic] = []
    matched = 0
    for d in findings:
        entry = entry_for(d, sources, folder)
        if left[entry] > 0:
            left[entry] -= 1
            matched += 1
        else:
            fresh.append(d)
    return fresh, matched
