"""`funnel run` killed with SIGKILL at random points while it consumes a stream, then restarted: the end is
the same as an uninterrupted run's. Nothing lost, nothing applied twice, duplicate deliveries bounded."""
from __future__ import annotations

import json
import os
import random
import signal
import time

import pytest

from conftest import EXAMPLES
from funnelspec.run.outbox import BATCH as DELIVERY_BATCH
from run_helpers import final_state, forked_run, read_jsonl

SPEC = str(EXAMPLES / "b2b_basic.funnel")
KILLS = 50
SEED = 20


def _stream(path) -> None:
    """Two copies of the example's history under other deal ids, with repeated events and bad lines."""
    source = [json.loads(line) for line in (EXAMPLES / "b2b_basic.events.jsonl").read_text("utf-8").splitlines()]
    lines = []
    for copy in range(2):
        for n, event in enumerate(source):
            event = {**event, "id": f"{event['id']}-{copy}", "deal": f"{event['deal']}-{copy}"}
            lines.append(json.dumps(event, ensure_ascii=False))
            if n % 97 == 0:
                lines.append(lines[-1])                 # the same event again
            if n % 211 == 0:
                lines.append('{"id": "bad", "deal": ')  # a line that is not JSON
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _args(folder) -> list[str]:
    return ["run", SPEC, "--state", str(folder / "state.db"), "--events", str(folder / "events.jsonl"),
            "--clock", "event", "--actions", str(folder / "actions.jsonl")]


def _wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.slow
def test_killed_runs_end_as_an_uninterrupted_one(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "events.jsonl").write_text("")
    assert _wait(forked_run(_args(empty))) == 0     # the first run keeps the checked spec; the runs below read it
    pid = forked_run(_args(empty))
    started = time.monotonic()
    assert _wait(pid) == 0
    start_up = time.monotonic() - started          # reading the spec, opening the store: no stream yet
    reference = tmp_path / "reference"
    reference.mkdir()
    _stream(reference / "events.jsonl")
    pid = forked_run(_args(reference))
    started = time.monotonic()
    assert _wait(pid) == 0
    whole = time.monotonic() - started
    expected = final_state(str(reference / "state.db"))
    expected_ids = [a["id"] for a in read_jsonl(str(reference / "actions.jsonl"))]
    assert expected["pending"] == 0 and len(expected_ids) == len(set(expected_ids)) == len(expected["actions"])

    rng = random.Random(SEED)
    kills = rounds = duplicates = 0
    while kills < KILLS:
        rounds += 1
        folder = tmp_path / f"round{rounds}"
        folder.mkdir()
        (folder / "events.jsonl").write_bytes((reference / "events.jsonl").read_bytes())
        killed_here = 0
        while True:
            pid = forked_run(_args(folder))
            time.sleep(rng.uniform(0.8 * start_up, whole))     # most points fall while the stream is consumed
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            code = _wait(pid)
            if code == 0:                   # it finished before the kill: the round is over
                break
            assert code == -signal.SIGKILL
            killed_here += 1
        kills += killed_here
        assert final_state(str(folder / "state.db")) == expected, f"round {rounds} after {killed_here} kills"
        delivered = [a["id"] for a in read_jsonl(str(folder / "actions.jsonl"))]
        assert set(delivered) == set(expected_ids)
        extra = len(delivered) - len(set(delivered))
        assert extra <= killed_here * DELIVERY_BATCH, f"round {rounds}: {extra} duplicates after {killed_here} kills"
        duplicates += extra
    print(f"{kills} kills over {rounds} rounds; {duplicates} duplicate deliveries; "
          f"start-up {start_up:.2f} s, whole run {whole:.2f} s")
