"""Names, imports and types as users see them: tests/cases/resolve/ -> rendered diagnostics.

A case is `<name>.funnel`, or a folder `<name>/` whose `main.funnel` imports
the other files. Cases named `ok_*` must resolve without a finding; every
other case shows at least one error. The snapshot is what `funnel lint`
prints (the lint checks aside: only parsing, imports, names and types).
"""
from __future__ import annotations

import pytest

from conftest import CASES
from funnelspec.api import analyse
from funnelspec.dsl.diagnostics import Severity
from funnelspec.dsl.render.text import render_text

RESOLVE = CASES / "resolve"
CASE_PATHS = sorted([p for p in RESOLVE.glob("*.funnel")] + [p for p in RESOLVE.iterdir() if p.is_dir()])


def resolve_case(path, monkeypatch):
    if path.is_dir():
        monkeypatch.chdir(path)
        return analyse("main.funnel", lint=False)
    monkeypatch.chdir(RESOLVE)
    return analyse(path.name, lint=False)


@pytest.mark.parametrize("path", CASE_PATHS, ids=[p.stem for p in CASE_PATHS])
def test_resolve_case(path, monkeypatch, snapshot):
    result = resolve_case(path, monkeypatch)
    if path.stem.startswith("ok_"):
        assert result.diagnostics == [] and result.spec is not None
    else:
        assert any(d.severity is Severity.ERROR for d in result.diagnostics)
        assert result.spec is None
    assert (render_text(result.diagnostics, result.sources) or "no findings") == snapshot
