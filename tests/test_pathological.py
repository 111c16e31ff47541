"""Hostile specs that were super-linear stay linear: counted in steps, never timed (bench/pathological.py times them).

Each reproducer runs at full size and counts the work that used to grow with
the square (or cube) of the input; before the fixes these counts were in the
millions (and the runs took from 16 to 121 seconds).
"""
from __future__ import annotations

import pytest

from conftest import ROOT
from funnelspec.api import analyse

import sys

sys.path.insert(0, str(ROOT))
from bench.pathological import extends_chain, list_membership, many_funnels, misspelled_name  # noqa: E402


def counting(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_5000_item_list_is_intersected_in_linear_steps(monkeypatch):
    from funnelspec.dsl import domains

    calls = counting(monkeypatch, domains, "_intersect")
    analysis = analyse("list.funnel", list_membership(5000))
    assert analysis.spec is not None
    assert len(calls) < 50_000          # every pair of intervals, once a union per item: billions


def test_an_extends_chain_merges_each_funnel_once(monkeypatch):
    from funnelspec.dsl import resolve

    calls = counting(monkeypatch, resolve, "merge")
    analysis = analyse("chain.funnel", extends_chain(500))
    assert analysis.spec is not None and len(analysis.spec.funnels) == 500
    assert len(calls) == 499            # the whole chain again for each funnel: 124,750


@pytest.mark.parametrize("length, suggested", [(60, True), (4000, False)])
def test_a_long_misspelled_name_costs_at_most_a_band(monkeypatch, length, suggested):
    from funnelspec.dsl import spelling

    cells = []
    original = spelling.edit_distance

    def measured(a, b, bound=None):
        cells.append(len(a) * (2 * (bound if bound is not None else max(len(a), len(b))) + 1))
        return original(a, b, bound)

    monkeypatch.setattr(spelling, "edit_distance", measured)
    analysis = analyse("typo.funnel", misspelled_name(length))
    assert [d.code for d in analysis.diagnostics if d.severity.name == "ERROR"] == ["FNL102"]
    assert ("did you mean" in (analysis.diagnostics[0].hint or "")) == suggested
    # a band around the diagonal of a name up to 100 code points; the whole 4000 x 4000 table was 16 million
    assert sum(cells) <= 100 * (2 * 34 + 1) * 10


def test_fmt_line_numbers_from_the_newline_index_are_right_at_both_ends(monkeypatch):
    from funnelspec.dsl import format_layout
    from funnelspec.dsl.format import format_text

    seen = []
    original = format_layout.Layout.__init__

    def init(self, text, *args, **kwargs):
        original(self, text, *args, **kwargs)
        seen.append(self)

    monkeypatch.setattr(format_layout.Layout, "__init__", init)
    text = many_funnels(4000)
    result, problems = format_text(text, "many.funnel")
    assert result is not None and not problems
    layout = seen[0]
    assert layout.line_of(len(text)) == text.count("\n") + 1 and layout.line_of(0) == 1
