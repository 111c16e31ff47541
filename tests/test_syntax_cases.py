"""Syntax errors as users see them: tests/cases/syntax/<name>.funnel -> the rendered diagnostic.

Each case is a file with one mistake. The snapshot is what `funnel lint`
prints for it: `file:line:col`, the message in the language's words, the
source line with a caret under the spot, and the hint.
"""
from __future__ import annotations

import pytest

from conftest import CASES
from funnelspec.dsl.parser import parse_source
from funnelspec.dsl.render.text import render_text
from funnelspec.dsl.source import Source

SYNTAX_CASES = sorted((CASES / "syntax").glob("*.funnel"))


def rendered(path) -> tuple[list, str]:
    source = Source(path.name, path.read_text(encoding="utf-8"))
    tree, diagnostics = parse_source(source)
    assert tree is None or not diagnostics
    return diagnostics, render_text(diagnostics, {source.path: source})


def test_there_are_at_least_25_cases():
    assert len(SYNTAX_CASES) >= 25


@pytest.mark.parametrize("path", SYNTAX_CASES, ids=[p.stem for p in SYNTAX_CASES])
def test_syntax_case(path, snapshot):
    diagnostics, text = rendered(path)
    assert len(diagnostics) == 1, "a syntax error stops the file: exactly one diagnostic"
    assert diagnostics[0].code in ("FNL001", "FNL005")
    assert diagnostics[0].hint, "every syntax case here is a common slip and deserves a hint"
    assert text == snapshot
