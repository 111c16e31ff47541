"""funnel convert of the CRMs' stage histories: the stream it writes, simulated, shows the stages the history does.

Each history in tests/cases/crm/ goes with the pipeline export beside it (README there has the sources):
the pipeline is imported (spec and mapping), the history converted with that mapping, and the stream replayed.
"""
from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from funnelspec.api import simulate
from funnelspec.cli import main

CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases", "crm")
CSV_MAP = "deal=ID сделки,ts=Дата,stage=Стадия"

# (CRM, pipeline export, history, extra convert arguments, each deal's path through the spec's stages)
HISTORIES = [
    ("amocrm", "amocrm_api_v2_pipeline_real_account.json", "amocrm_history_events.json", [], {
        "5001": ["pervichnyi_kontakt", "peregovory_razrabotka_tura", "podpisanie_dogovora", "zaversheno"],
        "5002": ["pervichnyi_kontakt", "ne_realizovano"]}),
    ("bitrix24", "bitrix24_pipeline_default.json", "bitrix24_history_stagehistory.json", [], {
        "400": ["novaia", "podgotovka_dokumentov", "v_rabote", "sdelka_uspeshna"],
        "401": ["novaia", "sdelka_provalena"]}),
    ("hubspot", "hubspot_customised_pipeline_real_account.json", "hubspot_history_deals.json", [], {
        "9001": ["interessert", "tilbud_sendt", "vunnet"],
        "9002": ["interessert", "mote_booket", "hviler"]}),
    ("pipedrive", "pipedrive_stages_example.json", "pipedrive_history_flow.json", [], {
        "77": ["qualified", "contact_made", "proposal_made", "won"],
        "78": ["qualified", "contact_made", "lost"]}),
    # a flat export naming stages by title, in any case and spacing, or by the CRM's id (WON)
    ("csv", "bitrix24_pipeline_default.json", "bitrix24_history_export.csv", ["--csv-map", CSV_MAP], {
        "400": ["novaia", "podgotovka_dokumentov", "sdelka_uspeshna"],
        "401": ["novaia", "sdelka_provalena"]}),
]


def imported(tmp_path, export: str) -> tuple[str, str]:
    crm = export.split("_")[0]
    spec = tmp_path / f"{crm}.funnel"
    result = CliRunner().invoke(main, ["import", crm, os.path.join(CASES, export), "-o", str(spec)])
    assert result.exit_code == 0, result.output
    return str(spec), str(tmp_path / f"{crm}.crm.toml")


@pytest.mark.parametrize("kind, export, history, extra, paths", HISTORIES, ids=[h[2] for h in HISTORIES])
def test_converted_history_simulates_to_the_stages_it_shows(tmp_path, kind, export, history, extra, paths):
    spec, mapping = imported(tmp_path, export)
    stream = tmp_path / "deals.jsonl"
    result = CliRunner().invoke(main, ["convert", kind, os.path.join(CASES, history), "--spec", spec,
                                       "--mapping", mapping, "-o", str(stream), *extra])
    assert result.exit_code == 0, result.output
    replay = simulate(spec, str(stream), moves="record")   # a CRM lets a person move a deal anywhere
    assert {o.deal: [v.stage for v in o.path] for o in replay.outcomes} == paths


def test_titles_convert_without_a_mapping(tmp_path):
    spec, _ = imported(tmp_path, "bitrix24_pipeline_default.json")
    rows = tmp_path / "deals.csv"
    rows.write_text("ID сделки,Дата,Стадия\n1,2024-04-01T10:00:00+03:00,новая\n1,2024-04-02 10:00:00,novaia\n"
                    "1,2024-04-03 10:00:00,Сделка  ПРОВАЛЕНА\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["convert", "csv", str(rows), "--spec", spec, "--csv-map", CSV_MAP])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        '{"id": "1-1", "deal": "1", "ts": "2024-04-01T07:00:00Z", "type": "created", "stage": "novaia", '
        '"funnel": "obshchaia"}',
        '{"id": "1-2", "deal": "1", "ts": "2024-04-03T10:00:00Z", "type": "moved", "to": "sdelka_provalena"}']


@pytest.mark.parametrize("rows, args, message", [
    ("ID сделки,Дата,Стадия\n1,2024-04-01 10:00:00,Новая\n1,2024-04-02 10:00:00,Сделка провалено\n", ["--csv-map", CSV_MAP],
     ':3: unknown stage "Сделка провалено"; did you mean `sdelka_provalena` (Сделка провалена)?'),
    ("ID сделки,Дата,Стадия\n1,вчера,Новая\n", ["--csv-map", CSV_MAP], ":2: `вчера` is not a time"),
    ("ID,Дата,Стадия\n1,2024-04-01 10:00:00,Новая\n", ["--csv-map", CSV_MAP],
     ":1: no column deal=ID сделки in the header; its columns are ID, Дата, Стадия"),
    ("ID сделки,Дата,Стадия\n", ["--csv-map", "deal=ID сделки,ts=Дата"], "--csv-map: name the column of stage"),
])
def test_csv_errors_name_the_line_and_what_is_wrong(tmp_path, rows, args, message):
    spec, _ = imported(tmp_path, "bitrix24_pipeline_default.json")
    path = tmp_path / "deals.csv"
    path.write_text(rows, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["convert", "csv", str(path), "--spec", spec, "-o", str(out), *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()


def test_history_errors(tmp_path):
    spec, mapping = imported(tmp_path, "hubspot_customised_pipeline_real_account.json")
    history = os.path.join(CASES, "hubspot_history_deals.json")
    runner = CliRunner()
    no_spec = runner.invoke(main, ["convert", "hubspot", history])
    assert no_spec.exit_code == 2 and "needs --spec SPEC" in no_spec.output
    other = runner.invoke(main, ["convert", "amocrm", history, "--spec", spec, "--mapping", mapping])
    assert other.exit_code == 2 and "no [amocrm] table; it maps hubspot" in other.output
    wrong = runner.invoke(main, ["convert", "pipedrive", history, "--spec", spec])
    assert wrong.exit_code == 2 and "no `data` here: is this the right export?" in wrong.output
    unmapped = runner.invoke(main, ["convert", "hubspot", history, "--spec", spec])
    assert unmapped.exit_code == 2
    assert ('hubspot_history_deals.json: results[0].propertiesWithHistory.dealstage[2]: unknown stage '
            '"appointmentscheduled"; the spec\'s stages are `interessert`, `mote_booket`') in unmapped.output


def test_simulate_points_a_stage_title_to_its_id(tmp_path):
    spec, _ = imported(tmp_path, "bitrix24_pipeline_default.json")
    rows = tmp_path / "deals.csv"
    rows.write_text("deal,ts,type,stage\n1,2024-04-01T10:00:00Z,created,Сделка провалена\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", spec, "--events", str(rows), "--csv-map",
                                       "deal=deal,ts=ts,type=type,stage=stage"])
    assert result.exit_code == 2, result.output
    assert ('unknown stage "Сделка провалена" (did you mean "sdelka_provalena" (Сделка провалена)? streams name '
            'stages by id; `funnel convert csv` maps titles)') in result.output
