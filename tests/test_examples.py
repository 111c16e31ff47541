"""The examples: each resolves without errors, its resolved model is snapshotted, and the
export conforms to the JSON Schema the package ships (`funnel schema spec`)."""
from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from conftest import EXAMPLES, ROOT
from funnelspec.api import analyse
from funnelspec.dsl.diagnostics import Severity
from funnelspec.dsl.export import spec_to_json

EXAMPLE_FILES = sorted(EXAMPLES.rglob("*.funnel"))
IDS = [str(p.relative_to(EXAMPLES).with_suffix("")).replace("/", "-") for p in EXAMPLE_FILES]


@pytest.fixture(scope="module")
def spec_schema():
    text = resources.files("funnelspec").joinpath("schemas", "spec.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def export_of(path, monkeypatch) -> tuple[dict, list]:
    monkeypatch.chdir(ROOT)        # spans name files relative to the working directory
    result = analyse(str(path.relative_to(ROOT)))
    errors = [f"{d.span.label()}: {d.code} {d.message}" for d in result.diagnostics if d.severity is Severity.ERROR]
    assert errors == []
    return spec_to_json(result.spec), result.diagnostics


def test_the_examples_of_the_source_material_are_there():
    names = {p.name for p in EXAMPLE_FILES}
    for name in ("security_b2b.funnel", "b2b_basic.funnel", "security_18_steps.funnel", "memory_sticks_email.funnel",
                 "doors_cold_calls.funnel", "creatio_default.funnel", "ecommerce.funnel", "saas.funnel",
                 "routing.funnel", "regional_sales.funnel"):
        assert name in names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=IDS)
def test_example_model_snapshot(path, monkeypatch, snapshot):
    exported, _ = export_of(path, monkeypatch)
    assert exported == snapshot(extension_class=JSONSnapshotExtension)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=IDS)
def test_example_export_conforms_to_the_schema(path, monkeypatch, spec_schema):
    exported, _ = export_of(path, monkeypatch)
    jsonschema.validate(exported, spec_schema, cls=jsonschema.Draft202012Validator,
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_the_18_steps_are_grouped_in_six_blocks(monkeypatch):
    exported, _ = export_of(EXAMPLES / "security_18_steps.funnel", monkeypatch)
    stages = exported["funnels"][0]["stages"]
    open_stages = [s for s in stages if s["kind"] == "open"]
    assert len(open_stages) == 18
    blocks = list(dict.fromkeys(s["block"] for s in open_stages))
    assert blocks == ["Уточнение деталей", "Предложение", "Работа с возражениями", "Договор", "Оплата",
                      "Сопровождение"]
    assert all(s["block"] is None for s in stages if s["kind"] != "open")


def test_routing_example_has_several_routed_funnels(monkeypatch):
    exported, _ = export_of(EXAMPLES / "routing.funnel", monkeypatch)
    routes = {f["id"]: f["route"] and f["route"]["text"] for f in exported["funnels"]}
    assert routes == {"partner": 'source == "partner"', "cold": 'source == "cold_call"', "inbound": None}


def test_multi_file_example_extends_a_local_and_a_standard_template(monkeypatch):
    exported, _ = export_of(EXAMPLES / "regional_sales.funnel", monkeypatch)
    funnels = {f["id"]: f for f in exported["funnels"]}
    assert funnels["moscow"]["extends"] == ["company_base"]
    assert funnels["partners"]["extends"] == ["b2b_classic"]
    files = {s["span"]["file"] for s in funnels["moscow"]["stages"]}
    assert files == {"examples/regional_sales.funnel", "examples/shared/company_base.funnel"}
    assert [s["id"] for s in funnels["moscow"]["stages"]] == [
        "new", "qualification", "survey", "proposal", "contract", "won", "lost"]
    rules = {r["name"]: r for r in funnels["moscow"]["rules"] if r["name"]}
    assert rules["stale_proposal"]["delay_seconds"] == 10 * 86400
    assert "stale_negotiation" not in {r["name"] for r in funnels["partners"]["rules"]}


def test_shipped_funnels_are_in_canonical_layout(cli):
    """We format what we ship; the DESIGN.md example stays exactly as the design writes it."""
    from conftest import ROOT

    shipped = sorted((ROOT / "examples").rglob("*.funnel")) + sorted((ROOT / "stdlib").glob("*.funnel"))
    checked = [str(p) for p in shipped if p.name != "security_b2b.funnel"]
    result = cli("fmt", "--check", *checked)
    assert result.exit_code == 0, result.stderr
