"""The CRM export converter: the shipped stream is its output, and replaying it gives the published figures."""
from __future__ import annotations

import io
from collections import Counter

import pytest

from conftest import EXAMPLES
from funnelspec.api import simulate
from funnelspec.engine.convert import SNAPSHOTS, ConvertError, crm_opportunities, write_stream

DATA = EXAMPLES / "data" / "crm_sales_opportunities"
STREAM = EXAMPLES / "crm_opportunities.events.jsonl"


@pytest.fixture(scope="module")
def converted() -> str:
    out = io.StringIO()
    write_stream(crm_opportunities(str(DATA)), out, SNAPSHOTS["crm-opportunities"])
    return out.getvalue()


def test_the_shipped_stream_is_the_converters_output(converted):
    assert STREAM.read_text(encoding="utf-8") == converted


def test_the_cli_writes_the_same_stream(cli, converted, tmp_path):
    target = tmp_path / "out.jsonl"
    result = cli("convert", "crm-opportunities", str(DATA), "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == converted


def test_replaying_it_gives_the_published_figures():
    """Maven's dataset, as published analyses count it (examples/data/README.md)."""
    result = simulate(str(EXAMPLES / "crm_opportunities.funnel"), str(STREAM))
    assert result.totals.rejected == 0 and result.totals.balanced
    outcomes = result.outcomes
    assert len(outcomes) == 8800
    assert Counter(o.stage for o in outcomes) == {"won": 4238, "lost": 2473, "engaging": 1589, "prospecting": 500}
    won = [o for o in outcomes if o.status == "won"]
    assert round(len(won) / (len(won) + 2473), 4) == 0.6315
    assert sum(o.fields["amount"] for o in won) == 10_005_534
    assert sum(1 for o in outcomes if any(v.stage == "engaging" for v in o.path)) == 8300
    assert not result.violations
    gtx_pro = [o for o in won if o.fields["product"] == "GTX Pro"]
    assert (len(gtx_pro), sum(o.fields["amount"] for o in gtx_pro)) == (729, 3_510_578)


def test_a_broken_export_is_named(tmp_path):
    bad = tmp_path / "sales_pipeline.csv"
    bad.write_text("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
                   "X1,Ann,GTX Basic,,Won,2017-01-02,,\n", encoding="utf-8")
    with pytest.raises(ConvertError, match=r"sales_pipeline.csv:2: a Won deal needs a close_date"):
        list(crm_opportunities(str(bad)))
