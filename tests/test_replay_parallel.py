"""`funnel simulate --workers N` gives byte for byte what one process gives: examples, replay cases, bad lines, stdin."""
from __future__ import annotations

import shlex
import shutil

import pytest

from conftest import CASES, EXAMPLES
from test_replay_cases import case_args

from funnelspec.engine.parallel import can_fork, worker_of

pytestmark = pytest.mark.skipif(not can_fork(), reason="workers are forked processes")

CASE_DIRS = sorted(p for p in (CASES / "replay").iterdir() if p.is_dir())
EXAMPLE_SPECS = sorted(p for p in EXAMPLES.glob("*.funnel") if p.with_suffix(".events.jsonl").exists())


def run_in(folder, args, cli, input=None) -> str:
    """Everything a user sees of one run in `folder`: exit code, stdout, stderr, files written there."""
    before = {p.name for p in folder.iterdir()}
    result = cli(*args, input=input)
    written = sorted(p for p in folder.iterdir() if p.name not in before)
    parts = [f"exit {result.exit_code}", result.stdout, result.stderr]
    for path in written:
        parts += [f"--- {path.name}", path.read_bytes().decode("utf-8")]
        path.unlink()
    return "\n".join(parts)


@pytest.mark.parametrize("folder", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_replay_cases_are_the_same_on_two_and_three_workers(folder, tmp_path, monkeypatch, cli):
    work = tmp_path / folder.name
    shutil.copytree(folder, work)
    monkeypatch.chdir(work)
    args = case_args(folder)
    one = run_in(work, args, cli)
    assert run_in(work, args + ["--workers", "2"], cli) == one
    assert run_in(work, args + ["--workers", "3"], cli) == one


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=[p.stem for p in EXAMPLE_SPECS])
def test_examples_are_the_same_on_two_workers(spec, fmt, tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    args = ["simulate", str(spec), "--events", str(spec.with_suffix(".events.jsonl")), "--format", fmt,
            "-o", "result.out"]
    one = run_in(tmp_path, args, cli)
    assert '"outcome' in one
    assert run_in(tmp_path, args + ["--workers", "2"], cli) == one


def test_the_text_summary_and_the_report_are_the_same_on_two_workers(tmp_path, monkeypatch, cli):
    spec = EXAMPLES / "security_b2b.funnel"
    monkeypatch.chdir(tmp_path)
    args = ["simulate", str(spec), "--events", str(spec.with_suffix(".events.jsonl")), "--report", "text",
            "--by", "source"]
    one = run_in(tmp_path, args, cli)
    assert "exit 0" in one
    assert run_in(tmp_path, args + ["--workers", "2"], cli) == one


def test_the_first_bad_line_over_all_workers_stops_the_run(tmp_path, monkeypatch, cli):
    """Bad lines of deals on different workers: the one reported is the earliest, as with one process."""
    spec = EXAMPLES / "security_b2b.funnel"
    lines = spec.with_suffix(".events.jsonl").read_text(encoding="utf-8").splitlines()
    deals = ["D-0001", "D-0002", "D-0003", "D-0004"]
    assert len({worker_of({"deal": d}, 2) for d in deals}) == 2, "the bad lines must fall on both workers"
    for offset, deal in zip((40, 60, 80, 100), deals):
        lines.insert(offset, f'{{"id": "bad-{deal}", "deal": "{deal}", "ts": "2027-13-01", "type": "updated", '
                             f'"fields": {{}}}}')
    lines.insert(50, "{not json")
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    stop = ["simulate", str(spec), "--events", "events.jsonl", "--format", "json"]
    one = run_in(tmp_path, stop, cli)
    assert "exit 2" in one and "events.jsonl:41:" in one
    assert run_in(tmp_path, stop + ["--workers", "2"], cli) == one
    skip = stop + ["--on-error", "skip", "--rejects", "rejects.txt", "-o", "result.json"]
    one = run_in(tmp_path, skip, cli)
    assert "--- rejects.txt" in one and "events.jsonl:51:" in one
    assert run_in(tmp_path, skip + ["--workers", "2"], cli) == one


def test_stdin_is_the_same_on_two_workers(tmp_path, monkeypatch, cli):
    spec = EXAMPLES / "saas.funnel"
    text = spec.with_suffix(".events.jsonl").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = ["simulate", str(spec), "--events", "-", "--format", "jsonl"]
    one = run_in(tmp_path, args, cli, input=text)
    assert "exit 0" in one
    assert run_in(tmp_path, args + ["--workers", "2"], cli, input=text) == one


def test_deals_are_split_by_a_stable_hash_of_their_id():
    """CRC-32 of the id: the split does not change between runs (Python's str hash is salted per process)."""
    assert [worker_of({"deal": d}, 4) for d in ("a", "Сделка-1", "D-0001")] == [3, 1, 0]
    assert worker_of({"deal": 17}, 4) == worker_of({"deal": "17"}, 4)
    assert worker_of("{not an event", 4) == worker_of({"deal": None}, 4) == 0


def test_zero_workers_is_refused(cli):
    spec = EXAMPLES / "saas.funnel"
    result = cli("simulate", str(spec), "--events", str(spec.with_suffix(".events.jsonl")), "--workers", "0")
    assert result.exit_code == 2
    assert "--workers" in result.stderr


@pytest.mark.parametrize("workers", [2, 3])
def test_merged_shares_read_back_as_the_records_of_one_process(workers):
    """What the workers encoded (engine/shares.py) decodes to the records and outcomes one process keeps,
    and can be read more than once."""
    from funnelspec.api import load
    from funnelspec.engine.compile import compile_spec
    from funnelspec.engine.parallel import run_parallel
    from funnelspec.engine.simulate import replay_events
    from funnelspec.engine.sinks import SpoolingSink

    spec_path = EXAMPLES / "security_b2b.funnel"
    events = str(spec_path.with_suffix(".events.jsonl"))
    spec, _ = load(str(spec_path))
    one = replay_events(spec, events)
    sink = SpoolingSink()
    try:
        run = run_parallel(compile_spec(spec), events, sink, workers=workers, outcome_objects=False)
        assert len(run.outcomes) == len(one.outcomes) and len(sink.actions) == len(one.actions)
        assert [o.to_json() for o in run.outcomes] == [o.to_json() for o in one.outcomes]
        for section in ("actions", "violations", "problems"):
            merged = getattr(sink, section)
            assert [r.to_json() for r in merged] == [r.to_json() for r in getattr(one, section)]
            assert list(merged.json_lines()) == list(merged.json_lines())
    finally:
        sink.close()
        if hasattr(run.outcomes, "close"):
            run.outcomes.close()


def test_auto_is_one_worker_per_cpu_and_gives_the_same_output(tmp_path, monkeypatch, cli):
    import funnelspec.cli.common as common

    monkeypatch.setattr(common, "cpus", lambda: 3)
    spec = EXAMPLES / "saas.funnel"
    monkeypatch.chdir(tmp_path)
    args = ["simulate", str(spec), "--events", str(spec.with_suffix(".events.jsonl")), "--format", "json"]
    one = run_in(tmp_path, args, cli)
    assert "exit 0" in one
    assert run_in(tmp_path, args + ["--workers", "auto"], cli) == one
    assert common.WorkerCount().convert("AUTO", None, None) == 3


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_worker_count_that_is_not_one_or_more_or_auto_is_refused(cli, value):
    spec = EXAMPLES / "saas.funnel"
    result = cli("simulate", str(spec), "--events", str(spec.with_suffix(".events.jsonl")), "--workers", value)
    assert result.exit_code == 2
    assert "--workers" in result.stderr and "auto" in result.stderr


def test_a_worker_that_cannot_write_its_share_is_a_clear_error_and_no_output(tmp_path, monkeypatch, cli):
    """Disk full in a worker: the message a single process would give, exit 2, nothing half-written."""
    import funnelspec.engine.parallel as parallel

    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device", "/tmp/funnel-workers-x/1.outcomes.jsonl")

    monkeypatch.setattr(parallel, "write_outcomes", full)      # the forked workers inherit it
    spec = EXAMPLES / "saas.funnel"
    monkeypatch.chdir(tmp_path)
    result = cli("simulate", str(spec), "--events", str(spec.with_suffix(".events.jsonl")), "--format", "json",
                 "-o", "result.json", "--workers", "2")
    assert result.exit_code == 2
    assert "1.outcomes.jsonl: No space left on device" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_large_stream_file_gets_one_worker_per_cpu_by_default(tmp_path, monkeypatch, cli):
    """The default is `auto` from AUTO_WORKERS_BYTES on (here lowered to the example's size), 1 below it."""
    import funnelspec.cli.common as simulate_command
    import funnelspec.engine.parallel as parallel

    spec = EXAMPLES / "saas.funnel"
    events = spec.with_suffix(".events.jsonl")
    started = []
    real = parallel.run_parallel

    def spy(*args, **kwargs):
        started.append(kwargs["workers"])
        return real(*args, **kwargs)

    monkeypatch.setattr(parallel, "run_parallel", spy)
    monkeypatch.setattr(simulate_command, "cpus", lambda: 2)
    monkeypatch.chdir(tmp_path)
    args = ["simulate", str(spec), "--events", str(events), "--format", "json"]
    one = run_in(tmp_path, args + ["--workers", "1"], cli)
    monkeypatch.setattr(simulate_command, "AUTO_WORKERS_BYTES", events.stat().st_size + 1)
    assert run_in(tmp_path, args, cli) == one and started == []
    monkeypatch.setattr(simulate_command, "AUTO_WORKERS_BYTES", events.stat().st_size)
    assert run_in(tmp_path, args, cli) == one and started == [2]


def test_progress_is_reported_from_the_workers_up_to_the_whole_stream():
    from funnelspec.api import load
    from funnelspec.engine.compile import compile_spec
    from funnelspec.engine.parallel import run_parallel
    from funnelspec.engine.simulate import Sink

    spec_path = EXAMPLES / "security_b2b.funnel"
    events = spec_path.with_suffix(".events.jsonl")
    seen = []
    run = run_parallel(compile_spec(load(str(spec_path))[0]), str(events), Sink(), workers=2,
                       progress=lambda lines, read: seen.append((lines, read)))
    assert seen and seen[-1] == (run.totals.lines, events.stat().st_size)
    assert seen == sorted(seen)


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "200000 100000\n"}, 2),
    ({"cpu.max": "150000 100000\n"}, 2),             # one and a half CPUs: two workers
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "400000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 4),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),
])
def test_a_containers_cpu_quota_bounds_auto(tmp_path, files, expected):
    """A pod on a 64-core host with a 2-CPU limit sees 64 cores; `auto` must start 2 workers, not 64."""
    from funnelspec.cli.common import cgroup_cpu_quota

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="ascii")
    assert cgroup_cpu_quota((str(tmp_path / "cpu.max"), str(tmp_path / "cpu" / "cpu.cfs_quota_us"))) == expected


@pytest.mark.parametrize("value", ["99999999999999999999", "1025"])
def test_an_absurd_worker_count_is_a_usage_error_not_a_traceback(cli, value):
    spec = EXAMPLES / "saas.funnel"
    result = cli("simulate", str(spec), "--events", str(spec.with_suffix(".events.jsonl")), "--workers", value)
    assert result.exit_code == 2
    assert f"--workers': {value} is more than 1024" in result.stderr


def test_more_workers_than_cpus_are_cut_to_the_cpus_unless_the_environment_allows_them(monkeypatch, cli):
    import funnelspec.cli.common as common

    monkeypatch.delenv("FUNNEL_MAX_WORKERS")
    monkeypatch.setattr(common, "cpus", lambda: 2)
    spec = EXAMPLES / "saas.funnel"
    args = ["simulate", str(spec), "--events", str(spec.with_suffix(".events.jsonl"))]
    one = cli(*args)
    cut = cli(*args, "--workers", "1000")
    assert cut.exit_code == 0 and cut.stdout == one.stdout
    assert cut.stderr == ("note: --workers 1000: 2 CPU(s) here, so 2 worker(s) replay "
                          "(FUNNEL_MAX_WORKERS=1000 allows more)\n")
    assert common.WorkerCount().convert("1000", None, None) == 2
    monkeypatch.setenv("FUNNEL_MAX_WORKERS", "3")
    assert common.WorkerCount().convert("1000", None, None) == 3
    assert common.WorkerCount().convert("3", None, None) == 3
    monkeypatch.setenv("FUNNEL_MAX_WORKERS", "lots")
    refused = cli(*args, "--workers", "3")
    assert refused.exit_code == 2 and "FUNNEL_MAX_WORKERS='lots' is not a whole number from 1 to 1024" in refused.stderr
