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


def test_a_worker_killed_mid_run_is_replaced_and_the_result_is_the_same(generated, tmp_path, cli, cluster):
    """A share's task whose worker process is killed is run again by Dask on a worker the nanny starts."""
    from funnelspec.api import load
    from funnelspec.engine.cluster import run_on_cluster
    from funnelspec.engine.simulate import CollectingSink, replay_events

    spec, _ = load(str(SECURITY))
    one = replay_events(spec, str(generated), on_error="skip")
    client = distributed.Client(cluster.scheduler_address)
    killed = []

    def kill_a_busy_worker():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [address for address, keys in client.processing().items() if keys]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.02)

    try:
        killer = threading.Thread(target=kill_a_busy_worker)
        killer.start()
        sink = CollectingSink()
        run = run_on_cluster(spec, str(generated), sink, client=client, on_error="skip", shares=2)
        killer.join()
        assert killed, "no worker was busy to be killed"
        assert list(run.outcomes) == list(one.outcomes)
        assert sink.actions == one.actions and sink.violations == one.violations
        assert sink.rejects == one.rejects and run.totals == one.totals
    finally:
        client.wait_for_workers(2, timeout=60)
        client.close()


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
