"""Every metric on small cases computed by hand (docs/metrics.md defines them)."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest

from funnelspec.engine.aggregate import ExactSum
from funnelspec.engine.metrics import compute_metrics, quantile
from funnelspec.engine.shape import FunnelShape, StageShape
from outcome_builders import DAY, at, deal, sample_outcomes, security_shape, straight

OPEN = ["new", "qualification", "meeting", "proposal", "negotiation"]


def whole(outcomes, until=None, by=(), shape=None):
    return compute_metrics(outcomes, [shape or security_shape()], until, by)[0].whole


def column(m, name):
    return [getattr(s, name) for s in m.stages]


def test_reached_counts_deals_that_entered_and_skips_are_counted_apart():
    m = whole([
        deal("skip", ("new", 0, 1), ("proposal", 1, 3), ("won", 3, None), via="manual"),
        deal("imported", ("proposal", 0, 2), ("lost", 2, None), reason="дорого"),
        deal("open", ("new", 0, 1), ("meeting", 1, None)),
    ], until=at(5))
    assert column(m, "reached") == [2, 0, 1, 2, 0]                 # entered, not "entered or later"
    assert column(m, "passed") == [2, 0, 0, 1, 0]
    assert m.won_reached == 1
    assert column(m, "conversion_next") == [1.0, None, 0.0, 0.5, None]
    # of the 2 deals that entered the first stage: both got at least to the meeting, one to won
    assert column(m, "conversion_first") == [1.0, 1.0, 1.0, 0.5, 0.5]
    assert m.won_to_first == 0.5
    # by hand new -> proposal jumps over two stages, proposal -> won over one; the automatic move skips nothing
    assert column(m, "skipped") == [0, 1, 1, 0, 1]
    assert m.skipped_deals == 1
    assert [s.time.count for s in m.stages] == [2, 0, 0, 2, 0]
    assert m.lost_by_stage == (("proposal", 1),)
    flows = {(f.source, f.target): f.count for f in m.flows}
    assert flows == {(None, "new"): 2, (None, "proposal"): 1, ("new", "proposal"): 1, ("new", "meeting"): 1,
                     ("proposal", "won"): 1, ("proposal", "lost"): 1}


def test_deals_lost_from_each_stage():
    outcomes = [straight(f"L{i}", OPEN[:i + 1], "lost", 0, 1, reason="нет ответа" if i % 2 else None)
                for i in range(5)]
    outcomes.append(deal("closed-at-once", ("lost", 0, None), reason="спам"))
    m = whole(outcomes)
    assert column(m, "reached") == [5, 4, 3, 2, 1]
    assert column(m, "conversion_next") == [4 / 5, 3 / 4, 2 / 3, 1 / 2, 0.0]
    assert column(m, "lost_from") == [1, 1, 1, 1, 1]
    assert column(m, "dropped") == [1, 1, 1, 1, 1]
    assert m.lost_by_stage == tuple((s, 1) for s in OPEN) + ((None, 1),)
    assert m.lost_by_reason == ((None, 3), ("нет ответа", 2), ("спам", 1))
    assert (m.won, m.lost, m.win_rate, m.never_open) == (0, 6, 0.0, 1)
    assert m.cycle_lost.count == 6
    assert [m.cycle_lost.minimum, m.cycle_lost.median, m.cycle_lost.maximum] == [0.0, 2.5 * DAY, 5 * DAY]


def test_lost_from_is_the_stage_before_the_last_loss_even_after_moving_back():
    m = whole([deal("back", ("new", 0, 1), ("qualification", 1, 2), ("meeting", 2, 3), ("qualification", 3, 4),
                    ("lost", 4, None))])
    assert m.lost_by_stage == (("qualification", 1),)
    assert column(m, "dropped") == [0, 0, 1, 0, 0]     # got as far as the meeting
    assert column(m, "reached") == [1, 1, 1, 0, 0]
    assert column(m, "entries") == [1, 2, 1, 0, 0]
    assert [(b.source, b.target, b.moves, b.deals, b.share) for b in m.moves_back] == [
        ("meeting", "qualification", 1, 1, 1.0)]
    assert (m.rework, m.rework_rate) == (1, 1.0)


def test_reopened_deals():
    reopened_won = deal("won-again-open", *[(s, i, i + 1) for i, s in enumerate(OPEN)], ("won", 5, 6),
                        ("negotiation", 6, None))
    lost_then_won = deal("lost-then-won", ("new", 0, 1), ("lost", 1, 2), ("new", 2, 3),
                         *[(s, 3 + i, 4 + i) for i, s in enumerate(OPEN[1:])], ("won", 7, None))
    m = whole([reopened_won, lost_then_won], until=at(10))
    assert m.reopened == 2
    assert (m.open, m.won, m.lost, m.win_rate) == (1, 1, 0, 1.0)
    assert m.won_reached == 2                          # once won counts as past every stage
    assert column(m, "reached") == [2, 2, 2, 2, 2]
    assert m.lost_by_stage == ()                       # final status decides: nobody is lost
    negotiation = m.stage_by_id["negotiation"]
    assert (negotiation.time.count, negotiation.waiting.count, negotiation.open) == (2, 1, 1)
    assert negotiation.waiting.median == 4 * DAY
    assert m.stage_by_id["new"].time.count == 3          # the second deal was in it twice


def test_deals_with_no_value():
    won = [("int", 100), ("float", 50.5), ("none", None), ("text", "abc"), ("bool", True), ("nan", math.nan)]
    outcomes = [straight(name, OPEN, "won", fields={"budget": value}) for name, value in won]
    outcomes.append(straight("missing", OPEN, "won"))
    outcomes += [straight("p-none", OPEN[:4], None, fields={"budget": None}),
                 straight("p-1000", OPEN[:4], None, fields={"budget": 1000}),
                 straight("n-10", OPEN[:1], None, fields={"budget": 10})]
    m = whole(outcomes, until=at(10))
    assert (m.won, m.won_without_value, m.won_value_total, m.won_value_mean) == (7, 5, 150.5, 75.25)
    proposal, new = m.stage_by_id["proposal"], m.stage_by_id["new"]
    assert (proposal.open, proposal.without_value, proposal.pipeline_value, proposal.forecast) == (2, 1, 1000, 500.0)
    assert (new.pipeline_value, new.forecast) == (10, None)        # no probability on the first stage
    assert (m.pipeline_value, m.forecast) == (1010, 500.0)


def test_no_value_field_means_no_value_figures():
    m = whole([straight("a", OPEN, "won", fields={"budget": 5}), straight("b", OPEN[:2], None)],
              shape=security_shape(value_field=None), until=at(9))
    assert (m.won_value_total, m.won_value_mean, m.pipeline_value, m.forecast) == (None, None, None, None)
    assert m.won_without_value == 1
    assert all(s.pipeline_value is None and s.forecast is None for s in m.stages)


def test_empty_stream():
    m = whole([])
    assert (m.deals, m.open, m.won, m.lost, m.as_of) == (0, 0, 0, 0, 0.0)
    assert m.win_rate is None and m.won_to_first is None and m.won_value_mean is None
    assert column(m, "reached") == [0] * 5
    assert column(m, "conversion_next") == [None] * 5
    assert column(m, "conversion_first") == [None] * 5
    assert m.cycle_won.count == 0 and m.cycle_won.median is None
    assert m.stuck == () and m.flows == () and m.lost_by_reason == ()
    assert (m.pipeline_value, m.forecast) == (0, 0.0)


def test_single_deal():
    m = whole([deal("only", ("new", 0, None), fields={"budget": 1})], until=at(3))
    assert column(m, "reached") == [1, 0, 0, 0, 0]
    assert column(m, "conversion_next") == [0.0, None, None, None, None]
    assert column(m, "conversion_first") == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert m.win_rate is None and m.open == 1
    new = m.stages[0]
    assert (new.time.count, new.waiting.count, new.waiting.mean) == (0, 1, 3 * DAY)
    assert [(s.deal, s.stage, s.age, s.sla) for s in m.stuck] == [("only", "new", 3 * DAY, DAY)]
    assert new.stuck == 1


def test_time_in_stage_mean_median_p90_and_over_sla():
    days = [1, 2, 3, 4, 10]
    m = whole([deal(f"t{d}", ("new", 0, d), ("lost", d, None)) for d in days])
    t = m.stage_by_id["new"].time
    assert (t.count, t.mean, t.median, t.minimum, t.maximum) == (5, 4 * DAY, 3 * DAY, DAY, 10 * DAY)
    assert t.p90 == pytest.approx(7.6 * DAY)           # between the 4th and 5th: 4 + 0.6 * (10 - 4)
    assert t.p25 == 2 * DAY and t.p75 == 4 * DAY
    assert m.stage_by_id["new"].over_sla == 4          # sla 1d: 2, 3, 4 and 10 days are over it


def test_open_stays_are_counted_apart():
    m = whole([deal("done", ("new", 0, 2), ("qualification", 2, None)),
               deal("waiting", ("new", 1, None))], until=at(5))
    new = m.stage_by_id["new"]
    assert (new.time.count, new.time.mean) == (1, 2 * DAY)
    assert (new.waiting.count, new.waiting.mean) == (1, 4 * DAY)
    assert (new.every_stay.count, new.every_stay.median) == (2, 3 * DAY)


def test_cycle_time_created_to_won_and_lost():
    m = whole([straight("w1", OPEN, "won", 0, 1), straight("w2", OPEN, "won", 0, 3),
               deal("l1", ("new", 0, 4), ("lost", 4, None), created=-1)])
    assert (m.cycle_won.count, m.cycle_won.mean, m.cycle_won.median) == (2, 10 * DAY, 10 * DAY)
    assert (m.cycle_won.minimum, m.cycle_won.maximum) == (5 * DAY, 15 * DAY)
    assert m.cycle_lost.mean == 5 * DAY                # from `created`, a day before its first stay


def test_stuck_deals_are_open_deals_over_their_stage_sla():
    m = whole([deal("p8", ("proposal", 0, None)), deal("p6", ("proposal", 2, None)),
               deal("q100", ("qualification", -92, None)), deal("n3", ("new", 5, None)),
               deal("gone", ("proposal", 0, 8), ("lost", 8, None))], until=at(8))
    assert [(s.deal, s.stage, s.age / DAY) for s in m.stuck] == [("p8", "proposal", 8.0), ("n3", "new", 3.0)]
    assert column(m, "stuck") == [1, 0, 0, 1, 0]
    assert m.stage_by_id["proposal"].over_sla == 1     # the lost deal's finished 8-day stay


def test_end_of_replay_defaults_to_the_latest_instant():
    m = whole([deal("a", ("new", 0, 4), ("lost", 4, None)), deal("b", ("new", 1, None))])
    assert m.as_of == at(4)
    assert m.stage_by_id["new"].waiting.mean == 3 * DAY


def test_grouped_by_one_field_sums_to_the_whole():
    result = compute_metrics(sample_outcomes(), [security_shape()], at(30), ("manager",))[0]
    keys = [g.key for g in result.groups]
    assert keys == [("Иванова",), ("Петров",), ("Сидоренко",)]
    assert [g.metrics.deals for g in result.groups] == [5, 4, 3]
    assert sum(g.metrics.deals for g in result.groups) == result.whole.deals
    assert sum(g.metrics.won for g in result.groups) == result.whole.won
    ivanova = result.groups[0].metrics
    assert (ivanova.won, ivanova.lost, ivanova.win_rate) == (2, 2, 0.5)


def test_grouped_by_two_fields_and_missing_values():
    outcomes = [straight("a", OPEN, "won", fields={"manager": "Иванова", "source": "ads"}),
                straight("b", OPEN[:1], "lost", fields={"manager": "Иванова"}),
                straight("c", OPEN[:1], "lost", fields={"manager": "Иванова", "source": "ads"})]
    result = compute_metrics(outcomes, [security_shape()], None, ("manager", "source"))[0]
    assert [(g.key, g.metrics.deals, g.metrics.win_rate) for g in result.groups] == [
        (("Иванова", "ads"), 2, 0.5), (("Иванова", None), 1, 0.0)]


def test_several_funnels_are_measured_apart():
    other = security_shape()
    other = type(other)("other", "Другая", None, None, other.stages)
    outcomes = [straight("a", OPEN, "won"), straight("b", OPEN[:2], "lost", funnel="other")]
    results = compute_metrics(outcomes, [security_shape(), other], None)
    assert [(r.shape.id, r.whole.deals, r.whole.won, r.whole.lost) for r in results] == [
        ("security", 1, 1, 0), ("other", 1, 0, 1)]


@pytest.mark.parametrize("outcome, by, message", [
    (straight("x", OPEN[:1], None, funnel="nope"), (), "deal `x` is in funnel `nope`, which is not in the spec"),
    (deal("y", ("new", 0, 1), ("proposl", 1, None)), (), "deal `y`: stage `proposl` is not a stage of funnel"),
    (straight("z", OPEN[:1], None), ("managr",), "funnel `security` has no field `managr` to group by"),
])
def test_bad_input_is_named(outcome, by, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        compute_metrics([outcome], [security_shape()], None, by)


def test_quantile_interpolates_between_closest_ranks():
    assert quantile([], 0.5) is None
    assert quantile([5.0], 0.9) == 5.0
    assert quantile([1.0, 2.0], 0.5) == 1.5
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.9) == pytest.approx(3.7)


def test_exact_sum_does_not_round_until_read():
    total = ExactSum()
    for _ in range(10):
        total.add(0.1)
    assert total.value == 1.0                          # a float loop gives 0.9999999999999999
    ints = ExactSum()
    for value in (10**18, 1, -(10**18)):
        ints.add(value)
    assert ints.value == 1 and isinstance(ints.value, int)


def test_side_stages_declared_or_inferred_from_moves_back_up_the_path():
    shape = security_shape()
    assert shape.side_ids == frozenset()
    assert security_shape(side=("meeting",)).side_ids == {"meeting"}
    # a rework stage written before negotiation that only negotiation leads to: off the path
    rework = replace(shape, stages=shape.stages[:4] + (StageShape("rework", "Доработка КП", "open", None, None, 3),)
                     + tuple(replace(s, order=s.order + 1) for s in shape.stages[4:]),
                     transitions=shape.transitions + (("negotiation", "rework"), ("rework", "negotiation")))
    assert rework.side_ids == {"rework"}
    assert [s.id for s in rework.main_stages] == OPEN
    # a way in from an earlier stage keeps it on the path; `any ->` says nothing either way
    assert replace(rework, transitions=rework.transitions + (("proposal", "rework"),)).side_ids == frozenset()
    assert replace(rework, transitions=((None, "rework"),)).side_ids == frozenset()
    # a saved result keeps the declaration
    assert FunnelShape.from_json(security_shape(side=("meeting",)).to_json()).side_ids == {"meeting"}


def test_a_side_stage_has_its_own_figures_and_stays_out_of_the_path():
    shape = security_shape(side=("meeting",))
    m = whole([
        deal("back-and-won", ("new", 0, 1), ("proposal", 1, 2), ("meeting", 2, 3), ("proposal", 3, 4),
             ("won", 4, None)),
        deal("lost-there", ("new", 0, 1), ("qualification", 1, 2), ("meeting", 2, 3), ("lost", 3, None)),
        deal("created-there", ("meeting", 0, None)),
    ], until=at(5), shape=shape)
    assert [s.id for s in m.stages] == ["new", "qualification", "proposal", "negotiation"]
    side = m.side_stages[0]
    assert (side.id, side.side, side.reached, side.entries, side.returned) == ("meeting", True, 3, 3, 1)
    assert side.came_from == ((None, 1), ("qualification", 1), ("proposal", 1))   # ties in stage order
    assert side.ended == (("meeting", 1), ("won", 1), ("lost", 1))
    assert (side.conversion_next, side.lost_from, side.open) == (None, 1, 1)
    assert column(m, "reached") == [2, 1, 1, 0]
    assert column(m, "passed") == [2, 0, 1, 0]           # new -> qualification then meeting (off the path): no pass
    assert [(b.source, b.target, b.deals) for b in m.moves_back] == [("qualification", "meeting", 1),
                                                                     ("proposal", "meeting", 1)]
    assert (m.rework, m.rework_rate, m.never_open) == (2, 2 / 3, 0)


def test_stays_ended_at_once_by_an_automatic_move_and_losses_without_a_reason():
    m = whole([
        deal("through", ("new", 0, 0), ("qualification", 0, 2), ("lost", 2, None), reason="дорого"),
        deal("by-hand", ("new", 0, 0), ("qualification", 0, 1), ("lost", 1, None), via="manual"),
        deal("waited", ("new", 0, 1), ("qualification", 1, None)),
    ], until=at(3))
    # two stays of 0 s in new; only the one an automatic move ended is "instant"
    assert column(m, "instant") == [1, 0, 0, 0, 0]
    assert m.stages[0].time.median == 0.0
    assert (m.lost, m.lost_without_reason) == (2, 1)


def test_sales_velocity_is_open_deals_times_win_rate_times_average_won_value_over_days_to_win():
    m = whole([straight("w1", OPEN, "won", 0, 1, fields={"budget": 100}),          # 5 days to win
               straight("w2", OPEN, "won", 0, 3, fields={"budget": 300}),          # 15 days
               straight("l", OPEN[:2], "lost", 0, 1),
               straight("o1", OPEN[:1], None, 0, 1), straight("o2", OPEN[:3], None, 0, 1),
               straight("o3", OPEN[:2], None, 0, 1)], until=at(20))
    assert m.velocity == 3 * (2 / 3) * 200 / 10
    assert whole([straight("o", OPEN[:1], None)], until=at(1)).velocity is None     # nothing decided yet
