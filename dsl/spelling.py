"""Did-you-mean: the closest known name by edit distance (Unicode-aware).

The distance is computed only as far as it can matter: within a band of
the largest distance still worth suggesting (a candidate whose length
differs by more is skipped outright), stopping once every path is past it,
and not at all for a name longer than SUGGEST_UP_TO (docs/limits.md). A
name is thus checked in time linear in its length, however long.
"""
from __future__ import annotations

SUGGEST_UP_TO = 100       # code points: a longer name gets no did-you-mean


def edit_distance(a: str, b: str, bound: int | None = None) -> int:
    """Damerau-Levenshtein (optimal string alignment) over code points; past `bound`, `bound + 1`."""
    if a == b:
        return 0
    if bound is None:
        bound = max(len(a), len(b))
    over = bound + 1
    if abs(len(a) - len(b)) > bound:
        return over
    width = len(b)
    before, previous = None, [j if j <= bound else over for j in range(width + 1)]
    for i, ca in enumerate(a, 1):
        row = [over] * (width + 1)
        if i <= bound:
            row[0] = i
        low, high = max(1, i - bound), min(width, i + bound)
        for j in range(low, high + 1):
            cb = b[j - 1]
            value = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, before[j - 2] + 1)
            row[j] = value if value < over else over
        # a path to the end crosses this row or, by a transposition, the one before: both past the bound
        if min(row) >= over and min(previous) >= over:
            return over
        before, previous = previous, row
    return previous[-1]


def closest(name: str, candidates, max_ratio: float = 0.34) -> str | None:
    """The candidate nearest to `name`, if it is near enough to be a slip of the finger."""
    if len(name) > SUGGEST_UP_TO:
        return None
    best, best_distance = None, None
    folded = name.casefold()
    for candidate in sorted(set(candidates)):
        limit = max(1, int(max(len(name), len(candidate)) * max_ratio))
        bound = limit if best_distance is None else min(limit, best_distance - 1)
        if bound < 0:
            continue
        distance = edit_distance(folded, candidate.casefold(), bound)
        if distance <= bound:
            best, best_distance = candidate, distance
    return best


def did_you_mean(name: str, candidates) -> str | None:
    match = closest(name, candidates)
    return f"did you mean `{match}`?" if match else None
