"""Streams that cannot be read whole: a .gz cut short or damaged, CSV rows that are not UTF-8 or too long,
lines nested too deep or too long. Each is an error naming its file and line, or under `--on-error skip`
a rejected line and a run that goes on (docs/limits.md, "Streams and exports")."""
from __future__ import annotations

import gzip
import io

import pytest

from funnelspec.api import load, simulate
from funnelspec.engine.events import MAX_DEPTH, NotJson, csv_rows, json_lines
from funnelspec.engine.lines import Unread, lines_of
from funnelspec.engine.parallel import can_fork

SPEC = """
funnel sales {
  fields { budget: money?  owner: text? }
  stage new { start }
  stage won { won }
  stage lost { lost }
  new -> won
  any -> lost
}
"""
EVENTS = [f'{{"id": {n}, "deal": "D{n}", "ts": "2026-01-{n:02d}T10:00:00Z", "type": "created", '
          f'"fields": {{"budget": {n * 100}}}}}' for n in range(1, 21)]
CSV_MAP = "deal=opportunity,ts=when,type=kind"
CSV_HEADER = b"opportunity,when,kind,budget,owner\n"


def _csv_row(n: int, owner: bytes = b"Ann") -> bytes:
    return b"O-%d,2026-01-%02d,created,%d," % (n, n, n * 100) + owner + b"\n"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    (tmp_path / "sales.funnel").write_text(SPEC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _cut_gz(folder, keep: int = 20) -> str:
    whole = gzip.compress(("\n".join(EVENTS) + "\n").encode("utf-8"), mtime=0)
    (folder / "events.jsonl.gz").write_bytes(whole[:-keep])
    return "events.jsonl.gz"


def _worker_counts() -> list[str]:
    return ["1", "2"] if can_fork() else ["1"]


# .gz cut short or damaged ------------------------------------------------------------

@pytest.mark.parametrize("workers", _worker_counts())
def test_a_gz_cut_short_stops_naming_the_file_and_line(folder, cli, workers):
    result = cli("simulate", "sales.funnel", "--events", _cut_gz(folder), "--workers", workers)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: events.jsonl.gz:")
    assert "the compressed stream ends here, before its end marker (a .gz file cut short?)" in result.stderr
    line = int(result.stderr.split(":")[2])
    assert result.stderr.endswith(f"({line - 1} lines before it were read: --on-error skip replays them)\n")
    assert "Traceback" not in result.stderr and "Aborted" not in result.stderr


@pytest.mark.parametrize("workers", _worker_counts())
def test_a_gz_cut_short_under_skip_replays_what_was_read_and_prints_the_totals(folder, cli, workers):
    result = cli("simulate", "sales.funnel", "--events", _cut_gz(folder), "--on-error", "skip",
                 "--workers", workers, "--rejects", "rejects.txt")
    assert result.exit_code == 0, result.stderr
    totals = result.stdout.splitlines()[-1]
    read = int(totals.split(" = ")[1].split()[0])              # `lines: N = A applied + 1 rejected + 0 blank`
    assert 0 < read < len(EVENTS)
    assert totals.startswith(f"lines: {read + 1} = {read} applied + 1 rejected + 0 blank")
    rejects = (folder / "rejects.txt").read_text(encoding="utf-8")
    assert rejects.startswith(f"# events.jsonl.gz:{read + 1}: the compressed stream ends here")


@pytest.mark.parametrize("keep", [1, 9, 40, 200])
def test_wherever_a_gz_is_cut_every_line_read_is_accounted_for(folder, keep):
    result = simulate(str(folder / "sales.funnel"), _cut_gz(folder, keep), on_error="skip")
    assert result.totals.balanced
    assert result.totals.rejected == 1 and "a .gz file cut short?" in result.rejects[0].reason


def test_a_file_named_gz_that_is_not_gzip_is_named(folder, cli):
    (folder / "events.jsonl.gz").write_bytes(b"hello, not gzip\n")
    result = cli("simulate", "sales.funnel", "--events", "events.jsonl.gz")
    assert result.exit_code == 2
    assert result.stderr == ("error: events.jsonl.gz:1: not a readable .gz stream from here (Not a gzipped "
                             "file (b'he')); no line after this one can be read\n")


# CSV -------------------------------------------------------------------------------

def test_a_csv_row_that_is_not_utf8_is_rejected_by_line_and_the_rest_replayed(folder, cli):
    rows = [_csv_row(1), _csv_row(2, b"Bj\xf6rn"), _csv_row(3)]
    (folder / "events.csv").write_bytes(CSV_HEADER + b"".join(rows))
    result = cli("simulate", "sales.funnel", "--events", "events.csv", "--csv-map", CSV_MAP,
                 "--on-error", "skip", "--rejects", "rejects.txt")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "lines: 4 = 2 applied + 1 rejected + 1 blank; 2 deals"
    # the line as it was, byte for byte, so that it can be fixed and replayed
    assert (folder / "rejects.txt").read_bytes() == b"# events.csv:3: column 5 `owner`: not valid UTF-8 (byte 30)\n" + rows[1]


def test_a_csv_row_that_is_not_utf8_stops_the_run_naming_its_line(folder, cli):
    (folder / "events.csv").write_bytes(CSV_HEADER + _csv_row(1) + _csv_row(2, b"Bj\xf6rn"))
    result = cli("simulate", "sales.funnel", "--events", "events.csv", "--csv-map", CSV_MAP)
    assert (result.exit_code, result.stderr) == (2, "error: events.csv:3: column 5 `owner`: not valid UTF-8 (byte 30)\n")


def test_a_csv_header_that_is_not_utf8_ends_the_stream_at_line_one():
    got = list(csv_rows(io.BytesIO(b"deal,ts,type,own\xe9r\n" + _csv_row(1)), {}))
    assert [(n, v) for n, _, v in got] == [
        (1, NotJson("the header row: not valid UTF-8 (byte 17); no row can be read without it", True))]


def test_a_csv_cell_over_the_csv_modules_limit_is_a_rejected_line(folder, cli):
    rows = [_csv_row(1), _csv_row(2, b"x" * 140_000), _csv_row(3)]
    (folder / "events.csv").write_bytes(CSV_HEADER + b"".join(rows))
    result = cli("simulate", "sales.funnel", "--events", "events.csv", "--csv-map", CSV_MAP, "--on-error", "skip")
    assert result.exit_code == 0, result.stderr
    assert "events.csv:3: rejected: column 5 `owner`: a cell over 131,072 characters, the most the csv module reads" \
        in result.stderr
    assert result.stdout.splitlines()[-1] == "lines: 4 = 2 applied + 1 rejected + 1 blank; 2 deals"


def test_a_csv_line_over_the_limit_is_read_past():
    text = CSV_HEADER + _csv_row(1) + b"O-2,2026-01-02,created,200," + b"y" * 500 + b"\n" + _csv_row(3)
    got = list(csv_rows(io.BytesIO(text), {"deal": "opportunity", "ts": "when", "type": "kind"}, limit=300))
    assert [n for n, _, _ in got] == [1, 2, 3, 4]
    assert got[2][2] == NotJson("a line over 300 characters")
    assert got[3][2]["deal"] == "O-3"


# JSON lines nested too deep or too long ------------------------------------------------

DEEP_LINES = [
    '{"id": "x", "deal": ' + "[" * 3000 + "]" * 3000 + ', "ts": "2026-01-01", "type": "created"}',
    '{"id": "x", "deal": ' + "[" * 1000 + "]" * 1000 + ', "ts": "2026-01-01", "type": "created"}',
    '{"id": "x", "deal": "D", "fieldsx": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + ', "ts": "2026-01-01"}',
    "[" * 100_000,
]


@pytest.mark.parametrize("line", DEEP_LINES, ids=["3000 deep", "1000 deep", "1000 objects", "100000 open"])
def test_a_line_nested_thousands_deep_is_rejected_and_the_replay_goes_on(folder, line):
    text = "\n".join(EVENTS[:2] + [line] + EVENTS[2:4]) + "\n"
    (folder / "events.jsonl").write_text(text, encoding="utf-8")
    for events in ("events.jsonl", text.splitlines()):          # a file, and lines given to the API
        result = simulate(str(folder / "sales.funnel"), events, on_error="skip")
        assert [(r.line, r.reason) for r in result.rejects] == [
            (3, f"JSON nested more than {MAX_DEPTH} levels deep; an event needs 3")]
        assert result.totals.applied == 4


def test_brackets_inside_strings_are_not_nesting():
    line = '{"id": 1, "deal": "' + "[{" * 100 + '", "ts": "2026-01-01", "type": "created"}'
    assert list(json_lines([line]))[0][2]["deal"] == "[{" * 100


def test_a_line_over_the_limit_is_read_past_and_only_its_start_kept():
    stream = io.BytesIO(b'{"a": 1}\n' + b"z" * 5000 + b"\n" + b'{"b": 2}\n')
    got = list(json_lines(lines_of(stream, limit=1000)))
    assert [n for n, _, _ in got] == [1, 2, 3]
    assert got[1][2] == NotJson("a line of 5,001 bytes; an event line may have at most 1,000 (its first 1,024 are kept)")
    assert got[1][1] == b"z" * 1001
    assert got[2][2] == {"b": 2}


def test_a_gz_that_inflates_to_one_endless_line_is_refused_without_holding_it(folder, cli):
    """A 40 KB file that inflates to a 40 MB line: refused by its length (16 MiB), read past in pieces."""
    bomb = b"{" + b" " * (40 << 20) + b"}\n" + "\n".join(EVENTS[:3]).encode("utf-8") + b"\n"
    (folder / "events.jsonl.gz").write_bytes(gzip.compress(bomb, mtime=0))
    result = cli("simulate", "sales.funnel", "--events", "events.jsonl.gz", "--on-error", "skip")
    assert result.exit_code == 0
    assert "events.jsonl.gz:1: rejected: a line of 41,943,043 bytes; an event line may have at most 16,777,216" \
        in result.stderr
    assert result.stdout.splitlines()[-1] == "lines: 4 = 3 applied + 1 rejected + 0 blank; 3 deals"


def test_an_unread_line_keeps_its_number_among_the_others():
    got = list(json_lines([b'{"a": 1}\n', Unread("why", b"start")]))
    assert got[1] == (2, b"start", NotJson("why"))


def test_the_spec_used_here_is_clean():
    assert load("sales.funnel", SPEC)[0] is not None
