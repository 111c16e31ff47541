"""The run loop's input and its stop: a growing file, a torn last line, SIGTERM, batches of any size."""
from __future__ import annotations

import json
import os
import signal
import tempfile
import time

from hypothesis import given, settings, strategies as st

from conftest import EXAMPLES
from funnelspec.api import simulate
from funnelspec.run.loop import LineReader
from funnelspec.run.store import open_store
from run_helpers import forked_run, outcomes_and_actions


def test_follow_picks_up_appended_lines_and_waits_for_a_whole_line(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": ')
    reader = LineReader(str(path), follow=True)
    assert [(n, v) for n, _, v, _ in reader.read_batch(wait=0.01)] == [(1, {"a": 1})]
    assert reader.read_batch(wait=0.01) == [] and not reader.ended     # half a line: not yet
    with open(path, "ab") as out:
        out.write(b'2}\n{"c": 3}\n')
    lines = reader.read_batch(wait=0.01)
    assert [(n, v) for n, _, v, _ in lines] == [(2, {"b": 2}), (3, {"c": 3})]
    assert reader.position(3, lines[-1][3]) == (str(path), f"3:{path.stat().st_size}")
    reader.close()


def test_without_follow_a_last_line_without_newline_is_read(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"b": 2}')
    reader = LineReader(str(path))
    assert [(n, v) for n, _, v, _ in reader.read_batch()][2:] == [(3, {"b": 2})]
    assert reader.read_batch() == [] and reader.ended
    reader.close()


def test_a_stored_position_past_the_end_reads_a_replaced_file_from_the_start(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"a": 1}\n')
    reader = LineReader(str(path), start="40:4000")
    assert [n for n, *_ in reader.read_batch()] == [1]
    reader.close()


def test_sigterm_finishes_and_exits_0(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_bytes((EXAMPLES / "b2b_basic.events.jsonl").read_bytes())
    store = tmp_path / "state.db"
    pid = forked_run(["run", str(EXAMPLES / "b2b_basic.funnel"), "--state", str(store), "--events", str(events),
                      "--follow", "--actions", str(tmp_path / "actions.jsonl")])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:                  # wait until it has read everything, then stop it
        time.sleep(0.2)
        if store.exists():
            opened = open_store(str(store))
            applied = opened.meta("count:applied")
            opened.close()
            if applied == "833":
                break
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    delivered = [json.loads(line)["id"] for line in (tmp_path / "actions.jsonl").read_text("utf-8").splitlines()]
    assert len(delivered) == len(set(delivered)) == 393


HISTORY = (EXAMPLES / "b2b_basic.events.jsonl").read_text("utf-8").splitlines()[:240]


@settings(max_examples=12)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(HISTORY) - 1), max_size=8),
       repeats=st.lists(st.integers(min_value=0, max_value=len(HISTORY) - 1), max_size=6))
def test_batches_of_any_size_and_repeated_events_give_simulate_s_result(cuts, repeats):
    from funnelspec.engine.events import json_lines
    from funnelspec.run.engine import RunEngine
    from funnelspec.api import analyse
    from funnelspec.engine.compile import compile_spec

    spec = str(EXAMPLES / "b2b_basic.funnel")
    expected = simulate(spec, HISTORY)
    stream = list(HISTORY)
    for index in sorted(repeats, reverse=True):
        stream.insert(index + 1, stream[index])       # an event sent twice, right after itself
    lines = list(json_lines(stream))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "state.db")
        engine = RunEngine(compile_spec(analyse(spec, lint=False).spec), open_store(path), hash="h")
        bounds = [0, *sorted(set(c for c in cuts if c < len(lines))), len(lines)]
        results = []
        for start, end in zip(bounds, bounds[1:]):
            results += engine.ingest_lines(lines[start:end], "events")
        engine.fire_due(engine.clock())
        engine.store.close()
        assert sum(r.status == "duplicate" for r in results) == len(repeats)
        outcomes, actions = outcomes_and_actions(path)
    assert outcomes == {o.deal: o.to_json() for o in expected.outcomes}
    assert sum(map(len, actions.values())) == len(expected.actions)
