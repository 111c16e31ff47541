"""Did-you-mean: the closest known name by edit distance (Unicode-aware)."""
from __future__ import annotations


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment) over code points."""
    if a == b:
        return 0
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def closest(name: str, candidates, max_ratio: float = 0.34) -> str | None:
    """The candidate nearest to `name`, if it is near enough to be a slip of the finger."""
    best, best_distance = None, None
    folded = name.casefold()
    for candidate in sorted(set(candidates)):
        distance = edit_distance(folded, candidate.casefold())
        limit = max(1, int(max(len(name), len(candidate)) * max_ratio))
        if distance <= limit and (best_distance is None or distance < best_distance):
            best, best_distance = candidate, distance
    return best


def did_you_mean(name: str, candidates) -> str | None:
    match = closest(name, candidates)
    return f"did you mean `{match}`?" if match else None
