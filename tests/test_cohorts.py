"""Creation cohorts (`--cohort week|month|quarter`): labels that sort in time, and groups listed in time order."""
from __future__ import annotations

import pytest

from funnelspec.engine.cohorts import cohort_label, cohort_name, title_of
from funnelspec.engine.metrics import compute_metrics
from outcome_builders import at, security_shape, straight


@pytest.mark.parametrize("day, period, label", [
    ("2026-01-01", "week", "2026-W01"), ("2027-01-01", "week", "2026-W53"), ("2026-03-31", "month", "2026-03"),
    ("2026-04-01", "quarter", "2026-Q2"), ("2026-12-31", "quarter", "2026-Q4"),
])
def test_labels(day, period, label):
    import datetime as dt

    ts = dt.datetime.fromisoformat(day + "T23:59:59+00:00").timestamp()
    assert cohort_label(ts, period) == label


def test_names_and_headings():
    assert cohort_name("month") == "cohort:month"
    assert title_of("cohort:month") == "month created" and title_of("manager") == "manager"
    with pytest.raises(ValueError, match="cohort period `year` is not one of: week, month, quarter"):
        cohort_name("year")


def test_cohorts_are_groups_in_time_order_after_the_by_fields():
    # 2026-01-01 + 0, 40 and 70 days: January, February and March; most deals in March
    outcomes = [straight(f"d{i}", ["new", "qualification"], "won", start, fields={"manager": "Иванова"})
                for i, start in enumerate([0, 40, 70, 71, 72])]
    result = compute_metrics(outcomes, [security_shape()], at(100), by=("manager", "cohort:month"))[0]
    assert [(g.key, g.metrics.deals) for g in result.groups] == [
        (("Иванова", "2026-01"), 1), (("Иванова", "2026-02"), 1), (("Иванова", "2026-03"), 3)]
    assert sum(g.metrics.won for g in result.groups) == result.whole.won == 5
