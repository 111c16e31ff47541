"""Did-you-mean: the banded edit distance agrees with the full one wherever it can matter."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from funnelspec.dsl.spelling import SUGGEST_UP_TO, closest, edit_distance


def full_distance(a: str, b: str) -> int:
    """Optimal string alignment over the whole table: the reference."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def full_closest(name: str, candidates, max_ratio: float = 0.34):
    best, best_distance = None, None
    for candidate in sorted(set(candidates)):
        distance = full_distance(name.casefold(), candidate.casefold())
        limit = max(1, int(max(len(name), len(candidate)) * max_ratio))
        if distance <= limit and (best_distance is None or distance < best_distance):
            best, best_distance = candidate, distance
    return best


words = st.text(alphabet="abcAБб", max_size=9)


@settings(max_examples=500, deadline=None)
@given(a=words, b=words, bound=st.one_of(st.none(), st.integers(0, 10)))
def test_the_banded_distance_is_exact_up_to_its_bound(a, b, bound):
    exact = full_distance(a, b)
    assert edit_distance(a, b, bound) == (exact if bound is None else min(exact, bound + 1))


@settings(max_examples=300, deadline=None)
@given(name=words, candidates=st.lists(words, max_size=6))
def test_suggestions_are_those_of_the_full_distance(name, candidates):
    assert closest(name, candidates) == full_closest(name, candidates)


def test_a_very_long_name_gets_no_suggestion_and_a_long_one_does():
    stage = "s" + "a" * (SUGGEST_UP_TO - 1)
    assert closest(stage[:-1] + "b", [stage, "won"]) == stage
    assert closest("s" + "a" * 3999 + "b", ["s" + "a" * 4000, "won"]) is None
