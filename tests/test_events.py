"""Reading deal streams: JSON Lines (file, .gz, stdin), CSV with a mapping; the schema and its fast check."""
from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnelspec.api import SpecError, load, simulate
from funnelspec.engine.events import BLANK, NotJson, json_lines, parse_csv_map
from funnelspec.engine.simulate import BadLine
from funnelspec.engine.validate import KEYS, events_schema, schema_message, shape_problem

SPEC = """
funnel sales {
  fields { budget: money  closes: date? }
  stage new { start }
  stage won { won }
  stage lost { lost }
  new -> won
  any -> lost
}
"""
LINES = [
    '{"id": 1, "deal": "D1", "ts": "2026-01-01T10:00:00+03:00", "type": "created", "fields": {"budget": 5}}',
    '{"id": 2, "deal": "D1", "ts": 1767261600, "type": "updated", "fields": {"closes": "2026-02-01"}}',
    '{"id": 3, "deal": "D1", "ts": "2026-01-02", "type": "moved", "to": "won"}',
]


@pytest.fixture
def spec():
    model, diagnostics = load("sales.funnel", SPEC)
    assert model is not None, diagnostics
    return model


def test_json_lines_account_for_every_line():
    got = list(json_lines([b'{"a": 1}\n', b"\n", b"  # a comment\n", b"{oops\n", "[1]"]))
    assert [n for n, _, _ in got] == [1, 2, 3, 4, 5]
    assert got[0][2] == {"a": 1} and got[1][2] is BLANK and got[2][2] is BLANK
    assert got[3][2] == NotJson("not JSON: Expecting property name enclosed in double quotes (column 2)")
    assert got[4][2] == [1]


def test_a_file_a_gzip_and_stdin_give_the_same_result(spec, tmp_path, cli, monkeypatch):
    text = "\n".join(LINES) + "\n"
    plain = tmp_path / "events.jsonl"
    plain.write_text(text, encoding="utf-8")
    packed = tmp_path / "events.jsonl.gz"
    packed.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    (tmp_path / "sales.funnel").write_text(SPEC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    outputs = [cli("simulate", "sales.funnel", "--events", name, "--format", "jsonl", input=text).stdout
               for name in ("events.jsonl", "events.jsonl.gz", "-")]
    assert outputs[0] == outputs[1] == outputs[2]
    records = [json.loads(line) for line in outputs[0].splitlines()]
    assert [r["record"] for r in records] == ["funnel", "outcome", "summary"]
    outcome = records[1]
    assert outcome["status"] == "won" and outcome["fields"] == {"budget": 5, "closes": "2026-02-01"}
    assert outcome["created"] == "2026-01-01T07:00:00Z"


def test_a_utf8_bom_is_dropped(spec):
    lines = [b"\xef\xbb\xbf" + LINES[0].encode("utf-8") + b"\n"]
    assert simulate(spec, _Binary(lines)).totals.applied == 1


class _Binary:
    """A minimal binary file: what `open(path, "rb")` gives."""

    def __init__(self, lines):
        self.lines = lines
        self.name = "events.jsonl"

    def read(self, *_):
        return b"".join(self.lines)

    def __iter__(self):
        return iter(self.lines)


def test_the_api_takes_dicts_lines_and_paths(spec, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(LINES), encoding="utf-8")
    from_path = simulate(spec, str(path))
    from_lines = simulate(spec, LINES)
    from_dicts = simulate(spec, [json.loads(line) for line in LINES])
    assert from_path.outcomes == from_lines.outcomes == from_dicts.outcomes
    assert from_path.totals.balanced and from_path.totals.applied == 3


def test_a_bad_line_stops_the_api_naming_it(spec):
    with pytest.raises(BadLine) as caught:
        simulate(spec, LINES[:1] + ['{"id": 2, "deal": "D1", "ts": "2026-01-03", "type": "updated", '
                                    '"fields": {"budget": "abc"}}'])
    assert str(caught.value) == 'events:2: field "budget" must be money, got "abc"'


def test_skipped_lines_are_kept_with_their_reason(spec):
    result = simulate(spec, LINES + ['{"id": 9, "deal": "D2", "ts": "2026-01-03", "type": "moved", "to": "won"}'],
                      on_error="skip")
    assert [(r.line, r.reason) for r in result.rejects] == [
        (4, 'unknown deal "D2": no "created" event for it before this line')]
    assert result.rejects[0].text.startswith('{"id": 9')


def test_a_spec_with_errors_is_refused(tmp_path):
    path = tmp_path / "bad.funnel"
    path.write_text("funnel f { stage a { start } a -> nowhere }", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        simulate(str(path), LINES)
    assert "nowhere" in str(caught.value)


def test_csv_with_a_mapping(spec, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Deal,When,Kind,Budget,To,Comment\n"
                    "D1,2026-01-01,created,\"1,500\",,hello\n"
                    "D1,2026-01-02,moved,,won,bye\n", encoding="utf-8")
    result = simulate(spec, str(path), csv_map=parse_csv_map(["deal=Deal,ts=When,type=Kind",
                                                              "fields.budget=Budget,to=To,ignore=Comment"]))
    assert result.totals.blank == 1 and result.totals.applied == 2
    assert result.outcomes[0].fields["budget"] == 1500 and result.outcomes[0].status == "won"


@pytest.mark.parametrize("spec_text,message", [
    ("deal", "`deal` is not KEY=COLUMN"),
    ("owner=Owner", "`owner` is not an event key"),
])
def test_a_bad_csv_map_is_named(spec_text, message):
    with pytest.raises(ValueError, match=message):
        parse_csv_map([spec_text])


def test_funnel_schema_events_prints_the_shipped_schema(cli):
    result = cli("schema", "events")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == events_schema()


def test_the_schema_is_a_valid_json_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(events_schema())


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False),
              st.sampled_from(["", "x", "created", "updated", "moved", "event", "2026-01-01"])),
    lambda children: st.one_of(st.lists(children, max_size=2),
                               st.dictionaries(st.sampled_from(["a", "budget"]), children, max_size=2)),
    max_leaves=4)
candidate_events = st.dictionaries(
    st.sampled_from(sorted(KEYS) + ["extra"]),
    st.one_of(json_values, st.sampled_from(["created", "updated", "moved", "event"])),
    max_size=7)


@settings(max_examples=500, deadline=None)
@given(event=st.one_of(candidate_events, json_values))
def test_the_fast_shape_check_agrees_with_the_schema(event):
    assert (shape_problem(event) is None) == (schema_message(event) is None)


@settings(max_examples=200, deadline=None)
@given(event=st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=3), st.integers()), "deal": st.one_of(st.text(min_size=1, max_size=3),
                                                                             st.integers()),
     "ts": st.sampled_from(["2026-01-01T00:00:00Z", 0, 1.5]), "type": st.sampled_from(["created", "updated"])},
    optional={"fields": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), "by": st.text(max_size=3)}))
def test_well_formed_events_pass_the_fast_check(event):
    assert (shape_problem(event) is None) == (event["type"] != "updated" or "fields" in event)


def test_a_remembered_shape_still_needs_a_deal_id():
    """Shapes that fit are remembered by keys, value types and event type; the empty deal id is checked each time."""
    event = {"id": "e1", "deal": "D1", "ts": "2026-01-01T00:00:00Z", "type": "moved", "to": "won"}
    assert shape_problem(event) is None
    assert shape_problem(event) is None            # now from the remembered shape
    assert shape_problem({**event, "deal": ""}) == schema_message({**event, "deal": ""}) is not None
    assert shape_problem({**event, "type": "event"}) is not None      # same keys and types, another event type
