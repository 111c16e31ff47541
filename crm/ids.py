"""Readable, stable spec ids from CRM titles: Cyrillic transliterated, accents dropped, one id per title."""
from __future__ import annotations

import re
import unicodedata

from ..dsl.ast_builder import FUNNEL_ITEM_KEYWORDS

# Russian/Ukrainian letters as passports spell them (ICAO 9303): stable, readable, ASCII.
CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ", (
    "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u",
    "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "iu", "ia", "i", "i", "ie", "g")))
# letters NFKD does not split into a base letter and an accent
OTHER = {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ð": "d", "þ": "th", "ł": "l", "đ": "d"}
# words an id may not be: these, and every word that begins or continues a funnel item (`fields`, `value`,
# `timezone`, `language`, …), which the parser would read as that item
KEYWORDS = frozenset({"any", "stage", "funnel", "import", "on", "at", "after", "every",
                      "in", "when", "and", "or", "not", "true", "false", "none", "now", "event", "block"}
                     ) | FUNNEL_ITEM_KEYWORDS


def slug(title: str, fallback: str = "stage") -> str:
    """`Сделка провалена` -> `sdelka_provalena`, `Møte booket` -> `mote_booket`: the same title, the same id."""
    out = []
    for char in title.lower():
        char = CYRILLIC.get(char, OTHER.get(char, char))
        out.append("".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)))
    text = re.sub(r"[^a-z0-9]+", "_", "".join(out)).strip("_")
    if not text:
        return fallback
    if text[0].isdigit():
        text = f"{fallback}_{text}"
    return text[:40].rstrip("_")


def unique_ids(titles, taken=(), fallback: str = "stage") -> list[str]:
    """One id per title, in order; a repeated id gets _2, _3 (the second `Проверка` is `proverka_2`)."""
    used, out = set(taken), []
    for title in titles:
        base = slug(title, fallback)
        candidate, n = base, 1
        while candidate in used or candidate in KEYWORDS and n == 1:
            n += 1
            candidate = f"{base}_{n}"
        used.add(candidate)
        out.append(candidate)
    return out
