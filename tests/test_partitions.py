"""engine/partitions.py: a partitioned stream's lines are numbered as the whole stream numbers them, and a deal in
two files is found whichever share reads which file."""
from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnelspec.engine.events import FileSet
from funnelspec.engine.partitions import Partitions, ShareReader, check_deals, lines_in
from funnelspec.engine.simulate import BadLine

LINE = st.sampled_from([b'{"id": 1, "deal": "A", "ts": 1, "type": "created"}', b"", b"# a comment", b"not json",
                        b"\xef\xbb\xbf{}", b"  ", b'{"deal": 7}', b"\r"])
FILE = st.tuples(st.lists(LINE, max_size=6), st.booleans(), st.booleans())     # lines, last newline, gzipped


def write(folder, files) -> list[str]:
    names = []
    for i, (lines, newline_at_end, gz) in enumerate(files):
        data = b"\n".join(lines) + (b"\n" if newline_at_end and lines else b"")
        path = folder / (f"part-{i}.jsonl.gz" if gz else f"part-{i}.jsonl")
        path.write_bytes(gzip.compress(data) if gz else data)
        names.append(str(path))
    return names


@settings(max_examples=60, deadline=None)
@given(files=st.lists(FILE, min_size=1, max_size=4), shares=st.integers(1, 3))
def test_a_share_numbers_its_lines_as_the_whole_stream_does(tmp_path_factory, files, shares):
    folder = tmp_path_factory.mktemp("parts")
    names = write(folder, files)
    whole = list(FileSet(str(folder), names, None).lines())
    parts = Partitions.of(str(folder), names, [lines_in(name, None) for name in names], None)
    read = []
    for files_of_share in parts.split(shares):
        read.extend(ShareReader(parts, files_of_share).lines())
    key = lambda item: item[0]                                                   # noqa: E731
    assert [(n, raw, repr(v)) for n, raw, v in sorted(read, key=key)] == [(n, raw, repr(v)) for n, raw, v in whole]


def test_a_parquet_file_takes_its_rows_and_its_snapshot_line(tmp_path):
    pytest.importorskip("pyarrow")
    from funnelspec.engine.parquet import write_parquet

    events = [(n, {"id": n, "deal": "A", "ts": n, "type": "created"}) for n in range(1, 6)]
    write_parquet(events, str(tmp_path / "plain.parquet"))
    write_parquet(events, str(tmp_path / "snapshot.parquet"), snapshot="rebuilt")
    assert lines_in(str(tmp_path / "plain.parquet"), None)[0] == 5
    assert lines_in(str(tmp_path / "snapshot.parquet"), None)[0] == 6


@settings(max_examples=80, deadline=None)
@given(deals=st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=4), min_size=1, max_size=6),
       shares=st.integers(1, 4))
def test_a_deal_in_two_files_is_found_at_the_same_line_however_the_files_are_shared(tmp_path_factory, deals,
                                                                                   shares):
    """`deals[d]` lists the files (of 4) that deal d's lines go to, one line each, in turn."""
    folder = tmp_path_factory.mktemp("deals")
    files: list[list[bytes]] = [[] for _ in range(4)]
    for deal, where in enumerate(deals):
        for i in where:
            files[i].append(json.dumps({"deal": f"D{deal}"}).encode())
    names = write(folder, [(lines, True, False) for lines in files])
    parts = Partitions.of(str(folder), names, [lines_in(name, None) for name in names], None)

    def outcome(split: int):
        readers = [ShareReader(parts, own) for own in parts.split(split)]
        for reader in readers:
            list(reader.lines())
        try:
            check_deals(parts, [reader.deals() for reader in readers])
        except BadLine as err:
            return err.line
        return None

    found = outcome(shares)
    assert found == outcome(1)
    crossing = [d for d, where in enumerate(deals) if len(set(where)) > 1]
    assert (found is None) == (not crossing)
