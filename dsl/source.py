"""Source text and spans: where in which file a thing was written."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True, init=False)
class Span:
    """A region of a source file; lines and columns are 1-based and count code points."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def __init__(self, file: str, line: int, column: int, end_line: int, end_column: int,
                 start: int = 0, end: int = 0) -> None:
        # Filled in directly: the generated frozen __init__ calls object.__setattr__ per field,
        # 1.7 µs a span against 0.6, and a large spec's parse makes a span for every node.
        fields = self.__dict__
        fields["file"] = file
        fields["line"] = line
        fields["column"] = column
        fields["end_line"] = end_line
        fields["end_column"] = end_column
        fields["start"] = start
        fields["end"] = end

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }

    def label(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NO_SPAN = Span("<builtin>", 1, 1, 1, 1)


@dataclass(frozen=True, eq=False)
class Source:
    """One file's text, with the line index needed to quote it.

    `quote` is False for a file that is not a `.funnel` spec (dsl/roots.py): its
    lines never appear in a diagnostic, which then gives the position alone.
    """

    path: str
    text: str
    quote: bool = True

    @cached_property
    def lines(self) -> tuple[str, ...]:
        return tuple(self.text.split("\n"))

    def __getstate__(self) -> dict:
        # `lines` is derived from the text: not pickled (dsl/analysis_cache.py keeps analyses on disk)
        return {"path": self.path, "text": self.text, "quote": self.quote}

    def line_text(self, line: int) -> str:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1].rstrip("\r")
        return ""

    def span_at(self, offset: int, length: int = 1) -> Span:
        """The span of `length` code points starting at `offset`."""
        offset = max(0, min(offset, len(self.text)))
        line = self.text.count("\n", 0, offset) + 1
        line_start = self.text.rfind("\n", 0, offset) + 1
        column = offset - line_start + 1
        end = min(offset + length, len(self.text))
        if "\n" in self.text[offset:end]:
            end = self.text.index("\n", offset)
        return Span(self.path, line, column, line, column + max(end - offset, 1), offset, end)
