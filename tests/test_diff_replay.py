"""engine/diff.py: one history read once for two specs; renamed stages translated; one-sided rejections."""
from __future__ import annotations

import json

from funnelspec.api import load
from funnelspec.engine.compile import compile_spec
from funnelspec.engine.diff import replay_pair
from funnelspec.engine.diff_deals import compare_deals
from funnelspec.engine.events import json_lines

OLD = """funnel f {
  fields { budget: money = 0 }
  stage new { start }
  stage review "Проверка" { }
  stage won { won }
  stage lost { lost }
  new -> review
  review -> won when budget > 0
  any -> lost
}
"""


def _compiled(text: str, name: str):
    spec, diagnostics = load(name, text)
    assert spec is not None, diagnostics
    return compile_spec(spec)


def _lines(events: list[dict]) -> list[bytes]:
    return [json.dumps(e, ensure_ascii=False).encode() + b"\n" for e in events]


EVENTS = [
    {"id": "1", "deal": "A", "ts": "2026-01-01T00:00:00Z", "type": "created"},
    {"id": "2", "deal": "A", "ts": "2026-01-02T00:00:00Z", "type": "moved", "to": "review"},
    {"id": "3", "deal": "A", "ts": "2026-01-03T00:00:00Z", "type": "updated", "fields": {"budget": 10}},
    {"id": "4", "deal": "B", "ts": "2026-01-01T00:00:00Z", "type": "created", "stage": "review"},
]


class CountingLines:
    """Raw lines that count how often they are iterated over and how many lines each pass yields."""

    def __init__(self, lines):
        self.lines, self.passes, self.yielded = lines, 0, 0

    def __iter__(self):
        self.passes += 1
        for line in self.lines:
            self.yielded += 1
            yield line


def test_the_history_is_read_once_and_fed_to_both():
    old = _compiled(OLD, "old.funnel")
    source = CountingLines(_lines(EVENTS))
    run = replay_pair(old, old, json_lines(source), renames={})
    assert (source.passes, source.yielded) == (1, len(EVENTS))
    assert run.old.applied == run.new.applied == len(EVENTS)
    assert run.old_outcomes == run.new_outcomes


def test_a_renamed_stage_is_reached_by_its_old_id():
    old = _compiled(OLD, "old.funnel")
    new = _compiled(OLD.replace("stage review", "stage проверка").replace("-> review", "-> проверка")
                    .replace("review ->", "проверка ->"), "new.funnel")
    renames = {"f": {"review": "проверка"}}
    run = replay_pair(old, new, json_lines(_lines(EVENTS)), renames=renames)
    assert run.new.rejected == []
    assert [o.stage for o in run.new_outcomes] == ["won", "проверка"]
    assert compare_deals(run, renames) == []


def test_a_removed_stage_is_rejected_by_the_new_side_only():
    old = _compiled(OLD, "old.funnel")
    new = _compiled(OLD.replace('  stage review "Проверка" { }\n', "").replace("  new -> review\n", "")
                    .replace("  review -> won when budget > 0\n", "  new -> won when budget > 0\n"), "new.funnel")
    run = replay_pair(old, new, json_lines(_lines(EVENTS)), renames={})
    assert run.old.rejected == []
    assert [(line, deal) for line, deal, _ in run.new.rejected] == [(2, "A"), (4, "B")]
    changes = {c.deal: c for c in compare_deals(run, {})}
    assert changes["B"].new is None and changes["B"].outcome_changed
    assert changes["A"].old.stage == changes["A"].new.stage == "won"
    assert changes["A"].path_changed and not changes["A"].outcome_changed
    assert changes["A"].parting.cause.line == 2


def test_a_new_timer_parts_the_replays_at_the_timer():
    old = _compiled(OLD, "old.funnel")
    new = _compiled(OLD.replace("  any -> lost\n", '  any -> lost\n  after 1d in new: move to lost because "slow"\n'),
                    "new.funnel")
    events = [{"id": "1", "deal": "A", "ts": "2026-01-01T00:00:00Z", "type": "created"},
              {"id": "2", "deal": "A", "ts": "2026-01-05T00:00:00Z", "type": "moved", "to": "review"}]
    run = replay_pair(old, new, json_lines(_lines(events)), renames={})
    [change] = compare_deals(run, {})
    assert change.new.status == "lost" and change.new.lost_reason == "slow"
    assert change.parting.cause.kind == "timer"
    assert change.parting.new_what == "move new -> lost" and change.parting.new_cause.time < change.parting.old_cause.time
    assert change.parting.old_what == "moved new -> review by a person" and change.parting.old_cause.line == 2
