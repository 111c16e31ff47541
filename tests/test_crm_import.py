"""funnel import and funnel export --to: CRM pipelines in, API plans out, and the round trip between them.

The pipeline exports in tests/cases/crm/ are the shared real examples (README there has their sources).
"""
from __future__ import annotations

import glob
import json
import os
import tomllib

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings, strategies as st

from funnelspec.api import analyse
from funnelspec.cli import main
from funnelspec.crm import CRMS, CrmStage, Pipeline, module
from funnelspec.crm.funnel import pipelines_to_spec
from funnelspec.crm.ids import slug, unique_ids
from funnelspec.crm.plan import plans
from funnelspec.dsl.diagnostics import has_errors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(ROOT, "tests", "cases", "crm")
FIXTURES = sorted(glob.glob(os.path.join(CASES, "*.json")))
PIPELINES = [f for f in FIXTURES if "history" not in os.path.basename(f)]
SPECS = sorted(glob.glob(os.path.join(ROOT, "examples", "*.funnel")) + glob.glob(os.path.join(ROOT, "stdlib", "*.funnel")))
# the CRMs that keep every stage, won and lost ones with their titles, and which keep probabilities
KEEP_TERMINALS = {"bitrix24", "hubspot"}
KEEP_PROBABILITY = {"hubspot", "pipedrive"}


def crm_of(path: str) -> str:
    return os.path.basename(path).split("_")[0]


def test_ids_from_titles_are_readable_and_stable():
    assert slug("Сделка провалена") == "sdelka_provalena"
    assert slug("Møte booket") == "mote_booket"
    assert slug("Встреча/Звонок") == "vstrecha_zvonok"
    assert slug("2-й звонок") == "stage_2_i_zvonok"
    assert unique_ids(["Проверка", "проверка", "any", "???"]) == ["proverka", "proverka_2", "any_2", "stage_2"]


@pytest.mark.parametrize("path", PIPELINES, ids=os.path.basename)
def test_import_of_each_fixture_lints_without_errors(path, tmp_path):
    out = tmp_path / "crm.funnel"
    result = CliRunner().invoke(main, ["import", crm_of(path), path, "-o", str(out)])
    assert result.exit_code == 0, result.output
    checked = analyse(str(out))
    assert checked.spec is not None and not has_errors(checked.diagnostics)
    mapping = tomllib.loads((tmp_path / "crm.crm.toml").read_text(encoding="utf-8"))[crm_of(path)]
    stages = {s.id for f in checked.spec.funnels for s in f.stages}
    assert set(mapping["stages"].values()) == stages      # every stage reachable from a CRM id, and no other


def test_amocrm_import_keeps_titles_order_and_system_statuses(tmp_path):
    path = os.path.join(CASES, "amocrm_api_v2_pipeline_real_account.json")
    out = tmp_path / "tour.funnel"
    assert CliRunner().invoke(main, ["import", "amocrm", path, "-o", str(out)]).exit_code == 0
    funnel = analyse(str(out)).spec.funnels[0]
    assert (funnel.id, funnel.title) == ("voronka", "Воронка")
    assert [(s.id, s.title, s.kind.value) for s in funnel.stages][:2] == [
        ("pervichnyi_kontakt", "Первичный контакт", "open"),
        ("peregovory_razrabotka_tura", "переговоры, разработка тура", "open")]
    assert [(s.title, s.kind.value) for s in funnel.stages][-2:] == [("завершено", "won"), ("не реализовано", "lost")]
    mapping = tomllib.loads((tmp_path / "tour.crm.toml").read_text(encoding="utf-8"))["amocrm"]
    assert mapping["stages"]["142"] == "zaversheno" and mapping["stages"]["19283710"] == "pervichnyi_kontakt"
    assert mapping["funnel"] == "voronka" and mapping["secret-env"] == "AMOCRM_SECRET"


def test_hubspot_custom_stage_between_won_and_lost_keeps_its_place(tmp_path):
    path = os.path.join(CASES, "hubspot_customised_pipeline_real_account.json")
    result = CliRunner().invoke(main, ["import", "hubspot", path, "-o", str(tmp_path / "h.funnel")])
    assert result.exit_code == 0
    funnel = analyse(str(tmp_path / "h.funnel")).spec.funnels[0]
    assert [(s.id, s.kind.value) for s in funnel.stages] == [
        ("interessert", "open"), ("mote_booket", "open"), ("tilbud_sendt", "open"), ("vunnet", "won"),
        ("hviler", "open"), ("tapt", "lost")]


def test_several_pipelines_become_several_funnels_mapped_by_pipeline():
    data = {"_embedded": {"pipelines": [
        {"id": 1, "name": "Продажи", "sort": 1, "_embedded": {"statuses": [
            {"id": 11, "name": "Новая", "sort": 10}, {"id": 142, "name": "Успех", "sort": 10000},
            {"id": 143, "name": "Провал", "sort": 11000}]}},
        {"id": 2, "name": "Партнёры", "sort": 2, "_embedded": {"statuses": [
            {"id": 21, "name": "Новая", "sort": 10}, {"id": 142, "name": "Успех", "sort": 10000},
            {"id": 143, "name": "Провал", "sort": 11000}]}}]}}
    result = pipelines_to_spec("amocrm", module("amocrm").read_pipelines(data, "x.json"), "x.crm.toml")
    checked = analyse("<import>", result.spec)
    assert [f.id for f in checked.spec.funnels] == ["prodazhi", "partnery"]
    mapping = tomllib.loads(result.mapping)["amocrm"]
    assert mapping["pipelines"] == {"1": "prodazhi", "2": "partnery"}
    assert mapping["stages"]["2/142"] == "uspekh" and mapping["stages"]["1/11"] == "novaia"


@pytest.mark.parametrize("crm", CRMS)
@pytest.mark.parametrize("path", SPECS, ids=lambda p: os.path.relpath(p, ROOT))
def test_import_of_export_gives_the_same_stages(path, crm):
    spec = analyse(path, lint=False).spec
    assert spec is not None
    crm_module = module(crm)
    for plan, funnel in zip(plans(crm, spec), spec.funnels):
        pipelines = crm_module.read_pipelines(json.loads(json.dumps(crm_module.applied(plan))), "answer")
        back = analyse("<import>", pipelines_to_spec(crm, pipelines, "m.toml").spec, lint=False).spec
        assert back is not None and len(back.funnels) == 1
        got, want = back.funnels[0], funnel
        assert got.title == want.title
        opens = [(s.title, s.probability if crm in KEEP_PROBABILITY else None)
                 for s in want.stages if s.kind.value == "open"]
        assert [(s.title, s.probability) for s in got.stages if s.kind.value == "open"] == opens
        if crm in KEEP_TERMINALS:
            assert [(s.title, s.kind) for s in got.stages] == [(s.title, s.kind) for s in want.stages]
        else:       # one won and one lost status per pipeline, after the open stages
            assert [s.kind.value for s in got.stages][-2:] == ["won", "lost"]


def test_export_plan_text_lists_requests_and_the_admins_checklist():
    spec = os.path.join(ROOT, "stdlib", "b2b_classic.funnel")
    result = CliRunner().invoke(main, ["export", "--to", "bitrix24", spec, "--format", "text"])
    assert result.exit_code == 0, result.output
    assert "1. POST /rest/crm.category.add.json" in result.output
    assert '"STATUS_ID": "C{category_id}:QUALIFICATION"' in result.output
    assert "- [ ] Коммерческое предложение: Роботы и триггеры (automation rules): rule stale_proposal after 14d " \
           'in proposal: move to lost because "нет ответа на КП"' in result.output
    data = json.loads(CliRunner().invoke(main, ["export", "--to", "amocrm", spec]).output)
    assert data[0]["requests"][0]["path"] == "/api/v4/leads/pipelines"
    assert any("142" in item["do"] and "Успех" in item["do"] for item in data[0]["checklist"])


@pytest.mark.parametrize("args, message", [
    (["import", "amocrm", os.path.join(CASES, "hubspot_default_deal_pipeline.json")],
     "not an amoCRM pipeline export"),
    (["import", "salesforce", "x.json"], "'salesforce' is not one of 'amocrm', 'bitrix24'"),
    (["export", "--to", "hubspot", os.path.join(ROOT, "examples", "saas.funnel"), "--funnel", "sas"],
     "no funnel `sas` in the spec; did you mean `saas`?"),
    (["export", os.path.join(ROOT, "examples", "saas.funnel"), "--format", "text"], "--format text is for a CRM plan"),
])
def test_cli_errors_name_what_is_wrong(args, message):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_import_of_broken_json_names_line_and_column_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"_embedded": {\n  "pipelines": [,]}}', encoding="utf-8")
    result = CliRunner().invoke(main, ["import", "amocrm", str(bad), "-o", str(tmp_path / "x.funnel")])
    assert result.exit_code == 2 and f"{bad}:2:17: not valid JSON" in result.output
    assert not (tmp_path / "x.funnel").exists() and not (tmp_path / "x.crm.toml").exists()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30),
                min_size=1, max_size=8))
@example(["FIELDS"]).via("a title that slugs to a word beginning a funnel item")
@example(["Language", "Value"]).via("the same")
def test_any_titles_import_as_a_spec_that_parses_with_the_titles_kept(titles):
    stages = tuple(CrmStage(str(n), title) for n, title in enumerate(titles)) + (CrmStage("142", "Won", "won"),)
    result = pipelines_to_spec("amocrm", [Pipeline("1", titles[0], stages)], "m.toml")
    spec = analyse("<import>", result.spec, lint=False).spec
    assert spec is not None, result.spec
    assert [s.title for s in spec.funnels[0].stages] == [*titles, "Won"]
    mapped = tomllib.loads(result.mapping)["amocrm"]["stages"]
    assert mapped == {crm.crm_id: stage.id for crm, stage in zip(stages, spec.funnels[0].stages)}
