"""`funnel test`: the journeys shipped beside the examples and templates pass; failures name the divergence."""
from __future__ import annotations

import pytest

from conftest import CASES, EXAMPLES, STDLIB

SPECS = sorted(EXAMPLES.glob("*.funnel")) + sorted(STDLIB.glob("*.funnel"))
JOURNEYS = CASES / "journeys"


@pytest.fixture(autouse=True)
def _in_root(monkeypatch):
    monkeypatch.chdir(CASES.parent.parent)


@pytest.mark.parametrize("spec", SPECS, ids=[f"{p.parent.name}/{p.stem}" for p in SPECS])
def test_every_example_and_template_ships_passing_journeys(spec, cli):
    tests = spec.with_suffix(".funnel-test")
    assert tests.exists(), f"{spec.name} has no journeys beside it"
    result = cli("test", str(tests))
    assert result.exit_code == 0, result.output
    assert " PASSED" in result.output and "FAILED" not in result.output


def test_a_failing_journey_names_its_divergence_and_shows_the_trace(cli, snapshot):
    result = cli("test", "tests/cases/journeys/failing")
    assert result.exit_code == 1
    assert ("tests/cases/journeys/failing/sales.funnel-test:12: expect stage won: "
            "expected stage `won`, the deal is in `proposal`") in result.output
    assert "criterion of `proposal -> won` does not hold: `paid >= budget`: 250000 >= 450000 is false" \
        in result.output
    assert result.output == snapshot


def test_an_event_the_replay_refuses_is_an_error(cli):
    result = cli("test", "tests/cases/journeys/broken")
    assert result.exit_code == 2
    assert "sales.funnel-test::moves to a stage the spec does not have ERROR" in result.output
    assert "sales.funnel-test:3: moved to `nowhere`: not applied" in result.output


@pytest.mark.parametrize("text, message", [
    ('{"ts": "2026-01-01T00:00:00Z", "type": "created"}', "x.funnel-test:1: an event before the first `journey`"),
    ('journey "j"\n  {"ts": 1, "type": }', "x.funnel-test:2: the event is not valid JSON"),
    ('journey "j"\n  {"ts": 1, "type": "created"}\n  expect colour red',
     "x.funnel-test:3: expected `expect stage|status|lost_reason|field|action|no action …`"),
    ('journey "j"\n  {"ts": 1, "type": "created"}\n  expect status maybe', "x.funnel-test:3: status `maybe`"),
    ('journey "j"\n  {"ts": 1, "type": "created"}', "x.funnel-test:1: journey 'j' expects nothing"),
    ('journey "j"\n  {"ts": 1, "type": "created"}\n  expect stage new\njourney "j"',
     'x.funnel-test:4: a second journey named "j"'),
    ("", "x.funnel-test: no journeys"),
])
def test_bad_test_files_are_errors_naming_file_and_line(text, message, cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.funnel").write_text((JOURNEYS / "failing" / "sales.funnel").read_text(encoding="utf-8"),
                                       encoding="utf-8")
    (tmp_path / "x.funnel-test").write_text(text, encoding="utf-8")
    result = cli("test", "x.funnel-test")
    assert result.exit_code == 2
    assert message in result.output


def test_missing_spec_and_missing_path_are_errors(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "y.funnel-test").write_text('journey "j"\n  {"ts": 1, "type": "created"}\n  expect stage new\n',
                                            encoding="utf-8")
    result = cli("test", "y.funnel-test")
    assert result.exit_code == 2 and "its spec `y.funnel` does not exist" in result.output
    assert cli("test", "nothing-here").exit_code == 2


@pytest.mark.parametrize("spec", SPECS, ids=[f"{p.parent.name}/{p.stem}" for p in SPECS])
def test_a_wrong_expectation_fails_and_names_the_divergence(spec, cli, tmp_path):
    """Each shipped journey file with its first `expect stage` changed to another stage: exit 1, and why."""
    from funnelspec.api import analyse

    lines = spec.with_suffix(".funnel-test").read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.strip().startswith("expect stage "))
    actual = lines[number].split()[-1]
    other = next(s.id for f in analyse(str(spec), lint=False).spec.funnels for s in f.stages if s.id != actual)
    lines[number] = lines[number].replace(f"expect stage {actual}", f"expect stage {other}")
    wrong = tmp_path / "wrong.funnel-test"
    wrong.write_text(f"spec {spec}\n" + "\n".join(lines) + "\n", encoding="utf-8")
    result = cli("test", "--import-root", str(spec.parent), str(wrong))    # the spec is outside the test's folder
    assert result.exit_code == 1, result.output
    assert (f"{wrong}:{number + 2}: expect stage {other}: expected stage `{other}`, "
            f"the deal is in `{actual}`") in result.output
    assert "trace" in result.output and "ends in" in result.output


def test_a_spec_that_is_not_utf8_is_one_files_error(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "y.funnel").write_bytes(b"funnel \xff {}\n")
    (tmp_path / "y.funnel-test").write_text('journey "j"\n  {"ts": 1, "type": "created"}\n  expect stage new\n',
                                            encoding="utf-8")
    result = cli("test", "y.funnel-test")
    assert result.exit_code == 2
    assert "ERROR y.funnel-test: its spec `y.funnel`: not valid UTF-8 (invalid start byte at byte 7)" in result.output


def test_an_unknown_stage_or_field_is_an_error_with_did_you_mean_and_every_journey_runs(cli, tmp_path, monkeypatch):
    """`expect stage rewrk` reported FAILED; a bad line stopped the whole file (issue 23)."""
    monkeypatch.chdir(tmp_path)
    spec = (JOURNEYS / "failing" / "sales.funnel").read_text(encoding="utf-8")
    (tmp_path / "x.funnel").write_text(spec, encoding="utf-8")
    created = '{"ts": "2026-01-01T00:00:00Z", "type": "created", "fields": {"budget": 100}}'
    (tmp_path / "x.funnel-test").write_text("\n".join([
        'journey "a typo in a stage"', created, "expect stage neww",
        'journey "a typo in a field"', created, "expect field budgt = 100",
        'journey "a bad line"', created, "expect colour red",
        'journey "fine"', created, "expect status open",
    ]) + "\n", encoding="utf-8")
    result = cli("test", "x.funnel-test")
    assert result.exit_code == 2
    assert [line for line in result.stdout.splitlines() if line.startswith("x.funnel-test::")] == [
        "x.funnel-test::a typo in a stage ERROR", "x.funnel-test::a typo in a field ERROR",
        "x.funnel-test::a bad line ERROR", "x.funnel-test::fine PASSED"]
    assert "x.funnel-test:3: expect stage neww: the spec has no stage `neww`; did you mean `new`?" in result.stdout
    assert "x.funnel-test:6: expect field budgt = 100: the spec has no field `budgt`; did you mean `budget`?" \
        in result.stdout
    assert "x.funnel-test:9: expected `expect stage|status|lost_reason|field|action|no action …`" in result.stdout
