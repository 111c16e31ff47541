"""The facade: each call chains the pipeline's steps; nothing else reaches across them."""
from __future__ import annotations

from dataclasses import dataclass, field

from .dsl.diagnostics import Diagnostic, has_errors, sorted_diagnostics
from .dsl.loader import load_files
from .dsl.model import Spec
from .dsl.resolve import resolve_files
from .dsl.source import Source


@dataclass
class Analysis:
    """A spec file loaded and checked: the model (None when it has errors), findings, sources."""

    path: str
    spec: Spec | None
    diagnostics: list[Diagnostic]
    sources: dict[str, Source] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.spec is not None


def analyse(path: str, text: str | None = None, *, lint: bool = True) -> Analysis:
    """Parse, resolve and (when `lint`) run every lint check on one spec file.

    Raises OSError when the file itself cannot be read; every problem in its
    text is a diagnostic.
    """
    fileset = load_files(path, text)
    spec, problems = resolve_files(fileset)
    if spec is not None and not has_errors(problems) and lint:
        from .dsl.lint import lint_spec

        problems = problems + lint_spec(spec)
    diagnostics = sorted_diagnostics(problems)
    usable = spec if spec is not None and not has_errors(diagnostics) else None
    return Analysis(path, usable, diagnostics, fileset.sources)


def load(path: str, text: str | None = None) -> tuple[Spec | None, list[Diagnostic]]:
    """The checked model of a spec file (None when it has errors) and every finding."""
    result = analyse(path, text, lint=False)
    return result.spec, result.diagnostics
