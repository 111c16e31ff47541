"""Near-duplicate stage names (FNL401): the bucketed search finds what comparing every pair finds."""
from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from funnelspec.dsl.model import per_funnel
from funnelspec.dsl.stage_names import first_near_names, near_names

# Spellings that fold alike, differ by a letter or an ending, or differ in a number.
PIECES = ["Согласование", "Согласования", "согласование ", "Согла-сование", "Звонок", "Звонок 1", "Звонок 2",
          "Встреча", "Встречи", "Proposal", "Proposals", "Meeting 3", "meeting 3", "Договор", "Счёт", "Счет"]


def every_pair(titles: list[str]) -> list[tuple[int, int, str]]:
    """The definition: each title against every earlier one, the first near one reported."""
    found = []
    for i, title in enumerate(titles):
        for j in range(i):
            why = near_names(titles[j], title)
            if why:
                found.append((i, j, why))
                break
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(alphabet="абвгдaeiou 12-", max_size=8), max_size=12))
def test_the_bucketed_search_finds_what_every_pair_finds(titles):
    assert list(first_near_names(titles)) == every_pair(titles)


def test_names_that_differ_in_a_number_are_never_compared_as_near():
    titles = [f"Этап {i}" for i in range(1000)]
    assert list(first_near_names(titles)) == []
    assert list(first_near_names(["Этап", "Этапы", "Этап 1"])) == [(1, 0, "the same words in another form")]


@dataclass(eq=False)
class Unhashable:
    """Stands in for a funnel: per_funnel must not hash it (a funnel's hash walks its whole model)."""

    calls: list = field(default_factory=list)

    def __hash__(self):
        raise AssertionError("per_funnel hashed its funnel")


@per_funnel
def _derived(funnel: Unhashable, extra: str = "") -> list:
    funnel.calls.append(extra)
    return [extra]


def test_per_funnel_computes_once_per_funnel_and_arguments_without_hashing_the_funnel():
    one, two = Unhashable(), Unhashable()
    assert _derived(one) is _derived(one)
    assert _derived(one, "x") == ["x"] and _derived(one, "x") is _derived(one, "x")
    assert _derived(two) is not _derived(one)
    assert one.calls == ["", "x"] and two.calls == [""]
