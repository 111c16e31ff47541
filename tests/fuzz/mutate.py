"""Mutations a hostile user (or a broken export) makes: the same ones for every surface.

A mutation takes bytes and a `Pick`, the source of every choice: hypothesis'
draws in the test suite (fixed seed), a seeded `random.Random` for a replay,
atheris' data provider under the coverage-guided fuzzer. Kinds: byte flips,
inserted control and non-UTF-8 bytes, deletions, duplications, splices with
another seed, tokens swapped for words of the corpus, deep nesting, huge
numbers, long names, far-off times, repeated lines, truncation, and for JSON
input a value replaced at a random path.
"""
from __future__ import annotations

import json
import random
import re

MAX_BYTES = 1 << 20            # the "an input under 1 MB": a larger one is cut


class RandomPick:
    """Choices from a seeded random.Random (replays, `python -m fuzz.run`)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


class DataPick:
    """Choices drawn by hypothesis (`st.data()`): derandomized in the suite, replayable, shrinkable."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def integer(self, lo: int, hi: int) -> int:
        return self.data.draw(self.st.integers(lo, hi))


class ProviderPick:
    """Choices from atheris' FuzzedDataProvider: the fuzzer steers them by coverage."""

    def __init__(self, provider):
        self.provider = provider

    def integer(self, lo: int, hi: int) -> int:
        return self.provider.ConsumeIntInRange(lo, hi)


def choice(pick, items):
    return items[pick.integer(0, len(items) - 1)]


ODD_BYTES = (b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x1b[2J", b"\r", b"\n", b"\t", b"\xef\xbb\xbf",
             b"\xe2\x80\xae", b"\xe2\x80\xa8", b"\xc2\x85", b"\x7f", b'"', b"\\", b"{", b"}", b"[", b"]", b"#",
             b",", b":", b"'", b"\x0b\x0c", b"\x1a", b"\xf0\x9f\x92\xa9", "Ё".encode())
NEST_OPEN = (b"(", b"[", b"{", b"not ", b"-", b'{"a": ', b"a + ", b"f(", b"!", b"x and ", b'{"deal": [')
NEST_DEPTHS = (3, 40, 200, 500, 1000, 3000, 20000)
NUMBERS = (b"9" * 20, b"9" * 310, b"9" * 400, b"9" * 5000, b"1e400", b"-1e308", b"1e308", b"NaN", b"Infinity",
           b"-Infinity", b"1e15", b"1e20", b"-0", b"0x10", b"1_000_000_000_000_000_000", b"99999999999999999999",
           b"-9223372036854775809", b"18446744073709551616", b"0.000000000000000000001", b"1e-400", b"00", b"1.")
TIMES = (b"9999-12-31T23:59:59Z", b"9999-12-31T23:59:59-10:00", b"0001-01-01T00:00+05:00", b"0001-01-01",
         b"2026-02-30", b"2026-13-01", b"garbage", b"1970-01-01T00:00:00Z", b"2200-01-01", b"1899-12-31",
         b"2026-01-05T25:00:00Z", b"2026-01-05T15:00:00+99:00", b"")
NAME_LENGTHS = (64, 256, 4000, 70000)
WORD = re.compile(rb"[A-Za-z_\x80-\xff][\w\x80-\xff]*|\d[\d_.]*|\S")
DATE = re.compile(rb"\d{4}-\d\d-\d\d(?:T[\d:.]+(?:Z|[+-]\d\d:\d\d)?)?")


def flip(data: bytes, pick, corpus) -> bytes:
    if not data:
        return bytes([pick.integer(0, 255)])
    at = pick.integer(0, len(data) - 1)
    return data[:at] + bytes([data[at] ^ (1 << pick.integer(0, 7))]) + data[at + 1:]


def insert_odd(data: bytes, pick, corpus) -> bytes:
    at = pick.integer(0, len(data))
    return data[:at] + choice(pick, ODD_BYTES) * pick.integer(1, 3) + data[at:]


def control_char(data: bytes, pick, corpus) -> bytes:
    at = pick.integer(0, len(data))
    return data[:at] + bytes([pick.integer(0, 31)]) + data[at:]


def delete(data: bytes, pick, corpus) -> bytes:
    if not data:
        return data
    at = pick.integer(0, len(data) - 1)
    return data[:at] + data[at + pick.integer(1, min(64, len(data) - at)):]


def duplicate(data: bytes, pick, corpus) -> bytes:
    if not data:
        return data
    at = pick.integer(0, len(data) - 1)
    piece = data[at:at + pick.integer(1, 200)]
    to = pick.integer(0, len(data))
    return data[:to] + piece + data[to:]


def splice(data: bytes, pick, corpus) -> bytes:
    """A piece of another seed put in (or a tail replaced): grammar-shaped text from elsewhere."""
    donor = choice(pick, corpus.seeds)
    if not donor:
        return data
    start = pick.integer(0, len(donor) - 1)
    piece = donor[start:start + pick.integer(1, 400)]
    at = pick.integer(0, len(data))
    if pick.integer(0, 1):
        return data[:at] + piece
    return data[:at] + piece + data[at:]


def _tokens(data: bytes) -> list[re.Match]:
    return list(WORD.finditer(data))


def swap_token(data: bytes, pick, corpus) -> bytes:
    """One token replaced by a word of the corpus (a keyword, a stage id, an operator)."""
    tokens = _tokens(data)
    if not tokens or not corpus.words:
        return data
    token = choice(pick, tokens)
    return data[:token.start()] + choice(pick, corpus.words) + data[token.end():]


def nest(data: bytes, pick, corpus) -> bytes:
    """An opening a few to many thousand levels deep, closed or not."""
    opening = choice(pick, NEST_OPEN)
    depth = choice(pick, NEST_DEPTHS)
    closing = bytes(reversed(opening.strip().replace(b"(", b")").replace(b"[", b"]").replace(b"{", b"}")))
    closed = pick.integer(0, 1) and opening in (b"(", b"[", b"{", b"f(")
    inner = b"1"
    if opening == b'{"a": ':
        inner, closing, closed = b"1", b"}", True
    elif opening == b'{"deal": [':
        inner, closing, closed = b"1", b"]}", True
    text = opening * depth + inner + (closing * depth if closed else b"")
    at = _token_position(data, pick)
    return data[:at] + text + data[at:]


def _token_position(data: bytes, pick) -> int:
    tokens = _tokens(data)
    if not tokens:
        return pick.integer(0, len(data))
    token = choice(pick, tokens)
    return token.start() if pick.integer(0, 1) else token.end()


def huge_number(data: bytes, pick, corpus) -> bytes:
    numbers = [m for m in _tokens(data) if m.group()[:1].isdigit()]
    new = choice(pick, NUMBERS)
    if not numbers:
        at = pick.integer(0, len(data))
        return data[:at] + new + data[at:]
    token = choice(pick, numbers)
    return data[:token.start()] + new + data[token.end():]


def long_name(data: bytes, pick, corpus) -> bytes:
    names = [m for m in _tokens(data) if not m.group()[:1].isdigit() and len(m.group()) > 1]
    length = choice(pick, NAME_LENGTHS)
    new = (b"x" if pick.integer(0, 1) else "я".encode()) * length
    if not names:
        return data + new
    token = choice(pick, names)
    return data[:token.start()] + new + data[token.end():]


def far_time(data: bytes, pick, corpus) -> bytes:
    times = list(DATE.finditer(data))
    new = choice(pick, TIMES)
    if not times:
        return data
    when = choice(pick, times)
    return data[:when.start()] + new + data[when.end():]


def repeat_line(data: bytes, pick, corpus) -> bytes:
    lines = data.split(b"\n")
    at = pick.integer(0, len(lines) - 1)
    times = choice(pick, (2, 10, 300, 2000))
    return b"\n".join(lines[:at] + [lines[at]] * times + lines[at + 1:])


def truncate(data: bytes, pick, corpus) -> bytes:
    return data[:pick.integer(0, len(data))]


def not_utf8(data: bytes, pick, corpus) -> bytes:
    """The text in another encoding (a Windows export), or a lone continuation byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data + b"\x80"
    return text.encode(choice(pick, ("cp1251", "utf-16", "latin-1")), errors="replace")


ODD_VALUES = (None, True, 0, -1, 1e308, 10**400, float("nan"), float("inf"), "", " ", "x" * 70000, "\x1b[31m\n---",
              [], {}, [1], {"a": 1}, "9999-12-31", "0001-01-01T00:00+05:00", 1e15, 1e20, -2**63 - 1, "NaN",
              "Infinity", "won", "lost", "created", "moved", "event", "updated", "%%{init: {}}%%", "\ud800")


def json_value(data: bytes, pick, corpus) -> bytes:
    """For JSON input: one line's (or the document's) value at a random path replaced, removed or nested deep."""
    lines = data.split(b"\n")
    candidates = [i for i, line in enumerate(lines) if line.strip()[:1] in (b"{", b"[")]
    if not candidates:
        return flip(data, pick, corpus)
    whole = len(candidates) == 1 and len(lines) <= 2 or data.lstrip()[:1] in (b"{", b"[") and _is_document(data)
    target = data if whole else lines[choice(pick, candidates)]
    try:
        value = json.loads(target)
    except (ValueError, RecursionError):
        return flip(data, pick, corpus)
    value = _mutate_value(value, pick, 0)
    text = json.dumps(value, ensure_ascii=bool(pick.integer(0, 1)), allow_nan=True).encode("utf-8", "surrogatepass")
    text = NESTED.sub(_nested, text)
    if whole:
        return text
    at = lines.index(target)
    return b"\n".join(lines[:at] + [text] + lines[at + 1:])


def _is_document(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def _mutate_value(value, pick, depth):
    if isinstance(value, dict) and value and depth < 6 and pick.integer(0, 3):
        key = choice(pick, sorted(value, key=str))
        action = pick.integer(0, 5)
        if action == 0:
            return {k: v for k, v in value.items() if k != key}
        if action == 1:
            return {**value, choice(pick, ("fieldsx", "x" * 300, "", "ts", "to", "deal", "by", "data")):
                    choice(pick, ODD_VALUES)}
        return {**value, key: _mutate_value(value[key], pick, depth + 1)}
    if isinstance(value, list) and value and depth < 6 and pick.integer(0, 3):
        at = pick.integer(0, len(value) - 1)
        return value[:at] + [_mutate_value(value[at], pick, depth + 1)] + value[at + 1:]
    if pick.integer(0, 4) == 0:        # written out after json.dumps, which would recurse as deep
        return f"@@nest-{choice(pick, NEST_DEPTHS)}-{pick.integer(0, 2)}@@"
    return choice(pick, ODD_VALUES)


NESTED = re.compile(rb'"@@nest-(\d+)-(\d)@@"')


def _nested(match: re.Match) -> bytes:
    depth, kind = int(match.group(1)), int(match.group(2))
    opening, closing = ((b"[", b"]"), (b'{"a": ', b"}"), (b'[{"a": ', b"}]"))[kind]
    return opening * depth + b"1" + closing * depth


BYTE_MUTATIONS = (flip, insert_odd, control_char, delete, duplicate, splice, swap_token, nest, huge_number,
                  long_name, far_time, repeat_line, truncate, not_utf8)


def mutate(data: bytes, pick, corpus, json_input: bool = False) -> bytes:
    """One to four mutations in a row (for JSON input, value-level ones weigh as much as all byte ones)."""
    for _ in range(pick.integer(1, 4)):
        if json_input and pick.integer(0, 1):
            data = json_value(data, pick, corpus)
        else:
            data = choice(pick, BYTE_MUTATIONS)(data, pick, corpus)
        if len(data) > MAX_BYTES:
            data = data[:MAX_BYTES]
    return data


class Corpus:
    """The seeds of one input and the words mutations take from them (every token seen, most common first)."""

    def __init__(self, seeds: list[bytes], extra_words: tuple[bytes, ...] = ()):
        self.seeds = seeds
        counts: dict[bytes, int] = {}
        for seed in seeds:
            for token in _tokens(seed):
                counts[token.group()] = counts.get(token.group(), 0) + 1
        self.words = sorted(counts, key=lambda w: (-counts[w], w))[:400] + list(extra_words)
