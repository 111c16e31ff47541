"""`funnel simulate --cluster dask://...` on a LocalCluster of 2 worker processes (loopback only): byte for byte
what one process gives, on the examples, on a generated stream, from Parquet, and with a worker killed mid-run."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from conftest import EXAMPLES

distributed = pytest.importorskip("distributed")

EXAMPLE_SPECS = sorted(p for p in EXAMPLES.glob("*.funnel") if p.with_suffix(".events.jsonl").exists())
SECURITY = EXAMPLES / "security_b2b.funnel"


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes of one thread each, listening on 127.0.0.1; no dashboard."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as local:
        yield local


@pytest.fixture
def on_cluster(cluster):
    return ["--cluster", "dask://" + cluster.scheduler_address.removeprefix("tcp://")]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A sampled stream of 3,000 deals with a few bad lines among them."""
    from click.testing import CliRunner

    from funnelspec.cli import main

    folder = tmp_path_factory.mktemp("generated")
    stream = folder / "history.jsonl"
    result = CliRunner().invoke(main, ["sample", str(SECURITY), "--deals", "3000", "--seed", "7", "-o", str(stream)])
    assert result.exit_code == 0, result.output
    lines = stream.read_bytes().splitlines(keepends=True)
    for at in (10, 5000, len(lines) - 3):
        lines.insert(at, b'{"deal": "broken", "ts": "not a time", "type": "created"}\n')
    stream.write_bytes(b"".join(lines))
    return stream


def run(cli, *args) -> tuple[int, str, str]:
    result = cli(*args)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=[p.stem for p in EXAMPLE_SPECS])
def test_examples_are_the_same_on_the_cluster(spec, cli, on_cluster):
    args = ["simulate", str(spec), "--events", str(spec.with_suffix(".events.jsonl")), "--format", "jsonl"]
    one = run(cli, *args)
    assert one[0] == 0 and '"outcome"' in one[1]
    assert run(cli, *args, *on_cluster) == one


def test_a_generated_stream_with_bad_lines_is_the_same_on_the_cluster(generated, tmp_path, cli, on_cluster):
    args = ["simulate", str(SECURITY), "--events", str(generated), "--on-error", "skip", "--report", "text",
            "--by", "source", "--result"]
    one = run(cli, *args, str(tmp_path / "one.json"), "--rejects", str(tmp_path / "one.rejects"))
    assert one[0] == 0 and "Traceback" not in one[2]
    two = run(cli, *args, str(tmp_path / "two.json"), "--rejects", str(tmp_path / "two.rejects"), *on_cluster)
    assert two == one
    assert (tmp_path / "two.json").read_bytes() == (tmp_path / "one.json").read_bytes()
    assert (tmp_path / "two.rejects").read_bytes() == (tmp_path / "one.rejects").read_bytes()
    assert (tmp_path / "one.rejects").read_bytes().count(b"broken") == 3


def test_the_first_bad_line_stops_the_cluster_run_as_it_stops_one_process(generated, cli, on_cluster):
    args = ["simulate", str(SECURITY), "--events", str(generated)]
    one = run(cli, *args)
    assert one[0] == 2 and ":11:" in one[2]
    assert run(cli, *args, *on_cluster) == one


def test_parquet_on_the_cluster_gives_what_json_lines_gives_on_one_process(generated, tmp_path, cli, on_cluster):
    pytest.importorskip("pyarrow")
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(b"".join(line for line in generated.read_bytes().splitlines(keepends=True)
                               if b"broken" not in line))
    parquet = tmp_path / "history.parquet"
    assert cli("convert", "events", str(clean), "--to", "parquet", "-o", str(parquet)).exit_code == 0
    one = run(cli, "simulate", str(SECURITY), "--events", str(clean), "--format", "json")
    assert run(cli, "simulate", str(SECURITY), "--events", str(parquet), "--format", "json", *on_cluster) == one


def _same_with_a_worker_killed(cluster, events, *, only_shares: bool, **options) -> None:
    """Replay `events` on the cluster while a thread kills the process of a busy worker (one replaying a share
    when `only_shares`); the result must be one process's, and the worker must have been killed."""
    from funnelspec.api import load
    from funnelspec.engine.cluster import run_on_cluster
    from funnelspec.engine.simulate import CollectingSink, replay_events

    spec, _ = load(str(SECURITY))
    one = replay_events(spec, str(events), on_error="skip")
    client = distributed.Client(cluster.scheduler_address)
    killed = []

    def busy(keys) -> bool:
        return any("-share-" in str(key) for key in keys) if only_shares else bool(keys)

    def kill_a_busy_worker():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            working = [address for address, keys in client.processing().items() if busy(keys)]
            if working:
                pid = client.run(os.getpid, workers=[working[0]])[working[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.02)

    try:
        killer = threading.Thread(target=kill_a_busy_worker)
        killer.start()
        sink = CollectingSink()
        run = run_on_cluster(spec, str(events), sink, client=client, on_error="skip", shares=2, **options)
        killer.join()
        assert killed, "no worker was busy to be killed"
        assert list(run.outcomes) == list(one.outcomes)
        assert sink.actions == one.actions and sink.violations == one.violations
        assert sink.rejects == one.rejects and run.totals == one.totals
    finally:
        client.wait_for_workers(2, timeout=60)
        client.close()


def test_a_worker_killed_mid_run_is_replaced_and_the_result_is_the_same(generated, cluster):
    """A share's task whose worker process is killed is run again by Dask on a worker the nanny starts."""
    _same_with_a_worker_killed(cluster, generated, only_shares=False)


def test_without_dask_the_option_says_how_to_install_it(cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)       # import distributed raises ImportError
    code, out, err = run(cli, "simulate", str(SECURITY), "--events", str(SECURITY.with_suffix(".events.jsonl")),
                         "--cluster", "dask")
    assert code == 2 and out == ""
    assert err == "error: --cluster dask needs dask and distributed: pip install 'funnelspec[dask]'\n"


def test_a_cluster_that_is_not_dask_is_refused(cli):
    code, _, err = run(cli, "simulate", str(SECURITY), "--events", str(SECURITY.with_suffix(".events.jsonl")),
                       "--cluster", "spark://x:1")
    assert code == 2 and "give `dask` (a cluster on this machine) or dask://HOST:PORT" in err


DIFF_CASES = sorted(p for p in (EXAMPLES.parent / "tests" / "cases" / "diff").iterdir()
                    if (p / "old.funnel").exists() and (p / "new.funnel").exists()
                    and any(p.glob("*.jsonl")))


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_diff_of_a_generated_stream_is_the_same_on_the_cluster(fmt, generated, cli, on_cluster):
    args = ["diff", str(EXAMPLES / "b2b_basic.funnel"), str(SECURITY), "--events", str(generated),
            "--format", fmt, "--limit", "50"]
    clean = generated.with_name("clean.jsonl")
    clean.write_bytes(b"".join(line for line in generated.read_bytes().splitlines(keepends=True)
                               if b"broken" not in line))
    args[args.index(str(generated))] = str(clean)
    one = run(cli, *args)
    assert one[0] == 1 and "deal" in one[1]
    assert run(cli, *args, *on_cluster) == one


@pytest.mark.parametrize("case", DIFF_CASES, ids=[p.name for p in DIFF_CASES])
def test_diff_cases_are_the_same_on_the_cluster(case, cli, on_cluster):
    events = sorted(case.glob("*.jsonl"))[0]
    args = ["diff", str(case / "old.funnel"), str(case / "new.funnel"), "--events", str(events), "--format", "json"]
    one = run(cli, *args)
    assert run(cli, *args, *on_cluster) == one


def test_the_first_bad_line_stops_a_diff_on_the_cluster_as_on_one_process(generated, cli, on_cluster):
    args = ["diff", str(EXAMPLES / "b2b_basic.funnel"), str(SECURITY), "--events", str(generated)]
    one = run(cli, *args)
    assert one[0] == 2 and ":11:" in one[2]
    assert run(cli, *args, *on_cluster) == one


# --partitioned-by-deal: each share reads only its own files ---------------------------------------------

def split_by_deal(lines: list[bytes], folder, parts: int, suffix: str = ".jsonl") -> None:
    """The lines into `parts` files of `folder` by a hash of their deal (lines without one to the first file),
    each file keeping the lines' order: a stream partitioned by deal."""
    import json
    import zlib

    folder.mkdir()
    files = [[] for _ in range(parts)]
    for line in lines:
        try:
            deal = json.loads(line).get("deal")
        except (ValueError, AttributeError):
            deal = None
        files[zlib.crc32(str(deal).encode()) % parts if deal is not None else 0].append(line)
    for i, chosen in enumerate(files):
        (folder / f"part-{i}{suffix}").write_bytes(b"".join(chosen))


@pytest.fixture(scope="module")
def partitioned(generated, tmp_path_factory):
    """The generated stream (its bad lines too) in 5 files split by deal, one of them gzipped."""
    import gzip

    folder = tmp_path_factory.mktemp("partitioned") / "history"
    split_by_deal(generated.read_bytes().splitlines(keepends=True), folder, 5)
    last = folder / "part-4.jsonl"
    (folder / "part-4.jsonl.gz").write_bytes(gzip.compress(last.read_bytes()))
    last.unlink()
    return folder


@pytest.fixture
def partitioned_on_cluster(on_cluster):
    return [*on_cluster, "--partitioned-by-deal"]


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=[p.stem for p in EXAMPLE_SPECS])
def test_examples_split_by_deal_are_the_same_on_the_cluster(spec, tmp_path, cli, partitioned_on_cluster):
    folder = tmp_path / "events"
    split_by_deal(spec.with_suffix(".events.jsonl").read_bytes().splitlines(keepends=True), folder, 3)
    args = ["simulate", str(spec), "--events", str(folder), "--format", "jsonl"]
    one = run(cli, *args)
    assert one[0] == 0 and '"outcome"' in one[1]
    assert run(cli, *args, *partitioned_on_cluster) == one


def test_a_partitioned_stream_with_bad_lines_is_the_same_on_the_cluster(partitioned, tmp_path, cli,
                                                                         partitioned_on_cluster):
    args = ["simulate", str(SECURITY), "--events", str(partitioned), "--on-error", "skip", "--report", "text",
            "--by", "source", "--result"]
    one = run(cli, *args, str(tmp_path / "one.json"), "--rejects", str(tmp_path / "one.rejects"))
    assert one[0] == 0 and "Traceback" not in one[2]
    two = run(cli, *args, str(tmp_path / "two.json"), "--rejects", str(tmp_path / "two.rejects"),
              *partitioned_on_cluster)
    assert two == one
    assert (tmp_path / "two.json").read_bytes() == (tmp_path / "one.json").read_bytes()
    assert (tmp_path / "two.rejects").read_bytes() == (tmp_path / "one.rejects").read_bytes()
    assert (tmp_path / "one.rejects").read_bytes().count(b"broken") == 3


def test_the_first_bad_line_of_a_partitioned_stream_stops_the_cluster_run_as_it_stops_one_process(
        partitioned, cli, partitioned_on_cluster):
    args = ["simulate", str(SECURITY), "--events", str(partitioned)]
    one = run(cli, *args)
    assert one[0] == 2 and one[2].startswith(f"error: {partitioned}:3: ")
    assert run(cli, *args, *partitioned_on_cluster) == one


def test_a_folder_of_parquet_files_split_by_deal_gives_what_its_json_lines_give(generated, tmp_path, cli,
                                                                                partitioned_on_cluster):
    pytest.importorskip("pyarrow")
    clean = [line for line in generated.read_bytes().splitlines(keepends=True) if b"broken" not in line]
    split_by_deal(clean, tmp_path / "jsonl", 4)
    (tmp_path / "parquet").mkdir()
    for part in sorted((tmp_path / "jsonl").iterdir()):
        target = tmp_path / "parquet" / part.with_suffix(".parquet").name
        assert cli("convert", "events", str(part), "--to", "parquet", "-o", str(target)).exit_code == 0
    one = run(cli, "simulate", str(SECURITY), "--events", str(tmp_path / "jsonl"), "--format", "json")
    assert one[0] == 0
    assert run(cli, "simulate", str(SECURITY), "--events", str(tmp_path / "parquet"), "--format", "json",
               *partitioned_on_cluster) == one


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_diff_of_a_partitioned_stream_is_the_same_on_the_cluster(fmt, generated, tmp_path, cli,
                                                                 partitioned_on_cluster):
    clean = [line for line in generated.read_bytes().splitlines(keepends=True) if b"broken" not in line]
    split_by_deal(clean, tmp_path / "history", 3)
    args = ["diff", str(EXAMPLES / "b2b_basic.funnel"), str(SECURITY), "--events", str(tmp_path / "history"),
            "--format", fmt, "--limit", "50"]
    one = run(cli, *args)
    assert one[0] == 1 and "deal" in one[1]
    assert run(cli, *args, *partitioned_on_cluster) == one


@pytest.fixture
def crossing(generated, tmp_path):
    """The generated stream without its bad lines in 3 files split by deal, and one more line for a deal of
    part-0 at the end of part-2: (the folder, the deal, its first line in part-0, the line added in part-2)."""
    folder = tmp_path / "history"
    split_by_deal([line for line in generated.read_bytes().splitlines(keepends=True) if b"broken" not in line],
                  folder, 3)
    lines = (folder / "part-0.jsonl").read_bytes().splitlines(keepends=True)
    moved = next(line for line in lines if b'"type": "updated"' in line)
    deal = moved.split(b'"deal": "')[1].split(b'"')[0].decode()
    first = next(n for n, line in enumerate(lines, 1) if f'"deal": "{deal}"'.encode() in line)
    part_2 = folder / "part-2.jsonl"
    at = len(part_2.read_bytes().splitlines()) + 1
    part_2.write_bytes(part_2.read_bytes() + moved)
    return folder, deal, first, at


@pytest.mark.parametrize("on_error", ["stop", "skip"])
def test_a_deal_in_two_files_of_a_partitioned_stream_is_refused(crossing, on_error, tmp_path, cli,
                                                               partitioned_on_cluster):
    folder, deal, first, at = crossing
    output = tmp_path / "result.jsonl"
    code, out, err = run(cli, "simulate", str(SECURITY), "--events", str(folder), "--on-error", on_error,
                         "-o", str(output), *partitioned_on_cluster)
    assert code == 2 and out == "" and not output.exists()
    line = sum(len(p.read_bytes().splitlines()) for p in (folder / "part-0.jsonl", folder / "part-1.jsonl")) + at
    assert err == (f"error: {folder}:{line}: ({folder}/part-2.jsonl, line {at}) deal `{deal}` also has events in "
                   f"{folder}/part-0.jsonl, line {first}: with --partitioned-by-deal every deal's events must be "
                   "in one file\n")


def test_a_diff_of_a_deal_in_two_files_is_refused(crossing, cli, partitioned_on_cluster):
    folder, deal, _, _ = crossing
    code, out, err = run(cli, "diff", str(EXAMPLES / "b2b_basic.funnel"), str(SECURITY), "--events", str(folder),
                         *partitioned_on_cluster)
    assert code == 2 and out == ""
    assert f"deal `{deal}` also has events in" in err and "every deal's events must be in one file" in err


def test_partitioned_by_deal_needs_a_cluster_and_files(partitioned, cli, on_cluster):
    code, _, err = run(cli, "simulate", str(SECURITY), "--events", str(partitioned), "--partitioned-by-deal")
    assert code == 2 and err == ("error: --partitioned-by-deal goes with --cluster: --workers splits the deals of "
                                 "any stream itself\n")
    one_file = str(SECURITY.with_suffix(".events.jsonl"))
    code, _, err = run(cli, "simulate", str(SECURITY), "--events", one_file, "--partitioned-by-deal", *on_cluster)
    assert code == 2 and err == (f"error: --partitioned-by-deal: `{one_file}` is one file; give a directory or a "
                                 "glob of files, each holding whole deals\n")


def test_a_worker_killed_in_a_partitioned_run_is_replaced_and_the_result_is_the_same(partitioned, cluster):
    _same_with_a_worker_killed(cluster, partitioned, only_shares=True, partitioned=True)


def test_share_files_the_client_cannot_see_are_fetched_from_their_workers(partitioned, tmp_path, cluster,
                                                                        monkeypatch):
    """As on a cluster of other machines: each share's files come a block at a time from the worker that
    wrote them, and the result is the same; the workers' folders are gone afterwards."""
    import glob
    import tempfile

    from funnelspec.api import load
    from funnelspec.engine import cluster as on_dask
    from funnelspec.engine.simulate import replay_events
    from funnelspec.engine.sinks import SpoolingSink

    spec, _ = load(str(SECURITY))
    one = replay_events(spec, str(partitioned), on_error="skip")
    monkeypatch.setattr(on_dask, "_readable_here", lambda path, size: False)
    monkeypatch.setattr(on_dask, "FETCH_BYTES", 4096)
    client = distributed.Client(cluster.scheduler_address)
    fetched = []
    submit = client.submit
    client.submit = lambda function, *args, **options: (fetched.append(function is on_dask._read_part)
                                                        or submit(function, *args, **options))
    try:
        sink = SpoolingSink(None)
        run = on_dask.run_on_cluster(spec, str(partitioned), sink, client=client, on_error="skip",
                                     partitioned=True)
        assert list(run.outcomes) == list(one.outcomes)
        assert list(sink.actions) == one.actions and list(sink.violations) == one.violations
    finally:
        client.close()
    assert fetched.count(True) > 10
    assert not glob.glob(f"{tempfile.gettempdir()}/funnel-{'?' * 32}-*")


@pytest.mark.parametrize("command", ["simulate", "diff"])
def test_a_line_of_a_folder_is_named_in_its_file_as_one_process_names_it(command, generated, tmp_path,
                                                                        monkeypatch, cli, on_cluster):
    """The workers open the folder's files by absolute path; messages still name them as the user did."""
    split_by_deal([line for line in generated.read_bytes().splitlines(keepends=True) if b"broken" not in line],
                  tmp_path / "history", 3)
    with open(tmp_path / "history" / "part-1.jsonl", "ab") as part:
        part.write(b"not json\n")
    monkeypatch.chdir(tmp_path)
    specs = [str(SECURITY)] if command == "simulate" else [str(EXAMPLES / "b2b_basic.funnel"), str(SECURITY)]
    args = [command, *specs, "--events", "history"]
    one = run(cli, *args)
    assert one[0] == 2 and "(history/part-1.jsonl, line " in one[2]
    assert run(cli, *args, *on_cluster) == one


# the shuffle by deal: a stream not partitioned by deal, read in pieces side by side -------------------------

@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces of 16 kB at least, so that a test's stream of a few MB is read in many byte ranges."""
    from funnelspec.engine import shuffle

    monkeypatch.setattr(shuffle, "MIN_PIECE_BYTES", 16 << 10)
    monkeypatch.setattr(shuffle, "PIECE_BYTES", 256 << 10)


def test_one_file_is_read_in_several_byte_ranges(generated, small_pieces):
    from funnelspec.engine.shuffle import plan

    pieces = plan(str(generated), None, "history", 2).pieces
    assert len(pieces) > 4 and {piece.file for piece in pieces} == {0}
    assert pieces[0].start == 0 and pieces[-1].stop == generated.stat().st_size
    assert all(a.stop == b.start for a, b in zip(pieces, pieces[1:]))


def test_a_stream_read_in_byte_ranges_with_bad_lines_is_the_same_on_the_cluster(generated, tmp_path, cli,
                                                                                 on_cluster, small_pieces):
    args = ["simulate", str(SECURITY), "--events", str(generated), "--on-error", "skip", "--report", "text",
            "--by", "source", "--result"]
    one = run(cli, *args, str(tmp_path / "one.json"), "--rejects", str(tmp_path / "one.rejects"))
    assert one[0] == 0 and "Traceback" not in one[2]
    two = run(cli, *args, str(tmp_path / "two.json"), "--rejects", str(tmp_path / "two.rejects"), *on_cluster)
    assert two == one
    assert (tmp_path / "two.json").read_bytes() == (tmp_path / "one.json").read_bytes()
    assert (tmp_path / "two.rejects").read_bytes() == (tmp_path / "one.rejects").read_bytes()
    assert (tmp_path / "one.rejects").read_bytes().count(b"broken") == 3


def test_odd_lines_across_byte_ranges_are_the_same_on_the_cluster(generated, tmp_path, cli, on_cluster,
                                                                 small_pieces):
    """Blank and comment lines, lines that are not JSON or not UTF-8, a byte-order mark inside the file and a
    line with no deal, spread over the ranges: rejected and numbered as one process does."""
    lines = generated.read_bytes().splitlines(keepends=True)
    odd = [b"\n", b"# a comment\n", b"not json\n", b"\xff\xfe{}\n", b"\xef\xbb\xbf{\"deal\": \"D-x\"}\n",
           b'{"ts": "2026-01-01T00:00:00Z", "type": "created"}\n', b"[1, 2]\n", b"   \n"]
    for at, line in zip(range(7, len(lines), len(lines) // len(odd)), odd):
        lines.insert(at, line)
    stream = tmp_path / "odd.jsonl"
    stream.write_bytes(b"".join(lines) + b'{"deal": "D-last", "type": "created"}')      # no newline at the end
    args = ["simulate", str(SECURITY), "--events", str(stream), "--on-error", "skip", "--format", "jsonl"]
    one = run(cli, *args, "--rejects", str(tmp_path / "one.rejects"))
    assert one[0] == 0
    assert run(cli, *args, "--rejects", str(tmp_path / "two.rejects"), *on_cluster) == one
    assert (tmp_path / "two.rejects").read_bytes() == (tmp_path / "one.rejects").read_bytes()
    stop = run(cli, "simulate", str(SECURITY), "--events", str(stream))
    assert stop[0] == 2
    assert run(cli, "simulate", str(SECURITY), "--events", str(stream), *on_cluster) == stop


def test_the_first_bad_line_of_a_stream_in_byte_ranges_stops_the_cluster_run(generated, cli, on_cluster,
                                                                             small_pieces):
    args = ["simulate", str(SECURITY), "--events", str(generated)]
    one = run(cli, *args)
    assert one[0] == 2 and ":11:" in one[2]
    assert run(cli, *args, *on_cluster) == one


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_diff_of_a_stream_in_byte_ranges_is_the_same_on_the_cluster(fmt, generated, tmp_path, cli, on_cluster,
                                                                    small_pieces):
    clean = tmp_path / "clean.jsonl"
    clean.write_bytes(b"".join(line for line in generated.read_bytes().splitlines(keepends=True)
                               if b"broken" not in line))
    args = ["diff", str(EXAMPLES / "b2b_basic.funnel"), str(SECURITY), "--events", str(clean),
            "--format", fmt, "--limit", "50"]
    one = run(cli, *args)
    assert one[0] == 1 and "deal" in one[1]
    assert run(cli, *args, *on_cluster) == one


def test_a_folder_whose_deals_cross_files_is_shuffled(generated, tmp_path, cli, on_cluster, small_pieces):
    """A folder not split by deal (a deal's events in several files, one of them gzipped, one CSV-free
    Parquet-free JSON Lines file large enough to be cut in ranges): the same as one process reads it."""
    import gzip

    lines = [line for line in generated.read_bytes().splitlines(keepends=True) if b"broken" not in line]
    lines.insert(len(lines) // 2, b"not json\n")
    folder = tmp_path / "history"
    folder.mkdir()
    third = len(lines) // 3
    (folder / "a.jsonl").write_bytes(b"".join(lines[:third]))
    (folder / "b.jsonl.gz").write_bytes(gzip.compress(b"".join(lines[third:2 * third])))
    (folder / "c.jsonl").write_bytes(b"".join(lines[2 * third:]))
    args = ["simulate", str(SECURITY), "--events", str(folder), "--on-error", "skip", "--format", "jsonl"]
    one = run(cli, *args, "--rejects", str(tmp_path / "one.rejects"))
    assert one[0] == 0
    assert run(cli, *args, "--rejects", str(tmp_path / "two.rejects"), *on_cluster) == one
    assert (tmp_path / "two.rejects").read_bytes() == (tmp_path / "one.rejects").read_bytes()
    stop = run(cli, "simulate", str(SECURITY), "--events", str(folder))
    assert stop[0] == 2 and f"({folder}/b.jsonl.gz, line " in stop[2]
    assert run(cli, "simulate", str(SECURITY), "--events", str(folder), *on_cluster) == stop


def test_a_worker_killed_after_the_shuffle_is_replaced_and_the_result_is_the_same(generated, cluster,
                                                                                   small_pieces):
    """Its share's task runs again, and so do the pieces whose buckets that worker held (Dask recomputes the
    lost results the share needs)."""
    _same_with_a_worker_killed(cluster, generated, only_shares=True)


def _buckets_unseen(unseen: bool) -> int:
    """Run on each worker: buckets fetched from the worker that wrote them (as on other machines) from now on,
    or seen in place again; returns how many buckets it did not see in place meanwhile."""
    from funnelspec.engine import shuffle

    if unseen:
        shuffle._seen_in_place, shuffle._unseen = shuffle._readable_here, []
        shuffle._readable_here = lambda path, size: shuffle._unseen.append(path) or False
        return 0
    shuffle._readable_here = shuffle._seen_in_place
    return len(shuffle._unseen)


def test_buckets_a_worker_cannot_see_are_fetched_from_the_worker_that_wrote_them(generated, cluster,
                                                                                 small_pieces):
    import glob
    import tempfile

    from funnelspec.api import load
    from funnelspec.engine.cluster import run_on_cluster
    from funnelspec.engine.simulate import replay_events
    from funnelspec.engine.sinks import SpoolingSink

    spec, _ = load(str(SECURITY))
    one = replay_events(spec, str(generated), on_error="skip")
    client = distributed.Client(cluster.scheduler_address)
    client.run(_buckets_unseen, True)
    try:
        sink = SpoolingSink(None)
        run = run_on_cluster(spec, str(generated), sink, client=client, on_error="skip")
        assert list(run.outcomes) == list(one.outcomes)
        assert list(sink.actions) == one.actions and list(sink.violations) == one.violations
    finally:
        fetched = client.run(_buckets_unseen, False)
        client.close()
    assert sum(fetched.values()) > 4
    assert not glob.glob(f"{tempfile.gettempdir()}/funnel-{'?' * 32}-*")


def test_a_folder_of_a_csv_file_and_a_json_lines_file_is_shuffled_as_one_process_reads_it(tmp_path, cli,
                                                                                         on_cluster):
    """A CSV file is one piece, its rows' events kept in its buckets as read (they cannot be decoded again
    from the raw text)."""
    import csv
    import json

    events = [json.loads(line) for line in SECURITY.with_suffix(".events.jsonl").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    keys = ["id", "deal", "ts", "type", "stage", "to", "reason"]
    folder = tmp_path / "history"
    folder.mkdir()
    half = len(events) // 2
    with open(folder / "a.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(keys)
        for event in events[:half]:
            writer.writerow([event.get(key, "") for key in keys])
        writer.writerow(["x", "D-odd"])               # a row of 2 cells under a header of 7
    (folder / "b.jsonl").write_text("".join(json.dumps(event) + "\n" for event in events[half:]))
    args = ["simulate", str(SECURITY), "--events", str(folder), "--on-error", "skip", "--format", "jsonl"]
    one = run(cli, *args, "--rejects", str(tmp_path / "one.rejects"))
    assert one[0] == 0 and '"outcome"' in one[1]
    assert run(cli, *args, "--rejects", str(tmp_path / "two.rejects"), *on_cluster) == one
    assert (tmp_path / "two.rejects").read_bytes() == (tmp_path / "one.rejects").read_bytes()
    assert b"D-odd" in (tmp_path / "one.rejects").read_bytes()


def test_stdin_is_shuffled_as_the_file_it_is_copied_to(generated, cli, on_cluster, small_pieces):
    args = ["simulate", str(SECURITY), "--events", "-", "--on-error", "skip", "--format", "jsonl"]
    text = generated.read_text()
    one = cli(*args, input=text)
    assert one.exit_code == 0
    two = cli(*args, *on_cluster, input=text)
    assert (two.exit_code, two.stdout, two.stderr) == (one.exit_code, one.stdout, one.stderr)
