"""Everything we ship or show is in `funnel fmt`'s layout, so copying it passes a CI `fmt --check` (issue 23):
the examples, the templates, the funnel `funnel new` writes, and every ```funnel block of README.md and docs/
(check docstrings too, since docs/rules.md is made from them). A block that is not a whole spec (a fragment,
a Bad example with a syntax error) cannot be formatted and is left out."""
from __future__ import annotations

import re

import pytest

from conftest import EXAMPLES, ROOT, STDLIB
from funnelspec.dsl.format import format_text
from funnelspec.stdlib import template_names

BLOCK = re.compile(r"^```funnel\n(.*?)^```\n", re.M | re.S)
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
SPECS = sorted(EXAMPLES.rglob("*.funnel")) + sorted(STDLIB.glob("*.funnel"))


def snippets():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            yield pytest.param(match.group(1), id=f"{page.name}:{text.count(chr(10), 0, match.start()) + 1}")


@pytest.mark.parametrize("spec", SPECS, ids=[str(p.relative_to(ROOT)) for p in SPECS])
def test_shipped_spec_is_canonical(spec):
    text = spec.read_text(encoding="utf-8")
    formatted, diagnostics = format_text(text, str(spec))
    assert diagnostics == [] and formatted == text, f"run `funnel fmt {spec.relative_to(ROOT)}`"


@pytest.mark.parametrize("text", list(snippets()))
def test_docs_snippet_is_canonical(text):
    formatted, _ = format_text(text, "<snippet>")
    if formatted is None:
        return                     # a fragment, or an example of a mistake: not a spec to format
    assert formatted == text


def test_most_snippets_are_whole_specs():
    """The skip above must stay the exception, or this test would check nothing."""
    texts = [p.values[0] for p in snippets()]
    formattable = [t for t in texts if format_text(t, "<snippet>")[0] is not None]
    assert len(texts) > 50 and len(texts) - len(formattable) <= 5


@pytest.mark.parametrize("template", template_names())
def test_the_funnel_new_writes_is_canonical(template, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("new", "mine", "--template", template).exit_code == 0
    assert cli("fmt", "--check", "mine/mine.funnel").exit_code == 0
