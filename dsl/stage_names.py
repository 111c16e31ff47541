"""How stage display names compare: folded for sameness, stemmed and measured for near-duplicates.

"Согласование", "согласование " and "Согла-сование" fold to one name;
"Согласование" and "Согласования" are near-duplicates (one letter apart, one
stem). Numbers are never near: "Звонок 1" and "Звонок 2" are two stages on purpose.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterator, Sequence

from .spelling import edit_distance

# Endings dropped to find a word's stem, longest first: Russian case and number
# endings, English plural and verb endings. Crude on purpose: it only has to
# see that two spellings of one word in one funnel are the same word.
_ENDINGS = sorted({
    "иями", "ями", "ами", "ого", "его", "ому", "ему", "ыми", "ими", "ией", "ие", "ия", "ий", "ию", "ии", "ей",
    "ой", "ый", "ая", "яя", "ое", "ее", "ые", "ых", "их", "ов", "ев", "ам", "ям", "ах", "ях", "ом", "ем", "ую",
    "юю", "а", "я", "о", "е", "ы", "и", "у", "ю", "ь",
    "ings", "ing", "ions", "ion", "es", "ed", "s",
}, key=len, reverse=True)
MIN_STEM = 4
# The endings by length, longest first: a word has one ending of each length, so a set lookup per
# length finds what trying every ending in turn found (FNL401 stems every word of every stage title).
_ENDINGS_BY_LENGTH = [(n, frozenset(e for e in _ENDINGS if len(e) == n))
                      for n in sorted({len(e) for e in _ENDINGS}, reverse=True)]


def folded(title: str) -> str:
    """The name with case, spacing, punctuation and ё/е differences removed."""
    text = unicodedata.normalize("NFKC", title).casefold().replace("ё", "е")
    return "".join(ch for ch in text if ch.isalnum())


def words(title: str) -> list[str]:
    text = unicodedata.normalize("NFKC", title).casefold().replace("ё", "е")
    return re.findall(r"\w+", text)


def stem(word: str) -> str:
    for length, endings in _ENDINGS_BY_LENGTH:
        if len(word) - length >= MIN_STEM and word[-length:] in endings:
            return word[:-length]
    return word


def _numbers(title: str) -> list[str]:
    return re.findall(r"\d+", title)


@lru_cache(maxsize=4096)
def _shape(title: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    return folded(title), tuple(stem(w) for w in words(title)), tuple(_numbers(title))


def near_names(a: str, b: str) -> str | None:
    """Why two different names look like one (`one letter apart`, `the same words`), or None."""
    return _near(_shape(a), _shape(b))


def first_near_names(titles: Sequence[str]) -> Iterator[tuple[int, int, str]]:
    """(i, j, why) for each title i that is nearly the same as an earlier one: j is the first such (near_names).

    Only titles with the same numbers can be near, so each is compared with
    the earlier ones that share its numbers, not with every earlier title:
    a funnel of a thousand numbered stages makes no pair at all."""
    shapes = [_shape(title) for title in titles]
    with_numbers: dict[tuple[str, ...], list[int]] = {}
    for i, shape in enumerate(shapes):
        earlier = with_numbers.setdefault(shape[2], [])
        for j in earlier:
            why = _near(shapes[j], shape)
            if why:
                yield i, j, why
                break
        earlier.append(i)


def _near(a: tuple, b: tuple) -> str | None:
    (fa, stems_a, numbers_a), (fb, stems_b, numbers_b) = a, b
    if fa == fb or numbers_a != numbers_b:
        return None
    if stems_a == stems_b and all(len(s) >= MIN_STEM or not s.isalpha() for s in stems_a):
        return "the same words in another form"
    shorter = min(len(fa), len(fb))
    allowed = 1 if shorter >= 5 else 0
    if shorter >= 10:
        allowed = 2
    if abs(len(fa) - len(fb)) > allowed:
        return None
    distance = edit_distance(fa, fb)
    if 0 < distance <= allowed:
        return "one letter apart" if distance == 1 else f"{distance} letters apart"
    return None
