"""docs/language.md runs: every ```funnel block parses and resolves without a finding; every
```funnel-bad block has an error, and the ```text block after it is exactly what funnel prints.

Blocks run in a folder where `shared/company_base.funnel` (from examples/) can be imported.
"""
from __future__ import annotations

import re
import shutil

import pytest

from conftest import EXAMPLES, ROOT
from funnelspec.api import analyse
from funnelspec.dsl.diagnostics import Severity
from funnelspec.dsl.render.text import render_text

LANGUAGE = ROOT / "docs" / "language.md"
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```\n", re.M | re.S)


def blocks() -> list[tuple[str, str, int, str | None]]:
    """(kind, text, line, the text block right after it) for each fenced block."""
    doc = LANGUAGE.read_text(encoding="utf-8")
    found = list(FENCE.finditer(doc))
    out = []
    for i, m in enumerate(found):
        following = found[i + 1] if i + 1 < len(found) else None
        after = None
        if following is not None and following.group(1) == "text" and doc[m.end():following.start()].strip() == "":
            after = following.group(2)
        out.append((m.group(1), m.group(2), doc.count("\n", 0, m.start()) + 1, after))
    return out


GOOD = [(text, line) for kind, text, line, _ in blocks() if kind == "funnel"]
BAD = [(text, line, after) for kind, text, line, after in blocks() if kind == "funnel-bad"]


def run_block(text, tmp_path, monkeypatch):
    shutil.copytree(EXAMPLES / "shared", tmp_path / "shared")
    (tmp_path / "example.funnel").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return analyse("example.funnel", lint=False)


@pytest.mark.parametrize("text", [t for t, _ in GOOD], ids=[f"line{line}" for _, line in GOOD])
def test_funnel_block_resolves(text, tmp_path, monkeypatch):
    result = run_block(text, tmp_path, monkeypatch)
    assert result.diagnostics == [], render_text(result.diagnostics, result.sources)


@pytest.mark.parametrize("text,after", [(t, a) for t, _, a in BAD], ids=[f"line{line}" for _, line, _ in BAD])
def test_funnel_bad_block_shows_its_error(text, after, tmp_path, monkeypatch):
    result = run_block(text, tmp_path, monkeypatch)
    assert any(d.severity is Severity.ERROR for d in result.diagnostics)
    if after is not None:
        assert render_text(result.diagnostics, result.sources) + "\n" == after


def test_every_construct_has_a_section():
    headings = re.findall(r"^## (.+)$", LANGUAGE.read_text(encoding="utf-8"), re.M)
    for heading in ("File structure", "Comments", "Imports", "Funnels", "Templates: extends, replace, drop",
                    "Currency and value", "Fields and types", "Events", "Stages", "Blocks", "Transitions",
                    "Rules and triggers", "Actions", "Expressions", "Routing", "Holidays", "Functions"):
        assert heading in headings
    assert headings[-1] == "Functions"
    assert len(GOOD) >= 15 and len(BAD) >= 2
