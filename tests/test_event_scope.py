"""`on event NAME in STAGE` and `on change FIELD in STAGE` at the funnel level, as `after`/`every`/`at` have
(issue 23: it was a syntax error whose hint did not help); a rule whose condition says `stage == "x"` is
drawn from that stage only."""
from __future__ import annotations

import json

SPEC = """funnel sales "Продажи" {
  fields { note: text = "" }
  events { rejected { } }
  stage new "Новый" { start  sla 1d }
  stage proposal "КП" { sla 3d }
  stage won "Успех" { won }
  stage lost "Отклонено" { lost }
  new -> proposal when note != ""
  proposal -> won when note == "paid"
  any -> lost
  on event rejected in proposal: move to lost because "rejected"
  on change note in new when note == "spam": move to lost
  on event rejected when stage == "new" and note == "": set note = "cold"
  on change note when stage == "proposal" and note == "x": move to lost
}
"""

EVENTS = "".join(json.dumps(e) + "\n" for e in [
    {"id": "1", "deal": "A", "ts": "2026-01-01T00:00:00Z", "type": "created"},
    {"id": "2", "deal": "A", "ts": "2026-01-02T00:00:00Z", "type": "event", "name": "rejected"},
    {"id": "3", "deal": "A", "ts": "2026-01-03T00:00:00Z", "type": "event", "name": "rejected"},
])


def _write(tmp_path):
    (tmp_path / "sales.funnel").write_text(SPEC, encoding="utf-8")
    (tmp_path / "events.jsonl").write_text(EVENTS, encoding="utf-8")


def test_lints_clean_and_formats_keeping_the_scope(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path)
    assert cli("lint", "sales.funnel").exit_code == 0
    assert cli("fmt", "sales.funnel").exit_code == 0
    text = (tmp_path / "sales.funnel").read_text(encoding="utf-8")
    assert 'on event rejected in proposal: move to lost because "rejected"' in text
    assert "on change note in new when" in text


def test_the_rule_fires_only_in_its_stage(cli, tmp_path, monkeypatch):
    """The first `rejected` comes in `new` (the scoped rule keeps still, the `stage == "new"` one sets the
    note, which moves the deal on); the second in `proposal`, where the scoped rule loses the deal."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path)
    result = json.loads(cli("simulate", "sales.funnel", "--events", "events.jsonl", "--format", "json").stdout)
    (outcome,) = result["outcomes"]
    assert [step["stage"] for step in outcome["path"]] == ["new", "proposal", "lost"]
    assert outcome["lost_reason"] == "rejected"


def test_a_rule_for_one_stage_is_drawn_from_it(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path)
    edges = [line.strip() for line in cli("graph", "sales.funnel", "--format", "mermaid").stdout.splitlines()
             if "-.->" in line]
    assert sorted(e.split(" -.->")[0] for e in edges) == ["new", "proposal", "proposal"], edges
