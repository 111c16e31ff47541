"""Diagnostics: what a check found, where, and what to do about it."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .source import Span


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def word(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, word: str) -> "Severity":
        return cls[word.upper()]


@dataclass(frozen=True)
class Related:
    """Another place that explains a finding: the first of two duplicates, a rule in a loop."""

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    related: tuple[Related, ...] = ()
    hint: str | None = None
    name: str = field(default="", compare=False)

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.line, self.span.column, self.code, self.message)

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.word,
            "message": self.message,
            "span": self.span.to_json(),
            "related": [{"span": r.span.to_json(), "message": r.message} for r in self.related],
            "hint": self.hint,
        }


def sorted_diagnostics(diagnostics) -> list[Diagnostic]:
    unique = {(d.sort_key(), d.severity): d for d in diagnostics}
    return [unique[k] for k in sorted(unique)]


def has_errors(diagnostics) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)
