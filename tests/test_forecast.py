"""fit recovers a known behaviour; the forecast's P10-P90 interval holds about 80 % of the time; a seed repeats."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from funnelspec import api
from forecast_history import (DAY, LEAD_MEAN, LEAD_TO_OFFER, OFFER_MEAN, OFFER_TO_WON, START, draw_paths, history,
                              won_between)

CASES = Path(__file__).parent / "cases" / "forecast"
SPEC = str(CASES / "known.funnel")


def _survival_at(stage, t: float) -> float:
    s = 1.0
    for time, value in zip(stage.times, stage.survival):
        if time > t:
            break
        s = value
    return s


@pytest.fixture(scope="module")
def fitted():
    paths = draw_paths(4000, 365, seed=11)
    cut = START + 365 * DAY
    return api.fit(SPEC, history(paths, cut))


def test_fit_recovers_the_shares(fitted):
    stages = fitted.funnels["known"].whole.stages
    for stage, target, share in (("lead", "offer", LEAD_TO_OFFER), ("offer", "won", OFFER_TO_WON)):
        fit = stages[stage]
        error = math.sqrt(share * (1 - share) / fit.exits)
        assert abs(fit.shares()[target] - share) < 4 * error, (stage, fit.shares(), error)


def test_fit_recovers_the_stays_with_censoring(fitted):
    stages = fitted.funnels["known"].whole.stages
    for stage, mean in (("lead", LEAD_MEAN), ("offer", OFFER_MEAN)):
        fit = stages[stage]
        assert fit.censored > 50           # open deals at the cut: the curve must take them into account
        error = 4 * math.sqrt(0.25 / fit.exits)
        for days in (5, 10, 20, 40):
            expected = math.exp(-days * DAY / mean)
            assert abs(_survival_at(fit, days * DAY) - expected) < error, (stage, days)


def test_naive_stays_would_be_biased(fitted):
    """The censored stays matter: dropping them shortens the stays (the check above would catch it)."""
    fit = fitted.funnels["known"].whole.stages["offer"]
    assert fit.censored / fit.visits > 0.02


def test_fit_by_group_falls_back_with_a_note():
    paths = draw_paths(80, 365, seed=5)
    model = api.fit(SPEC, history(paths, START + 365 * DAY), by="region", min_deals=30)
    assert set(model.funnels["known"].groups) == {"north", "south"}
    assert model.funnels["known"].groups["north"].fallback == ("offer",)
    assert any("region = `north`" in note and "`offer`" in note for note in model.notes)


def test_the_interval_holds_about_eighty_percent_of_the_time():
    """Over repeated draws of a history and its future, P10-P90 holds the actual wins about 80 % of the time.

    Fixed seeds: the figure is the same on every run; 40 draws give 32 expected, the bounds are 4 standard
    deviations wide (binomial, 2.5 draws)."""
    horizon = 30 * DAY
    held = 0
    draws = 40
    for rep in range(draws):
        paths = draw_paths(900, 200, seed=1000 + rep)
        cut = START + 200 * DAY
        events = history(paths, cut)
        model = api.fit(SPEC, events)
        result = api.forecast(SPEC, model, events, horizon=horizon, runs=400, seed=rep)
        actual = won_between(paths, cut, cut + horizon)
        held += result.count.p10 <= actual <= result.count.p90
    assert 22 <= held <= 39, held


def test_a_timer_in_a_changed_spec_moves_the_forecast(fitted):
    paths = draw_paths(1500, 200, seed=3)
    events = history(paths, START + 200 * DAY)
    model = api.fit(SPEC, events)
    plain = api.forecast(SPEC, model, events, horizon=60 * DAY, runs=300, seed=1)
    timed = api.forecast(str(CASES / "timeout.funnel"), model, events, horizon=60 * DAY, runs=300, seed=1)
    # Offers lost after 5 days: only those won within 5 days (1 - exp(-5/20) = 22 %) remain.
    assert timed.count.p50 < 0.4 * plain.count.p50
    assert timed.count.p50 > 0


def test_the_same_seed_gives_the_same_figures_and_workers_do_not_change_them(fitted):
    paths = draw_paths(1500, 200, seed=3)
    events = history(paths, START + 200 * DAY)
    model = api.fit(SPEC, events)
    one = api.forecast(SPEC, model, events, horizon=60 * DAY, runs=3000, seed=9).to_json()
    again = api.forecast(SPEC, model, events, horizon=60 * DAY, runs=3000, seed=9, workers=2).to_json()
    other = api.forecast(SPEC, model, events, horizon=60 * DAY, runs=3000, seed=10).to_json()
    assert one == again
    assert one != other
