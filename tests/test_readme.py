"""The README's tour funnel is what people copy first: it must lint clean."""
from __future__ import annotations

import re

from conftest import ROOT

from funnelspec.api import analyse


def test_readme_funnel_lints_clean():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```funnel\n(.*?)```", text, re.S)
    assert blocks, "the README shows a funnel"
    for block in blocks:
        result = analyse("README.funnel", block)
        assert result.spec is not None
        assert [d.code for d in result.diagnostics] == []
