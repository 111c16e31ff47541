"""The shapes of DESIGN.md (and loops), each found on a funnel built to show it, and the thresholds that tune them."""
from __future__ import annotations

import pytest

from conftest import EXAMPLES
from funnelspec.engine.diagnosis import Thresholds, diagnose, load_thresholds, parse_overrides
from funnelspec.engine.metrics import compute_metrics
from outcome_builders import deal, security_shape, straight

OPEN = ["new", "qualification", "meeting", "proposal", "negotiation"]


def findings(outcomes, thresholds=Thresholds(), until=None):
    metrics = compute_metrics(outcomes, [security_shape()], until)[0].whole
    return {f.pattern: f for f in diagnose(metrics, thresholds)}


def lost_at(count, stage_index, prefix):
    return [straight(f"{prefix}{i}", OPEN[:stage_index + 1], "lost", i, 1) for i in range(count)]


def won(count, prefix="w"):
    return [straight(f"{prefix}{i}", OPEN, "won", i, 1) for i in range(count)]


def test_lead_quality_when_most_decided_deals_never_leave_the_first_stage():
    outcomes = lost_at(20, 0, "n") + won(4) + lost_at(6, 2, "m") + [straight(f"o{i}", ["new"], None, 40)
                                                                   for i in range(5)]
    found = findings(outcomes)["lead-quality"]
    assert found.message == ("67 % of deals never leave Новый лид (20 of 30 decided deals were lost there): "
                             "check lead quality and the first contact")
    assert found.stages == ("new",)
    assert found.evidence["decided"] == 30 and found.evidence["lost_in_first"] == 20


def test_no_lead_quality_finding_when_most_deals_pass_or_too_few_deals():
    assert "lead-quality" not in findings(lost_at(10, 0, "n") + won(20))
    assert "lead-quality" not in findings(lost_at(15, 0, "n") + won(4))            # 19 decided < 20
    assert "lead-quality" in findings(lost_at(15, 0, "n") + won(4), Thresholds(min_deals=10))


def test_price_below_market_when_every_stage_converts_nearly_all():
    outcomes = won(24) + lost_at(1, 4, "late")
    found = findings(outcomes)["price-below-market"]
    assert found.message == ("every stage converts at least 90 % (lowest: Согласование, 96 %; win rate 96 %): "
                             "deals close too easily, check whether the price is below market")
    assert "price-below-market" not in findings(won(24) + lost_at(4, 4, "late"))     # 86 % at the last stage


def test_late_losses_when_most_losses_come_in_the_last_stages():
    outcomes = lost_at(7, 3, "p") + lost_at(7, 4, "g") + lost_at(3, 0, "n") + lost_at(3, 1, "q") + won(10)
    found = findings(outcomes)["late-losses"]
    assert found.message == ("70 % of lost deals (14 of 20) drop out in the last stages, Коммерческое предложение "
                             "and Согласование: check selling skill and the price")
    assert found.stages == ("proposal", "negotiation")
    assert "late-losses" not in findings(outcomes, Thresholds(late_loss_share=0.75))
    assert "late-losses" in findings(outcomes, Thresholds(late_stages=4, late_loss_share=0.75))   # 17 of 20


def test_slow_stage_when_deals_wait_far_longer_in_one_stage():
    outcomes = [deal(f"s{i}", *[(s, d, d + 1) for d, s in enumerate(OPEN[:4])], ("negotiation", 4, 14),
                     ("won", 14, None)) for i in range(10)]
    found = findings(outcomes)["slow-stage"]
    assert found.message == ("deals wait a median of 10 days in Согласование, 10.0× the other stages' 1.0 days: "
                             "check whether the stage is needed or blocked")
    assert found.stages == ("negotiation",)
    assert "slow-stage" not in findings(outcomes, Thresholds(slow_stage_ratio=11))
    assert "slow-stage" not in findings(outcomes, Thresholds(slow_stage_min_days=12))


def test_slow_stage_counts_the_stays_still_open():
    passing = [deal(f"s{i}", *[(s, d, d + 1) for d, s in enumerate(OPEN)], ("won", 5, None)) for i in range(6)]
    blocked = [deal(f"b{i}", *[(s, d, d + 1) for d, s in enumerate(OPEN[:3])], ("proposal", 3, None))
               for i in range(6)]
    found = findings(passing + blocked, until=None)
    assert "slow-stage" not in found                  # the blocked deals have waited 2 days: the end is day 5
    later = findings(passing + blocked, until=deal("x", ("new", 40, None)).created)
    assert later["slow-stage"].stages == ("proposal",)


def test_a_healthy_funnel_has_no_finding():
    outcomes = (won(12) + lost_at(3, 0, "n") + lost_at(3, 1, "q") + lost_at(3, 2, "m") + lost_at(2, 3, "p")
                + lost_at(2, 4, "g"))
    assert findings(outcomes) == {}


def test_empty_and_tiny_streams_have_no_finding():
    assert findings([]) == {}
    assert findings(won(1)) == {}


def test_thresholds_from_pyproject_then_overrides(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.funnel.diagnosis]\nfirst-stage-drop = 0.8\nmin_deals = 50\n', encoding="utf-8")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    loaded = load_thresholds(str(nested), parse_overrides(("min-deals=10", "late-stages = 3")))
    assert (loaded.first_stage_drop, loaded.min_deals, loaded.late_stages) == (0.8, 10, 3)
    assert loaded.high_conversion == Thresholds().high_conversion
    assert load_thresholds(str(tmp_path / "a")).min_deals == 50


@pytest.mark.parametrize("text, message", [
    ("[tool.funnel.diagnosis]\nfirst_stage = 1\n", "unknown diagnosis threshold `first_stage`; known: `min-deals`"),
    ("[tool.funnel.diagnosis]\nmin-deals = \"many\"\n", "`min-deals` must be a number, not 'many'"),
    ("[tool.funnel.diagnosis]\nhigh-conversion = -1\n", "`high-conversion` must be a number at or above 0"),
    ("[tool.funnel.diagnosis\n", "pyproject.toml: "),
])
def test_bad_thresholds_are_named(tmp_path, text, message):
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_thresholds(str(tmp_path))


def test_bad_override_is_named():
    with pytest.raises(ValueError, match="--threshold `late`: expected NAME=VALUE"):
        parse_overrides(("late",))


def test_lint_accepts_the_diagnosis_table(cli, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.funnel]\nfail-on = "error"\n\n[tool.funnel.diagnosis]\n'
                                             'min-deals = 5\n', encoding="utf-8")
    spec = tmp_path / "sales.funnel"
    spec.write_text((EXAMPLES / "security_b2b.funnel").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    run = cli("lint", "sales.funnel")
    assert "FNL009" not in run.output and run.exit_code == 0, run.output


def test_rework_loop_when_many_deals_go_back_from_a_stage():
    back = [deal(f"b{i}", *[(s, j, j + 1) for j, s in enumerate(OPEN)], ("proposal", 5, 6), ("negotiation", 6, 7),
                 ("won", 7, None)) for i in range(21)]
    outcomes = back + won(29)
    found = findings(outcomes)["rework-loop"]
    assert found.message == ("42 % of deals go back from Согласование to Коммерческое предложение (21 of 50 deals "
                             "that reached Согласование, 21 moves): find out what sends them back")
    assert found.stages == ("negotiation", "proposal")
    assert "rework-loop" not in findings(outcomes, Thresholds(rework_share=0.5))
    assert "rework-loop" not in findings(back[:5] + won(10))                       # 15 deals < min-deals
