"""Cross-check on real data: the MavenTech CRM export (Maven Analytics), replayed and reported, against plain Python.

The stream examples/crm_opportunities.events.jsonl is made from the snapshot
in examples/data/crm_sales_opportunities/ by `funnel convert crm-opportunities`.
Here the stream is replayed (`funnel simulate --format json`), the saved
result reported (`funnel report --report json --by office`), and the report's
figures compared with figures computed straight from the CSV with the
standard library, which in turn must equal the figures published for the
data set (shared data README): 4,238 won, 2,473 lost, win rate 63.15 %, won
revenue $10,005,534, median engage -> close of won deals 57 days.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import statistics
from collections import Counter, defaultdict

import pytest

from conftest import EXAMPLES

DATA = EXAMPLES / "data" / "crm_sales_opportunities"
SPEC = EXAMPLES / "crm_opportunities.funnel"
EVENTS = EXAMPLES / "crm_opportunities.events.jsonl"
DAY = 86400


def read_rows(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def by_csv() -> dict:
    """The figures, by plain Python over sales_pipeline.csv (and sales_teams.csv for the offices)."""
    rows = read_rows("sales_pipeline.csv")
    office = {r["sales_agent"]: r["regional_office"] for r in read_rows("sales_teams.csv")}
    won = [r for r in rows if r["deal_stage"] == "Won"]
    lost = [r for r in rows if r["deal_stage"] == "Lost"]
    days = [(dt.date.fromisoformat(r["close_date"]) - dt.date.fromisoformat(r["engage_date"])).days for r in won]
    offices = defaultdict(lambda: {"won": 0, "lost": 0, "value": 0})
    for r in won:
        offices[office[r["sales_agent"]]]["won"] += 1
        offices[office[r["sales_agent"]]]["value"] += int(r["close_value"])
    for r in lost:
        offices[office[r["sales_agent"]]]["lost"] += 1
    return {
        "deals": len(rows), "won": len(won), "lost": len(lost), "win_rate": len(won) / (len(won) + len(lost)),
        "won_value": sum(int(r["close_value"]) for r in won), "median_days_won": statistics.median(days),
        "engaged": sum(1 for r in rows if r["engage_date"]), "stages": Counter(r["deal_stage"] for r in rows),
        "offices": dict(offices),
    }


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    """Replay the converted stream and report the saved result, as a user would."""
    from click.testing import CliRunner

    from funnelspec.cli import main

    if not EVENTS.exists():
        pytest.fail(f"{EVENTS.name} is missing: `funnel convert crm-opportunities {DATA}` makes it")
    result = tmp_path_factory.mktemp("crm") / "result.json"
    runner = CliRunner()
    run = runner.invoke(main, ["simulate", str(SPEC), "--events", str(EVENTS), "--format", "json",
                               "-o", str(result)], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    run = runner.invoke(main, ["report", str(result), "--report", "json", "--by", "office"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    return json.loads(run.output)["funnels"][0]


def test_the_csv_gives_the_published_figures(by_csv):
    assert (by_csv["deals"], by_csv["won"], by_csv["lost"]) == (8800, 4238, 2473)
    assert round(by_csv["win_rate"] * 100, 2) == 63.15
    assert by_csv["won_value"] == 10_005_534
    assert by_csv["median_days_won"] == 57
    assert by_csv["engaged"] == 8300
    assert by_csv["offices"] == {"Central": {"won": 1629, "lost": 975, "value": 3_346_293},
                                 "West": {"won": 1438, "lost": 811, "value": 3_568_647},
                                 "East": {"won": 1171, "lost": 687, "value": 3_090_594}}


def test_win_rate_and_won_deals_agree_with_the_csv(report, by_csv):
    metrics = report["metrics"]
    assert metrics["deals"]["total"] == by_csv["deals"]
    assert metrics["deals"]["won"] == by_csv["won"]
    assert metrics["deals"]["lost"] == by_csv["lost"]
    assert metrics["win_rate"] == by_csv["win_rate"]
    assert metrics["won"]["value_total"] == by_csv["won_value"]


def test_median_days_engaging_to_close_of_won_deals(report, by_csv):
    # a deal enters Engaging on its engage date, so created -> won is engage -> close here
    metrics = report["metrics"]
    assert metrics["won"]["cycle_seconds"]["median"] / DAY == by_csv["median_days_won"]
    engaging = next(s for s in metrics["stages"] if s["id"] == "engaging")
    assert engaging["reached"] == by_csv["engaged"]
    assert engaging["open"] == by_csv["stages"]["Engaging"]


def test_offices_agree_with_the_csv(report, by_csv):
    groups = {g["key"]["office"]: g["metrics"] for g in report["groups"]}
    assert set(groups) == set(by_csv["offices"])
    for office, expected in by_csv["offices"].items():
        got = groups[office]
        assert (got["deals"]["won"], got["deals"]["lost"], got["won"]["value_total"]) == \
            (expected["won"], expected["lost"], expected["value"]), office


def test_monthly_cohorts_agree_with_the_csv(tmp_path):
    """`--cohort month`: deals, won, lost and won value per month created, against plain Python over the CSV.

    A deal is created on its engage date; one with none (still prospecting) on the snapshot's last date.
    """
    from click.testing import CliRunner

    from funnelspec.cli import main

    rows = read_rows("sales_pipeline.csv")
    snapshot = max(d for r in rows for d in (r["engage_date"], r["close_date"]) if d)
    want: dict = defaultdict(lambda: {"deals": 0, "won": 0, "lost": 0, "value": 0})
    for r in rows:
        cohort = want[(r["engage_date"] or snapshot)[:7]]
        cohort["deals"] += 1
        cohort["won"] += r["deal_stage"] == "Won"
        cohort["lost"] += r["deal_stage"] == "Lost"
        cohort["value"] += int(r["close_value"]) if r["deal_stage"] == "Won" else 0
    result = tmp_path / "result.json"
    runner = CliRunner()
    run = runner.invoke(main, ["simulate", str(SPEC), "--events", str(EVENTS), "--format", "json", "-o", str(result)],
                        catch_exceptions=False)
    assert run.exit_code == 0, run.output
    run = runner.invoke(main, ["report", str(result), "--report", "json", "--cohort", "month"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    groups = json.loads(run.output)["funnels"][0]["groups"]
    months = [g["key"]["cohort:month"] for g in groups]
    assert months == sorted(want)                                  # every month, in time order
    got = {g["key"]["cohort:month"]: {"deals": g["metrics"]["deals"]["total"], "won": g["metrics"]["deals"]["won"],
                                      "lost": g["metrics"]["deals"]["lost"],
                                      "value": g["metrics"]["won"]["value_total"]} for g in groups}
    assert got == dict(want)


def test_monthly_trend_of_closed_deals_agrees_with_the_csv(tmp_path):
    """`--trend month`: deals won and lost, and won value, per month of their close date, against the CSV."""
    from click.testing import CliRunner

    from funnelspec.cli import main

    want: dict = defaultdict(lambda: {"won": 0, "lost": 0, "value": 0})
    for r in read_rows("sales_pipeline.csv"):
        if r["deal_stage"] in ("Won", "Lost"):
            month = want[r["close_date"][:7]]
            month["won" if r["deal_stage"] == "Won" else "lost"] += 1
            month["value"] += int(r["close_value"]) if r["deal_stage"] == "Won" else 0
    run = CliRunner().invoke(main, ["simulate", str(SPEC), "--events", str(EVENTS), "--report", "json", "--trend",
                                    "month"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    points = json.loads(run.output)["funnels"][0]["metrics"]["trend"]["points"]
    got = {p["period"]: {"won": p["won"], "lost": p["lost"], "value": p["won_value"]} for p in points
           if p["won"] or p["lost"]}
    assert got == dict(want)
    assert [p["period"] for p in points] == sorted(p["period"] for p in points)


def test_monthly_trend_per_office_agrees_with_the_csv(tmp_path):
    """`--trend month --by office`: each office's deals won and lost, and won value, per month of their close."""
    from click.testing import CliRunner

    from funnelspec.cli import main

    office = {r["sales_agent"]: r["regional_office"] for r in read_rows("sales_teams.csv")}
    want: dict = defaultdict(lambda: defaultdict(lambda: {"won": 0, "lost": 0, "value": 0}))
    for r in read_rows("sales_pipeline.csv"):
        if r["deal_stage"] in ("Won", "Lost"):
            month = want[office[r["sales_agent"]]][r["close_date"][:7]]
            month["won" if r["deal_stage"] == "Won" else "lost"] += 1
            month["value"] += int(r["close_value"]) if r["deal_stage"] == "Won" else 0
    run = CliRunner().invoke(main, ["simulate", str(SPEC), "--events", str(EVENTS), "--report", "json", "--trend",
                                    "month", "--by", "office"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    funnel = json.loads(run.output)["funnels"][0]
    got = {group["key"]["office"]: {p["period"]: {"won": p["won"], "lost": p["lost"], "value": p["won_value"]}
                                    for p in group["metrics"]["trend"]["points"] if p["won"] or p["lost"]}
           for group in funnel["groups"]}
    assert got == {name: dict(months) for name, months in want.items()}
    whole = {p["period"]: p["won"] for p in funnel["metrics"]["trend"]["points"]}
    for period, won in whole.items():          # the groups' periods add up to the whole's
        assert won == sum(p["won"] for g in funnel["groups"] for p in g["metrics"]["trend"]["points"]
                          if p["period"] == period)
