"""Streams beyond one JSON Lines file: Parquet (written by `funnel convert events --to parquet`), a directory, a glob.

Each gives `funnel simulate` byte for byte the result of the JSON Lines file it holds."""
from __future__ import annotations

import gzip
import json

import pytest

from conftest import EXAMPLES

pytest.importorskip("pyarrow")

EXAMPLE_SPECS = sorted(p for p in EXAMPLES.glob("*.funnel") if p.with_suffix(".events.jsonl").exists())


def simulate(cli, spec, events, *extra) -> str:
    result = cli("simulate", str(spec), "--events", str(events), "--format", "json", "--on-error", "skip", *extra)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=[p.stem for p in EXAMPLE_SPECS])
def test_parquet_gives_the_result_of_json_lines(spec, tmp_path, cli):
    jsonl = spec.with_suffix(".events.jsonl")
    parquet = tmp_path / "events.parquet"
    converted = cli("convert", "events", str(jsonl), "--to", "parquet", "-o", str(parquet))
    assert converted.exit_code == 0, converted.stderr
    assert parquet.read_bytes()[:4] == b"PAR1"
    one = simulate(cli, spec, jsonl)
    assert '"outcomes"' in one
    assert simulate(cli, spec, parquet) == one


def test_parquet_with_fields_as_a_struct_and_a_timestamp_column(tmp_path, cli):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datetime import datetime, timezone

    spec = EXAMPLES / "b2b_basic.funnel"
    jsonl = spec.with_suffix(".events.jsonl")
    events = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = []
    for e in events:
        row = dict(e)
        row["ts"] = datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).astimezone(timezone.utc)
        rows.append(row)
    keys = list(dict.fromkeys(k for row in rows for k in row))
    table = pa.table({k: [row.get(k) for row in rows] for k in keys})   # fields, data: structs of every member
    assert pa.types.is_struct(table.schema.field("fields").type)
    pq.write_table(table, tmp_path / "struct.parquet")
    assert simulate(cli, spec, tmp_path / "struct.parquet") == simulate(cli, spec, jsonl)


def test_a_directory_and_a_glob_of_files_some_gzipped_read_as_one_stream(tmp_path, cli):
    spec = EXAMPLES / "security_b2b.funnel"
    jsonl = spec.with_suffix(".events.jsonl")
    lines = jsonl.read_bytes().splitlines(keepends=True)
    parts = tmp_path / "history"
    parts.mkdir()
    third = len(lines) // 3
    (parts / "2026-01.jsonl").write_bytes(b"".join(lines[:third]))
    (parts / "2026-02.jsonl.gz").write_bytes(gzip.compress(b"".join(lines[third:2 * third])))
    (parts / "2026-03.jsonl").write_bytes(b"".join(lines[2 * third:]))
    (parts / "notes.txt").write_text("not a stream: left out\n")
    one = simulate(cli, spec, jsonl)
    assert simulate(cli, spec, parts) == one
    assert simulate(cli, spec, parts / "2026-*") == one
    assert simulate(cli, spec, parts, "--workers", "2") == one


def test_a_bad_line_in_the_second_file_is_named_by_its_number_across_the_files(tmp_path, cli):
    spec = EXAMPLES / "security_b2b.funnel"
    lines = spec.with_suffix(".events.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "a.jsonl").write_bytes(b"".join(lines[:5]))
    (tmp_path / "b.jsonl").write_bytes(b"".join(lines[5:7]) + b"{not json\n")
    result = cli("simulate", str(spec), "--events", str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path}:8: ({tmp_path / 'b.jsonl'}, line 3) not JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_glob_that_matches_nothing_and_an_empty_directory_are_refused(tmp_path, cli):
    spec = EXAMPLES / "security_b2b.funnel"
    result = cli("simulate", str(spec), "--events", str(tmp_path / "none-*.jsonl"))
    assert result.exit_code == 2
    assert "no event files matching" in result.stderr
    result = cli("simulate", str(spec), "--events", str(tmp_path))
    assert result.exit_code == 2
    assert "no event files in the directory" in result.stderr


REFUSED = {
    "mixed": ('{"id": 1, "deal": "a", "ts": "2026-01-01T00:00:00Z", "type": "created"}\n'
              '{"id": "x", "deal": "a", "ts": "2026-01-02T00:00:00Z", "type": "moved", "to": "b"}\n',
              "line 2: `id` is text where line 1 has a number"),
    "object": ('{"id": 1, "deal": {"nested": true}, "ts": "2026-01-01T00:00:00Z", "type": "created"}\n',
               "line 1: `deal` is an object; a column other than fields and data holds text"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_convert_refuses_what_a_parquet_column_cannot_hold_and_writes_nothing(name, tmp_path, cli):
    text, message = REFUSED[name]
    stream = tmp_path / f"{name}.jsonl"
    stream.write_text(text)
    result = cli("convert", "events", str(stream), "--to", "parquet", "-o", str(tmp_path / f"{name}.parquet"))
    assert result.exit_code == 2
    assert message in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == [f"{name}.jsonl"]


def test_convert_names_a_line_that_is_not_json_and_parquet_needs_a_file(tmp_path, cli):
    stream = tmp_path / "bad.jsonl"
    stream.write_text('{"id": 1, "deal": "a", "ts": "2026-01-01T00:00:00Z", "type": "created"}\n{oops\n')
    result = cli("convert", "events", str(stream), "--to", "parquet", "-o", str(tmp_path / "x.parquet"))
    assert result.exit_code == 2
    assert "bad.jsonl, line 2: not JSON" in result.stderr
    result = cli("convert", "events", str(stream), "--to", "parquet")
    assert result.exit_code == 2
    assert "give it with -o" in result.stderr

