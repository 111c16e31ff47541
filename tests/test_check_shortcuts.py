"""Shortcuts taken for speed in the checks give what the plain way gave (reference versions kept here)."""
from __future__ import annotations

from hypothesis import given, strategies as st

from funnelspec.dsl.source import Source
from funnelspec.dsl.stage_names import _ENDINGS, MIN_STEM, stem
from funnelspec.dsl.suppress import _Comment, comments


def comments_char_by_char(source: Source):
    """dsl/suppress.py `comments` as it was: every character of every line walked."""
    for number, line in enumerate(source.lines, 1):
        in_string, escaped = False, False
        for column, ch in enumerate(line):
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "#":
                yield _Comment(number, column + 1, line[column:].rstrip("\r"), not line[:column].strip())
                break


def stem_by_trying_every_ending(word: str) -> str:
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


LINE_TEXT = st.lists(st.sampled_from(list('ab #"\\\r\t:') + ["funnel: ignore[FNL404] ok"]), max_size=20).map("".join)


@given(st.lists(LINE_TEXT, max_size=8))
def test_comments_are_found_as_walking_every_character_found_them(lines):
    source = Source("x.funnel", "\n".join(lines))
    assert list(comments(source)) == list(comments_char_by_char(source))


@given(st.text(alphabet=st.sampled_from(list("абвгдеиюяьыоуйхмлстrgnioesdx")), max_size=12))
def test_a_stem_is_what_trying_every_ending_longest_first_gave(word):
    assert stem(word) == stem_by_trying_every_ending(word)
