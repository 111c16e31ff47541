"""Parsing: tests/cases/parse/<name>.funnel -> its AST as an outline snapshot.

The cases cover every construct of the language; the outline shows each
node with its span, so a change in what is parsed or where it was written
shows up in review.
"""
from __future__ import annotations

import pytest

from ast_dump import dump_file
from conftest import CASES
from funnelspec.dsl.parser import _parser, parse_source
from funnelspec.dsl.source import Source

PARSE_CASES = sorted((CASES / "parse").glob("*.funnel"))


def parse_case(path):
    source = Source(path.name, path.read_text(encoding="utf-8"))
    tree, diagnostics = parse_source(source)
    assert diagnostics == []
    return tree


@pytest.mark.parametrize("path", PARSE_CASES, ids=[p.stem for p in PARSE_CASES])
def test_parse_case(path, snapshot):
    assert dump_file(parse_case(path)) == snapshot


@pytest.mark.parametrize("path", PARSE_CASES, ids=[p.stem for p in PARSE_CASES])
def test_fast_path_builds_the_same_tree_as_lark(path):
    parser = _parser()
    text = path.read_text(encoding="utf-8")
    with parser.lock:
        parser.builder.file = path.name
        fast = parser.fast.parse(text)
        slow = parser.lark.parse(text)
        parser.comments.clear()
    assert fast is not None
    assert fast == slow


def test_comments_are_kept_with_their_spans():
    tree = parse_case(CASES / "parse" / "file_structure.funnel")
    assert [(c.text, c.span.line, c.span.column) for c in tree.comments] == [
        ("# Comments run to the end of the line, anywhere.", 1, 1),
        ("# a local file, with an alias", 2, 42),
        ("# a standard template", 3, 42),
    ]
