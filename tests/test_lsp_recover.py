"""lsp/recover.py: blanking the item a syntax error is in keeps every other position where it was."""
from __future__ import annotations

from hypothesis import given, strategies as st

from funnelspec.lsp.recover import blank_item

SPEC = 'funnel d {\n  stage new { start\n    sla 3 days\n  }\n  stage won { won }\n  new -> won\n}\n'


def test_a_line_that_opens_a_block_is_blanked_to_its_closing_brace():
    after, hole = blank_item(SPEC, SPEC.index("stage new"))
    assert hole == "  stage new { start\n    sla 3 days\n  }"
    assert after.split("\n")[4:] == SPEC.split("\n")[4:] and [line.strip() for line in after.split("\n")[1:4]] == ["", "", ""]


def test_a_line_alone_is_blanked_alone():
    after, hole = blank_item(SPEC, SPEC.index("new -> won"))
    assert hole == "  new -> won" and after.replace(" " * len(hole), hole, 1) == SPEC


@given(st.text(alphabet="ab{}\n ё", max_size=60), st.integers(min_value=0, max_value=60))
def test_blanking_keeps_length_and_line_ends(text, offset):
    offset = min(offset, len(text))
    after, _ = blank_item(text, offset)
    assert len(after) == len(text)
    assert [i for i, ch in enumerate(after) if ch == "\n"] == [i for i, ch in enumerate(text) if ch == "\n"]
