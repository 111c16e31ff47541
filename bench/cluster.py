"""One process, `--workers 2` and a 2-worker Dask LocalCluster (`--cluster`) on one generated stream.

Generates a sample stream for examples/security_b2b.funnel (5,000,000 events
by default; FUNNEL_BENCH_CLUSTER_EVENTS sets another size, --quick 50,000),
then replays it three ways, each `funnel simulate --format jsonl -o FILE` in a
fresh process: on one process, with `--workers 2`, and with `--cluster
dask://...` against a LocalCluster of 2 worker processes (one thread each, on
127.0.0.1) started here beforehand, so that its start-up is not timed. Prints
seconds, events per second, peak RSS (the command's own process; for the
cluster, each Dask worker's too) and the cluster's overhead over `--workers
2`. Checks that the three outputs are byte for byte the same.
"""
from __future__ import annotations

import filecmp
import os
import tempfile
from pathlib import Path

from bench.replay import SPEC, replay_in_child

FULL_EVENTS = 5_000_000
QUICK_EVENTS = 50_000
EVENTS_PER_DEAL = 3.4        # what sample gives for this spec with --steps 8, about


def _generate(path: Path, events: int) -> int:
    from funnelspec.api import load
    from funnelspec.engine.sample import write_sample

    spec, _ = load(str(SPEC))
    with open(path, "w", encoding="utf-8") as out:
        return write_sample(out, spec, deals=max(1, int(events / EVENTS_PER_DEAL)), seed=1, steps=8, days=365)


def _peak_kib() -> int:
    with open("/proc/self/status") as status:
        return int(next(line.split()[1] for line in status if line.startswith("VmHWM:")))


def run(quick: bool) -> None:
    from distributed import Client, LocalCluster

    wanted = QUICK_EVENTS if quick else int(os.environ.get("FUNNEL_BENCH_CLUSTER_EVENTS", FULL_EVENTS))
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as folder:
        events = Path(folder) / "history.jsonl"
        count = _generate(events, wanted)
        size = events.stat().st_size / 1e6
        print(f"   {count:,} events, {size:,.0f} MB ({SPEC.name})")
        print(f"   {'run':<22}{'seconds':>9}{'events/s':>11}{'peak RSS MB':>13}")
        outputs = {}
        times = {}
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, Client(cluster) as client:
            address = "dask://" + cluster.scheduler_address.removeprefix("tcp://")
            for label, extra in (("one process", ("--workers", "1")), ("--workers 2", ("--workers", "2")),
                                 ("--cluster (2 workers)", ("--cluster", address))):
                outputs[label] = Path(folder) / f"{len(outputs)}.jsonl"
                seconds, peak, code = replay_in_child(events, outputs[label], extra=extra)
                if code != 0:
                    raise SystemExit(f"{label}: funnel simulate exited {code}")
                times[label] = seconds
                print(f"   {label:<22}{seconds:>9.1f}{count / seconds:>11,.0f}{peak / 1024:>13.1f}")
            for address, peak in sorted(client.run(_peak_kib).items()):
                print(f"   {'  a Dask worker':<22}{'':>9}{'':>11}{peak / 1024:>13.1f}")
        first = outputs["one process"]
        same = all(filecmp.cmp(first, other, shallow=False) for other in outputs.values())
        print(f"   outputs byte for byte the same: {same}")
        overhead = times["--cluster (2 workers)"] / times["--workers 2"]
        print(f"   cluster ÷ --workers 2: {overhead:.2f}x; --workers 2 ÷ one process: "
              f"{times['--workers 2'] / times['one process']:.2f}x")
