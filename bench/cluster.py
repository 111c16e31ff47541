"""One process, `--workers 2` and a 2-worker Dask LocalCluster (`--cluster --partitioned-by-deal`) on one stream.

Generates a sample stream for examples/security_b2b.funnel (5,000,000 events
or a little more by default; FUNNEL_BENCH_CLUSTER_EVENTS sets another size,
--quick 50,000) and splits it by deal into PARTS JSON Lines files of a
folder (each deal's lines in one file, in their order). The folder is then
replayed, each run `funnel simulate --format jsonl -o FILE` in a fresh
process: on one process, with `--workers 2`, and with `--cluster dask://...
--partitioned-by-deal` against a LocalCluster of 2 worker processes (one
thread each, on 127.0.0.1) started here beforehand, so that its start-up is
not timed (a fresh cluster for each cluster run, so that its workers'
peaks are that run's). With --quick, or FUNNEL_BENCH_CLUSTER_SHUFFLE=1, also
`--cluster` without --partitioned-by-deal, which shuffles by deal: on the
folder (whole files as pieces), and on the stream as one file (read in byte
ranges), compared with one process reading that file.

Prints seconds, events per second, the peak RSS of the command's process
(for a cluster run, the client), of the largest forked worker of
`--workers 2` and of each Dask worker, and the cluster's overhead over
`--workers 2`. Checks that the outputs are byte for byte the same.
"""
from __future__ import annotations

import filecmp
import os
import re
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from bench.replay import SPEC

FULL_EVENTS = 5_000_000
QUICK_EVENTS = 50_000
EVENTS_PER_DEAL = 5.5        # what sample gives for this spec with --steps 8, about (3,235,615 from 588,235 deals)
PARTS = 8                    # files of the partitioned folder: a few per worker, for the balance by size
DEAL = re.compile(rb'"deal": "([^"]*)"')


def _generate(path: Path, events: int) -> int:
    from funnelspec.api import load
    from funnelspec.engine.sample import write_sample

    spec, _ = load(str(SPEC))
    with open(path, "w", encoding="utf-8") as out:
        return write_sample(out, spec, deals=max(1, int(events / EVENTS_PER_DEAL)), seed=1, steps=8, days=365)


def _split_by_deal(stream: Path, folder: Path) -> None:
    """The stream's lines into PARTS files by a hash of their deal id, each file keeping the lines' order."""
    folder.mkdir()
    outs = [open(folder / f"part-{i:02}.jsonl", "wb") for i in range(PARTS)]
    try:
        with open(stream, "rb") as lines:
            for line in lines:
                found = DEAL.search(line)
                outs[zlib.crc32(found.group(1)) % PARTS if found else 0].write(line)
    finally:
        for out in outs:
            out.close()


CHILD = """
import resource, runpy, sys
sys.argv = ["funnel"] + sys.argv[1:]
code = 0
try:
    runpy.run_module("funnelspec", run_name="__main__")
except SystemExit as stop:
    code = stop.code or 0
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
print(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


def _simulate(events: Path, output: Path, extra: tuple[str, ...]) -> tuple[float, int, int]:
    """(seconds, the process's peak RSS in KiB, its largest child's) of `funnel simulate` in a fresh process."""
    command = [sys.executable, "-c", CHILD, "simulate", str(SPEC), "--events", str(events), "--format", "jsonl",
               "-o", str(output), *extra]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "CI": "true"}, check=False)
    seconds = time.perf_counter() - started
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 3 or words[2] != "0":
        raise SystemExit(f"funnel simulate {' '.join(extra)} failed:\n{done.stderr[-2000:]}")
    return seconds, int(words[0]), int(words[1])


def _peak_kib() -> int:
    with open("/proc/self/status") as status:
        return int(next(line.split()[1] for line in status if line.startswith("VmHWM:")))


def run(quick: bool) -> None:
    from distributed import Client, LocalCluster

    wanted = QUICK_EVENTS if quick else int(os.environ.get("FUNNEL_BENCH_CLUSTER_EVENTS", FULL_EVENTS))
    shuffle = quick or os.environ.get("FUNNEL_BENCH_CLUSTER_SHUFFLE") == "1"
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as folder:
        stream = Path(folder) / "history.jsonl"
        started = time.perf_counter()
        count = _generate(stream, wanted)
        parts = Path(folder) / "history"
        _split_by_deal(stream, parts)
        size = stream.stat().st_size / 1e6
        if not shuffle:
            stream.unlink()
        print(f"   {count:,} events, {size:,.0f} MB ({SPEC.name}) in {PARTS} files split by deal "
              f"({time.perf_counter() - started:.0f} s to make)")
        print(f"   {'run':<44}{'seconds':>9}{'events/s':>11}{'peak RSS MB':>13}")
        outputs, times = {}, {}
        runs = [("one process", parts, ("--workers", "1")), ("--workers 2", parts, ("--workers", "2")),
                ("--cluster --partitioned-by-deal", parts, ("--cluster", "--partitioned-by-deal"))]
        if shuffle:
            runs += [("--cluster (shuffle of the folder)", parts, ("--cluster",)),
                     ("one process, one file", stream, ("--workers", "1")),
                     ("--cluster (shuffle of one file)", stream, ("--cluster",))]
        for label, events, extra in runs:
            outputs[label] = Path(folder) / f"{len(outputs)}.jsonl"
            if "--cluster" not in extra:
                seconds, peak, child = _simulate(events, outputs[label], extra)
                print(f"   {label:<44}{seconds:>9.1f}{count / seconds:>11,.0f}{peak / 1024:>13.1f}")
                if label == "--workers 2":
                    print(f"   {'  largest forked worker':<44}{'':>20}{child / 1024:>13.1f}")
            else:      # a fresh cluster for each run, started untimed: its workers' peaks are this run's
                with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, Client(cluster) as client:
                    address = "dask://" + cluster.scheduler_address.removeprefix("tcp://")
                    extra = ("--cluster", address, *extra[1:])
                    seconds, peak, child = _simulate(events, outputs[label], extra)
                    print(f"   {label + ' (client)':<44}{seconds:>9.1f}{count / seconds:>11,.0f}{peak / 1024:>13.1f}")
                    for _, worker_peak in sorted(client.run(_peak_kib).items()):
                        print(f"   {'  a Dask worker':<44}{'':>20}{worker_peak / 1024:>13.1f}")
            times[label] = seconds
        firsts = {parts: outputs["one process"], stream: outputs.get("one process, one file")}
        same = all(filecmp.cmp(firsts[events], outputs[label], shallow=False) for label, events, _ in runs)
        print(f"   outputs byte for byte those of one process reading the same input: {same}")
        base = times["--workers 2"]
        ratios = "; ".join(f"{label} ÷ --workers 2: {times[label] / base:.2f}x" for label, _, extra in runs if "--cluster" in extra)
        print(f"   {ratios}; --workers 2 ÷ one process: {base / times['one process']:.2f}x")
        if not same:
            raise SystemExit("the outputs differ")
