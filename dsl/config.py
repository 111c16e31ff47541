"""`[tool.funnel]` in pyproject.toml: which codes run, at what severity, and what makes lint fail.

The table is read from the nearest pyproject.toml above the linted file that
has one (walking up from the file's folder), once per folder per process.

```toml
[tool.funnel]
select = ["FNL1", "FNL2", "FNL3"]     # codes, kebab names or prefixes; default: every code
ignore = ["no-sla"]
fail-on = "warning"                  # or "error" (the default)
severity = { FNL404 = "warning" }    # or a [tool.funnel.severity] table
show-advice = true                   # show info-level advice (FNL402, FNL404 by default), as --show-advice does
import-roots = ["../shared"]         # folders imports may reach besides this one (dsl/roots.py)
```

Mistakes in the table are findings (FNL007 unknown-code, FNL009
invalid-config) pointing into pyproject.toml, not crashes.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Iterable

from . import codes
from .diagnostics import Diagnostic, Severity
from .loader import display_path
from .source import Source, Span
from .spelling import did_you_mean

KEYS = ("select", "ignore", "fail-on", "severity", "show-advice", "import-roots", "diagnosis", "crm")   # diagnosis: engine/diagnosis.py, crm: serve/
LEVELS = ("error", "warning", "info")


@dataclass(frozen=True)
class Settings:
    """What to run and report for one file: from its pyproject.toml, then the command line on top."""

    select: frozenset[str] | None = None            # None: every code
    ignore: frozenset[str] = frozenset()
    fail_on: Severity | None = None                 # None: errors fail
    severity: tuple[tuple[str, Severity], ...] = ()
    show_advice: bool = False                       # info-level findings shown (they never fail a run)
    path: str | None = None                         # the pyproject.toml it came from
    root: str | None = None                         # its folder, absolute: the project root imports stay in
    import_roots: tuple[str, ...] = ()              # more folders imports may reach, absolute
    problems: tuple[Diagnostic, ...] = ()
    sources: tuple[Source, ...] = field(default=(), compare=False)

    def runs(self, code: str) -> bool:
        return (self.select is None or code in self.select) and code not in self.ignore

    def severity_of(self, code: str, default: Severity) -> Severity:
        return dict(self.severity).get(code, default)

    @property
    def failing(self) -> Severity:
        return self.fail_on or Severity.ERROR

    def overridden(self, select=None, ignore=(), fail_on: Severity | None = None,
                   show_advice: bool = False) -> "Settings":
        """The command line wins: `--select` replaces, `--ignore` adds, `--fail-on` replaces, `--show-advice` shows."""
        return replace(self, select=frozenset(select) if select is not None else self.select,
                       ignore=self.ignore | frozenset(ignore), fail_on=fail_on or self.fail_on,
                       show_advice=show_advice or self.show_advice)


def expand_codes(items: Iterable[str]) -> tuple[set[str], list[str]]:
    """Codes named by `FNL405`, `unused-field` or a prefix (`FNL4`); and the items that name none."""
    known = codes.all_codes()
    found, unknown = set(), []
    for item in items:
        item = item.strip()
        if not item:
            continue
        entry = codes.lookup(item)
        if entry is not None:
            found.add(entry.code)
            continue
        prefixed = {c for c in known if item.upper().startswith("FNL") and c.startswith(item.upper())}
        if prefixed:
            found |= prefixed
        else:
            unknown.append(item)
    return found, unknown


def unknown_code_hint(item: str) -> str:
    names = list(codes.all_codes()) + [c.name for c in codes.all_codes().values()]
    return did_you_mean(item, names) or "`funnel explain --list` lists the codes"


# Reading pyproject.toml ------------------------------------------------------------

class _Table:
    """The [tool.funnel] table with the text it came from, to point at a key or a value."""

    def __init__(self, source: Source):
        self.source = source
        self.problems: list[Diagnostic] = []

    def span_of(self, key: str | None = None, needle: str | None = None) -> Span:
        """Where `needle` is written in the value of `key` (or anywhere in the table), else the key, else the header."""
        lines = self.source.lines
        header = re.compile(r"\s*\[\s*tool\s*\.\s*funnel\s*(\.\s*severity\s*)?\]")
        start = next((i for i, line in enumerate(lines) if header.match(line)), None)
        if start is None:
            return self.source.span_at(0, 1)
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].lstrip().startswith("[") and not header.match(lines[i])), len(lines))
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line) + 1)
        key_line = next((i for i in range(start, end) if key is not None
                         and re.match(rf'\s*"?{re.escape(key)}"?\s*=', lines[i])), None)
        if needle is not None:
            for i in range(key_line if key_line is not None else start, end):
                column = lines[i].find(needle, lines[i].find("=") + 1 if i == key_line else 0)
                if column >= 0:
                    return self.source.span_at(offsets[i] + column, len(needle))
        line = key_line if key_line is not None else start
        text = lines[line]
        indent = len(text) - len(text.lstrip())
        return self.source.span_at(offsets[line] + indent, max(1, len(text.strip())))

    def report(self, code: str, message: str, key: str | None = None, needle: str | None = None, hint=None):
        self.problems.append(codes.diagnostic(code, message, self.span_of(key, needle), hint=hint))

    def codes_list(self, raw, key: str) -> frozenset[str] | None:
        items = [i for i in raw.split(",")] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            self.report("FNL009", f"`{key}` must be a list of codes, e.g. `{key} = [\"FNL404\"]`", key)
            return None
        found, unknown = expand_codes(items)
        for item in unknown:
            self.report("FNL007", f"unknown code `{item}` in `{key}`", key, item, hint=unknown_code_hint(item))
        return frozenset(found)


def _read(table: _Table, raw: dict, path: str, root: str) -> Settings:
    settings = Settings(path=path, root=root)
    for key in raw:
        if key not in KEYS:
            table.report("FNL009", f"unknown key `{key}` in [tool.funnel]", key,
                         hint=did_you_mean(key, KEYS) or f"the keys are {', '.join(KEYS)}")
    if "select" in raw:
        selected = table.codes_list(raw["select"], "select")
        settings = replace(settings, select=selected if selected is not None else None)
    if "ignore" in raw:
        settings = replace(settings, ignore=table.codes_list(raw["ignore"], "ignore") or frozenset())
    if "fail-on" in raw:
        value = raw["fail-on"]
        if value in ("error", "warning"):
            settings = replace(settings, fail_on=Severity.parse(value))
        else:
            table.report("FNL009", f"`fail-on` must be \"error\" or \"warning\", not `{value}`", "fail-on",
                         hint=did_you_mean(str(value), ("error", "warning")))
    if "severity" in raw:
        settings = replace(settings, severity=_severities(table, raw["severity"]))
    if "show-advice" in raw:
        if isinstance(raw["show-advice"], bool):
            settings = replace(settings, show_advice=raw["show-advice"])
        else:
            table.report("FNL009", f"`show-advice` must be true or false, not `{raw['show-advice']}`", "show-advice")
    if "import-roots" in raw:
        settings = replace(settings, import_roots=_folders(table, raw["import-roots"], root))
    return settings


def _folders(table: _Table, raw, root: str) -> tuple[str, ...]:
    """`import-roots`: folders, relative to the pyproject.toml's own, that must exist."""
    if not isinstance(raw, list) or not all(isinstance(item, str) and item for item in raw):
        table.report("FNL009", '`import-roots` must be a list of folders, e.g. `import-roots = ["../shared"]`',
                     "import-roots")
        return ()
    found = []
    for item in raw:
        folder = os.path.normpath(os.path.join(root, os.path.expanduser(item)))
        if not os.path.isdir(folder):
            table.report("FNL009", f"`import-roots`: `{item}` is not a folder", "import-roots", item,
                         hint="paths are relative to the folder of this pyproject.toml")
        else:
            found.append(folder)
    return tuple(found)


def _severities(table: _Table, raw) -> tuple[tuple[str, Severity], ...]:
    if not isinstance(raw, dict):
        table.report("FNL009", "`severity` must be a table of codes, e.g. `severity = { FNL404 = \"info\" }`",
                     "severity")
        return ()
    found = []
    for name, level in raw.items():
        entry = codes.lookup(name)
        if entry is None:
            table.report("FNL007", f"unknown code `{name}` in `severity`", "severity", name,
                         hint=unknown_code_hint(name))
        elif level not in LEVELS:
            table.report("FNL009", f"the severity of `{name}` must be one of {', '.join(LEVELS)}, not `{level}`",
                         "severity", name, hint=did_you_mean(str(level), LEVELS))
        else:
            found.append((entry.code, Severity.parse(level)))
    return tuple(sorted(found))


def read_pyproject(path: str) -> Settings | None:
    """The settings in one pyproject.toml; None when it has no [tool.funnel] table."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    source = Source(display_path(path), text)
    root = os.path.dirname(os.path.abspath(path))
    table = _Table(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        line = re.search(r"line (\d+), column (\d+)", str(err))
        span = source.span_at(0, 1)
        if line:
            offset = sum(len(l) + 1 for l in source.lines[: int(line.group(1)) - 1]) + int(line.group(2)) - 1
            span = source.span_at(offset, 1)
        problem = codes.diagnostic("FNL009", f"pyproject.toml is not valid TOML: {str(err).split(' (at')[0]}", span)
        return Settings(path=source.path, root=root, problems=(problem,), sources=(source,))
    raw = data.get("tool", {}).get("funnel")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        table.report("FNL009", "`tool.funnel` must be a table")
        return Settings(path=source.path, root=root, problems=tuple(table.problems), sources=(source,))
    settings = _read(table, raw, source.path, root)
    return replace(settings, problems=tuple(table.problems), sources=(source,))


@lru_cache(maxsize=512)
def settings_in(folder: str) -> Settings:
    """The settings that apply to files in `folder`: the nearest pyproject.toml with [tool.funnel], else defaults."""
    candidate = os.path.join(folder, "pyproject.toml")
    if os.path.isfile(candidate):
        found = read_pyproject(candidate)
        if found is not None:
            return found
    parent = os.path.dirname(folder)
    return Settings() if parent == folder else settings_in(parent)


def settings_for(path: str) -> Settings:
    return settings_in(os.path.dirname(os.path.abspath(path)))
