"""The values one field may take: unions of number intervals, sets of strings, true/false, and "unset".

These are the sets that dsl/satisfy.py intersects and complements to decide
whether conditions can hold together. Every set knows its term (the field,
`stage`, `now`...), so a complement stays inside what the field can hold:
an enum's options, an int's whole numbers, and "unset" only when optional.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

INF = math.inf
ANY_VALUE = object()      # an example that may be any value at all (only "set" matters)


@dataclass(frozen=True)
class Interval:
    lo: float
    lo_closed: bool
    hi: float
    hi_closed: bool

    def is_empty(self, integral: bool = False) -> bool:
        if integral:
            first, last = self.whole_bounds()
            return first > last
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))

    def whole_bounds(self) -> tuple[float, float]:
        """The first and last whole numbers inside (±inf when unbounded)."""
        first = -INF if self.lo == -INF else (math.ceil(self.lo) if self.lo_closed else math.floor(self.lo) + 1)
        last = INF if self.hi == INF else (math.floor(self.hi) if self.hi_closed else math.ceil(self.hi) - 1)
        return first, last

    def example(self, integral: bool, steps: tuple[float, ...] = (1,)) -> float:
        """A value inside, as round as it can be: a bound itself, else a bound moved by the largest step that fits."""
        if integral:
            first, last = self.whole_bounds()
            return first if first != -INF else (last if last != INF else 0)
        if self.lo == self.hi:
            return self.lo
        if self.lo_closed and self.lo != -INF:
            return self.lo
        if self.hi_closed and self.hi != INF:
            return self.hi
        if self.lo == -INF and self.hi == INF:
            return 0
        for step in steps:
            if self.lo != -INF and (self.lo + step < self.hi):
                return self.lo + step
            if self.lo == -INF and self.hi - step > self.lo:
                return self.hi - step
        return (self.lo + self.hi) / 2


def _intersect(a: Interval, b: Interval) -> Interval:
    if a.lo > b.lo or (a.lo == b.lo and not a.lo_closed):
        lo, lo_closed = a.lo, a.lo_closed
    else:
        lo, lo_closed = b.lo, b.lo_closed
    if a.hi < b.hi or (a.hi == b.hi and not a.hi_closed):
        hi, hi_closed = a.hi, a.hi_closed
    else:
        hi, hi_closed = b.hi, b.hi_closed
    return Interval(lo, lo_closed, hi, hi_closed)


@dataclass(frozen=True)
class Numbers:
    """A union of disjoint intervals, sorted."""

    parts: tuple[Interval, ...]

    @classmethod
    def everything(cls) -> "Numbers":
        return cls((Interval(-INF, False, INF, False),))

    @classmethod
    def compare(cls, op: str, value: float) -> "Numbers":
        """The numbers x for which `x OP value` holds."""
        if op == "==":
            return cls((Interval(value, True, value, True),))
        if op == "!=":
            return cls.compare("==", value).complement()
        if op in ("<", "<="):
            return cls((Interval(-INF, False, value, op == "<="),))
        if op in (">", ">="):
            return cls((Interval(value, op == ">=", INF, False),))
        raise ValueError(op)

    @classmethod
    def points(cls, values) -> "Numbers":
        """Exactly `values`: distinct points are already disjoint, sorted they are the union (n log n)."""
        return cls(tuple(Interval(value, True, value, True) for value in sorted(set(values))))

    def intersect(self, other: "Numbers") -> "Numbers":
        """Both unions are sorted and disjoint: one sweep over the two (linear, not every pair)."""
        mine, theirs = self.parts, other.parts
        found = []
        i = j = 0
        while i < len(mine) and j < len(theirs):
            a, b = mine[i], theirs[j]
            part = _intersect(a, b)
            if not part.is_empty():
                found.append(part)
            if a.hi < b.hi or (a.hi == b.hi and not a.hi_closed):      # `a` ends first: nothing later meets it
                i += 1
            else:
                j += 1
        return Numbers(tuple(found))

    def complement(self) -> "Numbers":
        gaps, lo, lo_closed = [], -INF, False
        for part in self.parts:
            gap = Interval(lo, lo_closed, part.lo, not part.lo_closed)
            if not gap.is_empty() and not (gap.lo == gap.hi == -INF):
                gaps.append(gap)
            lo, lo_closed = part.hi, not part.hi_closed
        tail = Interval(lo, lo_closed, INF, False)
        if not tail.is_empty() and lo != INF:
            gaps.append(tail)
        return Numbers(tuple(gaps))

    def union(self, other: "Numbers") -> "Numbers":
        return self.complement().intersect(other.complement()).complement()

    def is_empty(self, integral: bool) -> bool:
        return all(part.is_empty(integral) for part in self.parts)

    def example(self, integral: bool, steps: tuple[float, ...] = (1,)) -> float | None:
        for part in self.parts:
            if not part.is_empty(integral):
                return part.example(integral, steps)
        return None


@dataclass(frozen=True)
class Strings:
    """Exactly `items` (finite), or every string but `items` (cofinite)."""

    finite: bool
    items: frozenset[str]

    def intersect(self, other: "Strings") -> "Strings":
        if self.finite and other.finite:
            return Strings(True, self.items & other.items)
        if self.finite:
            return Strings(True, self.items - other.items)
        if other.finite:
            return Strings(True, other.items - self.items)
        return Strings(False, self.items | other.items)

    def complement(self) -> "Strings":
        return Strings(not self.finite, self.items)

    def within(self, universe: frozenset[str] | None) -> "Strings":
        if universe is None:
            return self
        return Strings(True, (self.items & universe) if self.finite else (universe - self.items))

    def is_empty(self) -> bool:
        return self.finite and not self.items

    def example(self) -> str | None:
        if self.finite:
            return min(self.items) if self.items else None
        candidate, n = "x", 1
        while candidate in self.items:
            n += 1
            candidate = f"x{n}"
        return candidate


@dataclass(frozen=True)
class Term:
    """Something a condition can constrain: a field, `stage`, `now`, `time_in_stage`, `event.X`."""

    name: str
    kind: str                                  # number | text | bool
    optional: bool
    integral: bool = False
    universe: frozenset[str] | None = None     # enum options, stage ids
    shown_as: str = ""                         # the declared type kind, for examples (duration, datetime...)
    steps: tuple[float, ...] = (1,)            # round distances from a bound, for examples (a day for dates)

    def everything(self) -> "Values":
        return self._everything

    @cached_property
    def _everything(self) -> "Values":
        """Made once per term: for `stage` it is a set of every stage id, asked for by every comparison."""
        if self.kind == "number":
            part = Numbers.everything()
        elif self.kind == "text":
            part = Strings(False, frozenset()).within(self.universe)
        else:
            part = frozenset({True, False})
        return Values(self, part, self.optional)


@dataclass(frozen=True)
class Values:
    """The values a term may take under some conditions; `unset` says whether "not set" is among them."""

    term: Term
    part: object                # Numbers | Strings | frozenset[bool]
    unset: bool

    def intersect(self, other: "Values") -> "Values":
        if self.term.kind == "bool":
            part = self.part & other.part
        else:
            part = self.part.intersect(other.part)
        return Values(self.term, part, self.unset and other.unset)

    def complement(self) -> "Values":
        if self.term.kind == "bool":
            part = frozenset({True, False}) - self.part
        elif self.term.kind == "text":
            part = self.part.complement().within(self.term.universe)
        else:
            part = self.part.complement()
        return Values(self.term, part, self.term.optional and not self.unset)

    def values_empty(self) -> bool:
        if self.term.kind == "bool":
            return not self.part
        if self.term.kind == "text":
            return self.part.is_empty()
        return self.part.is_empty(self.term.integral)

    def is_empty(self) -> bool:
        return self.values_empty() and not self.unset

    def example(self):
        """A value inside, as a run-time value; None when only "unset" is left; ANY_VALUE when any value will do."""
        if self.values_empty():
            return None
        if self.part == self.term.everything().part:
            return ANY_VALUE
        if self.term.kind == "bool":
            return True if True in self.part else False
        if self.term.kind == "text":
            return self.part.example()
        value = self.part.example(self.term.integral, self.term.steps)
        if isinstance(value, int):      # float() of a whole number past 1e308 overflows
            return value
        return int(value) if float(value).is_integer() else value
