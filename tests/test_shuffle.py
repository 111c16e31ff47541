"""engine/shuffle.py's byte ranges: a JSON Lines file cut anywhere gives, range after range, the lines one reader
gives, with the same numbers and values (tests/test_cluster.py replays them on a cluster)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from funnelspec.engine import shuffle
from funnelspec.engine.events import NotJson, file_lines

LINES = st.lists(st.sampled_from([b'{"deal": "D-1", "type": "created"}', b"", b"# note", b"not json", b"\xff{}",
                                  b"\xef\xbb\xbf{\"deal\": \"D-2\"}", b"  ", b"[1]", b'{"deal": 7}', b"x" * 300]),
                 max_size=60)


def _values(lines):
    return [(number, raw, value if type(value) is not NotJson else value.message) for number, raw, value in lines]


@settings(max_examples=150, deadline=None)
@given(LINES, st.booleans(), st.integers(min_value=1, max_value=400), st.booleans())
def test_ranges_of_a_file_give_its_lines(tmp_path_factory, lines, bom, piece, newline_at_end):
    path = tmp_path_factory.mktemp("ranges") / "stream.jsonl"
    data = b"\n".join(lines) + (b"\n" if newline_at_end and lines else b"")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    whole, _, stream = file_lines(str(path), None)
    expected = _values(whole)
    stream.close()
    original = shuffle.MIN_PIECE_BYTES, shuffle.PIECE_BYTES
    shuffle.MIN_PIECE_BYTES = shuffle.PIECE_BYTES = piece
    try:
        plan = shuffle.plan(str(path), None, "stream", 2)
    finally:
        shuffle.MIN_PIECE_BYTES, shuffle.PIECE_BYTES = original
    got, offset = [], 0
    for one in plan.pieces:
        lines_of_piece, handle = shuffle._piece_lines(plan.paths[0], one, None)
        numbered = _values(lines_of_piece)
        handle.close()
        got.extend((offset + number, raw, value) for number, raw, value in numbered)
        offset += numbered[-1][0] if numbered else 0
    assert got == expected
