"""The catalogue of diagnostic codes: code, kebab name, default severity, documentation.

Checks register themselves here with `@check(...)`; the parser and resolver
register the codes they emit with `@documented(...)`. A code's documentation
is the docstring of the function that registered it: `funnel explain` prints
it and docs/rules.md is generated from it.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Iterator

from .diagnostics import Diagnostic, Related, Severity
from .source import Span


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    severity: Severity
    doc: str
    family: str
    run: Callable | None = None      # a lint check; None for codes the parser or resolver emit
    aliases: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.name


CODES: dict[str, Code] = {}
_BY_NAME: dict[str, str] = {}


def _register(code: str, name: str, severity: Severity, fn: Callable, run: bool, aliases=()) -> None:
    if code in CODES:
        raise ValueError(f"code {code} registered twice")
    doc = inspect.cleandoc(fn.__doc__ or "")
    family = inspect.getmodule(fn).__name__.rsplit(".", 1)[-1]
    CODES[code] = Code(code, name, severity, doc, family, fn if run else None, tuple(aliases))
    _BY_NAME[name] = code
    for alias in aliases:
        _BY_NAME[alias] = code


def check(code: str, name: str, severity: Severity, aliases=()):
    """Register a lint check: a pure function (funnel, context) -> iterable of Diagnostic."""

    def wrap(fn):
        _register(code, name, severity, fn, True, aliases)
        fn.code = code
        return fn

    return wrap


def documented(code: str, name: str, severity: Severity, aliases=()):
    """Register a code emitted by the parser or resolver; the function only carries the doc."""

    def wrap(fn):
        _register(code, name, severity, fn, False, aliases)
        return fn

    return wrap


def lookup(code_or_name: str) -> Code | None:
    """Find a code by `FNL102`, `fnl102` or `unknown-stage`."""
    all_codes()
    key = code_or_name.strip()
    if key.upper() in CODES:
        return CODES[key.upper()]
    if key.lower() in _BY_NAME:
        return CODES[_BY_NAME[key.lower()]]
    return None


def diagnostic(
    code: str,
    message: str,
    span: Span,
    *,
    hint: str | None = None,
    related: tuple[Related, ...] | list = (),
    severity: Severity | None = None,
) -> Diagnostic:
    entry = all_codes()[code]
    return Diagnostic(code, severity or entry.severity, message, span, tuple(related), hint, entry.name)


def all_codes() -> dict[str, Code]:
    """Every code, with all check modules imported."""
    from . import checks  # noqa: F401  (importing registers the checks)

    return CODES


def lint_checks() -> Iterator[Code]:
    for code in sorted(all_codes()):
        if CODES[code].run is not None:
            yield CODES[code]
