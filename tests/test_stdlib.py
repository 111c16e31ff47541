"""The templates: each lints clean, documents itself, can be extended, and its model is snapshotted."""
from __future__ import annotations

import re

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from funnelspec.api import analyse
from funnelspec.dsl.export import spec_to_json
from funnelspec.dsl.loader import STD_PREFIX
from funnelspec.stdlib import sample_events, template_header, template_names, template_summary, template_text

TEMPLATES = template_names()
EXPECTED = ["b2b_classic", "b2b_long_cycle", "ecommerce", "email_small_shop", "saas", "services_cold_calls"]


def load_template(name: str):
    result = analyse(f"{STD_PREFIX}{name}.funnel")
    return result, result.spec.funnels[0] if result.spec else None


def test_the_stdlib_has_the_six_templates():
    assert TEMPLATES == EXPECTED


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_lints_clean(name):
    result, _ = load_template(name)
    assert [f"{d.span.line}: {d.code} {d.message}" for d in result.diagnostics] == []


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_declares_one_funnel_named_after_its_file(name):
    result, funnel = load_template(name)
    assert [f.id for f in result.spec.funnels] == [name]
    assert funnel.start_stage is not None


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_header_documents_fit_fields_rules_and_extension(name):
    _, funnel = load_template(name)
    header = "\n".join(template_header(name))
    assert template_summary(name).endswith(".") and len(template_summary(name)) <= 110
    for section in ("Fits:", "Fields it expects", "Rules, each named", "Extend it:"):
        assert section in header, section
    for field in funnel.fields:
        assert re.search(rf"^\s+{field.name}\s", header, re.M), f"field `{field.name}` is not described"
    for rule in funnel.rules:
        assert rule.name is not None, f"rule at line {rule.span.line} has no name"
        assert rule.name in header, f"rule `{rule.name}` is not described"


def extension_example(name: str) -> str:
    """The `Extend it:` example of a template's header, as a spec text."""
    header = template_header(name)
    start = header.index("Extend it:") + 1
    lines = []
    for line in header[start:]:
        if not line.startswith("  "):
            break
        lines.append(line[2:])
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_extension_example_in_the_header_lints_clean(name):
    text = extension_example(name)
    assert f"import std.{name}" in text and f"extends std.{name}" in text
    result = analyse("<example>.funnel", text)
    assert [f"{d.code} {d.message}" for d in result.diagnostics] == []
    assert result.spec.funnels[0].extends == (name,)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_named_rule_can_be_replaced_or_dropped(name):
    _, funnel = load_template(name)
    first, *rest = [r.name for r in funnel.rules]
    drops = "\n".join(f"  drop rule {r}" for r in rest)
    replacement = f"  rule {first} after 1d in {funnel.start_stage.id}: notify \"team\" \"replaced\"\n"
    text = f"import std.{name}\nfunnel mine extends std.{name} {{\n{drops}\n{replacement}}}\n"
    result = analyse("<mine>.funnel", text, lint=False)
    assert [d.message for d in result.diagnostics if d.severity.word == "error"] == []
    [rule] = result.spec.funnels[0].rules
    assert (rule.name, rule.kind, rule.actions[0].text) == (first, "after", "replaced")


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_model_snapshot(name, snapshot):
    result, _ = load_template(name)
    assert spec_to_json(result.spec) == snapshot(extension_class=JSONSnapshotExtension)


@pytest.mark.parametrize("name", TEMPLATES)
def test_sample_stream_replays_with_no_rejected_line(name):
    from funnelspec.api import simulate

    result = simulate(f"{STD_PREFIX}{name}.funnel", sample_events(name).splitlines(), on_error="skip")
    assert result.totals.rejected == 0 and result.rejects == []
    assert result.totals.applied == result.totals.lines == len(sample_events(name).splitlines())
    assert [p.to_json() for p in result.problems] == []
    assert [v.to_json() for v in result.violations] == []
    assert {o.status for o in result.outcomes} == {"won", "lost", "open"}


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_named_rule_fires_in_the_sample_replay(name):
    from funnelspec.api import simulate

    _, funnel = load_template(name)
    result = simulate(f"{STD_PREFIX}{name}.funnel", sample_events(name).splitlines())
    fired = {a.rule for a in result.actions}
    assert sorted(r.name for r in funnel.rules if r.name not in fired) == []


def test_templates_ship_as_package_data():
    for name in TEMPLATES:
        assert template_text(name).startswith("# ")
        assert sample_events(name) is not None


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_is_in_the_canonical_layout(cli, name):
    from conftest import STDLIB

    result = cli("fmt", "--check", str(STDLIB / f"{name}.funnel"))
    assert result.exit_code == 0, result.output
