"""Snapshots of `funnel simulate EXAMPLE --events EXAMPLE.events.jsonl --report text|json` for the bundled examples.

Every example with a sample stream gets its text report snapshotted; a few
(one funnel, several funnels, a shop) get their JSON report too. The CRM
example's figures are checked against its CSV in test_crm_crosscheck.py.
"""
from __future__ import annotations

import pytest

from conftest import EXAMPLES, ROOT

WITH_STREAMS = sorted(p.stem for p in EXAMPLES.glob("*.funnel") if (EXAMPLES / f"{p.stem}.events.jsonl").exists())
JSON_SNAPSHOTS = ["ecommerce", "routing", "security_b2b"]


def report(cli, monkeypatch, name: str, fmt: str, *more: str) -> str:
    monkeypatch.chdir(ROOT)                 # paths in the report are as given, relative to the checkout
    run = cli("simulate", f"examples/{name}.funnel", "--events", f"examples/{name}.events.jsonl",
              "--report", fmt, *more)
    assert run.exit_code == 0, run.output
    return run.output


def test_every_example_with_a_stream_is_covered():
    assert {"security_b2b", "crm_opportunities", "routing", "ecommerce"} <= set(WITH_STREAMS)


@pytest.mark.parametrize("name", WITH_STREAMS)
def test_text_report(cli, monkeypatch, snapshot, name):
    text = report(cli, monkeypatch, name, "text")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text == snapshot


@pytest.mark.parametrize("name", JSON_SNAPSHOTS)
def test_json_report(cli, monkeypatch, snapshot, name):
    assert report(cli, monkeypatch, name, "json") == snapshot


def test_grouped_text_report(cli, monkeypatch, snapshot):
    assert report(cli, monkeypatch, "security_b2b", "text", "--by", "source") == snapshot
