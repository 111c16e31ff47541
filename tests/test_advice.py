"""Advice is info, shown on request (issue 23): FNL402 and FNL404 fired on nearly every funnel in the docs.

`--show-advice` (or `show-advice = true`) shows it; a `severity` setting makes it a
warning again, and then `--fail-on warning` fails on it as before.
"""
from __future__ import annotations

import json

from conftest import CASES

NO_SLA = str(CASES / "lint" / "FNL404" / "no_sla.funnel")

EIGHT_STAGES = """funnel sales "Продажи" {
  fields { ok: bool = false }
  stage new "Новый лид" { start  sla 1d }
  stage contacted "Контакт" { sla 1d }
  stage qualified "Квалификация" { sla 3d }
  stage proposal "Предложение" { sla 7d }
  stage negotiation "Переговоры" { sla 7d }
  stage contract "Договор" { sla 7d }
  stage won "Успех" { won }
  stage lost "Отклонено" { lost }
  new -> contacted when ok
  contacted -> qualified when ok
  qualified -> proposal when ok
  proposal -> negotiation when ok
  negotiation -> contract when ok
  contract -> won when ok
  any -> lost
}
"""


def _codes(run) -> list[str]:
    return [d["code"] for d in json.loads(run.stdout)["findings"]]


def test_advice_is_left_out_and_counted(cli):
    run = cli("lint", NO_SLA)
    assert run.exit_code == 0
    assert "FNL404" not in run.stdout
    assert "(1 advice not shown: --show-advice)" in run.stdout


def test_show_advice_shows_it_as_info_and_it_never_fails(cli):
    run = cli("lint", "--show-advice", "--fail-on", "warning", NO_SLA, "--format", "json")
    assert run.exit_code == 0
    found = json.loads(run.stdout)["findings"]
    assert [(d["code"], d["severity"]) for d in found] == [("FNL404", "info")]


def test_settings_show_it_or_make_it_a_warning_again(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for folder, table in (("shown", "show-advice = true\n"),
                          ("warning", 'severity = { FNL404 = "warning" }\nfail-on = "warning"\n')):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "sales.funnel").write_text(open(NO_SLA, encoding="utf-8").read(), encoding="utf-8")
        (tmp_path / folder / "pyproject.toml").write_text("[tool.funnel]\n" + table, encoding="utf-8")
    assert _codes(cli("lint", "shown/sales.funnel", "--format", "json")) == ["FNL404"]
    run = cli("lint", "warning/sales.funnel", "--format", "json")
    assert run.exit_code == 1 and _codes(run) == ["FNL404"]


def test_a_bad_show_advice_setting_is_a_finding(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sales.funnel").write_text(open(NO_SLA, encoding="utf-8").read(), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.funnel]\nshow-advice = "yes"\n', encoding="utf-8")
    run = cli("lint", "sales.funnel")
    assert run.exit_code == 1 and "FNL009" in run.stdout and "`show-advice` must be true or false" in run.stdout


def test_eight_stages_are_not_too_many(cli, tmp_path):
    """A guide asks for at least 7 stages; the check speaks only outside what the guides ask for."""
    spec = tmp_path / "sales.funnel"
    spec.write_text(EIGHT_STAGES, encoding="utf-8")
    run = cli("lint", "--show-advice", str(spec), "--format", "json")
    assert run.exit_code == 0 and _codes(run) == []


def test_explain_gives_the_sources_of_the_thresholds(cli):
    text = cli("explain", "FNL402").stdout
    assert "(info by default)" in text
    for source in ("InsightSquared", "baseportal", "Gangly", "Pine X Systems"):
        assert source in text
