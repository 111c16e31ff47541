"""Partial aggregates merge exactly: partitions aggregated apart and merged give the one-pass figures."""
from __future__ import annotations

import math

from hypothesis import given, settings, strategies as st

from funnelspec.engine.aggregate import ExactSum, SortedRun
from funnelspec.engine.metrics import aggregate_outcomes, finish_grouped
from funnelspec.engine.outcome import DealOutcome, Visit
from outcome_builders import DAY, ORIGIN, security_shape

SHAPE = security_shape(side=("meeting",))        # a side stage, so its figures are merged too
STAGES = [s.id for s in SHAPE.stages]
UNTIL = ORIGIN + 400 * DAY

values = st.one_of(st.none(), st.integers(0, 10**7), st.floats(0, 1e7, allow_nan=False), st.just("n/a"))
managers = st.sampled_from(["Иванова", "Петров", "Сидоренко", None])


@st.composite
def outcomes(draw, index):
    created = ORIGIN + draw(st.floats(0, 100)) * DAY
    stages = draw(st.lists(st.sampled_from(STAGES), min_size=1, max_size=8))
    stages = [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]]
    t, visits = created, []
    for i, stage in enumerate(stages):
        last = i == len(stages) - 1
        stay = draw(st.floats(0, 30)) * DAY
        via = "created" if i == 0 else draw(st.sampled_from(["auto", "manual"]))    # manual moves can skip
        visits.append(Visit(stage, t, None if last else t + stay, via))
        t += stay
    end = visits[-1]
    status = end.stage if end.stage in ("won", "lost") else "open"
    reason = draw(st.sampled_from(["дорого", "нет ответа", None])) if status == "lost" else None
    fields = {"budget": draw(values), "manager": draw(managers)}
    return DealOutcome(f"D-{index}", "security", created, end.stage, status, reason,
                       end.entered if status != "open" else None, tuple(visits), fields)


@st.composite
def streams(draw):
    count = draw(st.integers(0, 25))
    return [draw(outcomes(i)) for i in range(count)]


@settings(max_examples=150, deadline=None)
@given(stream=streams(), parts=st.integers(1, 5), seed=st.randoms(use_true_random=False),
       by=st.sampled_from([(), ("manager",), ("cohort:week",)]), trend=st.sampled_from([None, "week", "month"]))
def test_partitions_merged_equal_one_pass(stream, parts, seed, by, trend):
    one_pass = finish_grouped(aggregate_outcomes(stream, [SHAPE], UNTIL, by, trend)["security"])
    buckets = [[] for _ in range(parts)]
    for outcome in stream:
        buckets[seed.randrange(parts)].append(outcome)
    partials = [aggregate_outcomes(bucket, [SHAPE], UNTIL, by, trend)["security"] for bucket in buckets]
    seed.shuffle(partials)
    merged = partials[0]
    for partial in partials[1:]:
        merged.merge(partial)
    assert finish_grouped(merged) == one_pass


@settings(max_examples=200, deadline=None)
@given(numbers=st.lists(st.one_of(st.integers(-10**12, 10**12), st.floats(-1e12, 1e12)), max_size=40),
       cut=st.integers(0, 40))
def test_exact_sum_is_the_correctly_rounded_sum_in_any_grouping(numbers, cut):
    left, right, whole = ExactSum(), ExactSum(), ExactSum()
    for n in numbers[:cut]:
        left.add(n)
    for n in numbers[cut:]:
        right.add(n)
    for n in reversed(numbers):
        whole.add(n)
    right.merge(left)
    assert right.value == whole.value
    if all(isinstance(n, int) for n in numbers):
        assert whole.value == sum(numbers)
    else:
        assert whole.value == math.fsum(numbers)


def test_sorted_run_merges_in_any_order():
    a, b = SortedRun(), SortedRun()
    for v in (3.0, 1.0):
        a.add(v)
    for v in (2.0, 0.5):
        b.add(v)
    b.merge(a)
    assert b.values() == [0.5, 1.0, 2.0, 3.0] and len(b) == 4
