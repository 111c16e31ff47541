"""Every input a campaign ever found failing, replayed: regressions/<surface>/<case>/ (see fuzz/regressions.py).

A case marked `xfail` still fails today, with the issue item that owns the
fix; the mark is strict, so the fix turns it into a failure here until the
mark is taken off (and the campaigns stop counting its signature as known).
"""
from __future__ import annotations

import tempfile

import pytest

from fuzz.regressions import cases
from fuzz.surfaces import SURFACES


def _param(case):
    marks = [pytest.mark.xfail(strict=True, reason=f"issue {case.issue}: {case.why}")] if case.xfail else []
    return pytest.param(case, id=f"{case.surface}/{case.name}", marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in cases()])
def test_regression(case):
    with tempfile.TemporaryDirectory(prefix="fuzz-case-") as folder:
        failures = SURFACES[case.surface].run(folder, case.files(), first_only=case.xfail)  # one is enough
    assert not failures, "\n\n".join(f"{f.kind} {f.signature}\n{f.command}\n{f.detail}" for f in failures)


def test_every_case_is_complete():
    """A case names its issue item and the failure it showed, and holds the surface's files."""
    for case in cases():
        assert case.surface in SURFACES, case.folder
        assert case.issue and (case.signatures or not case.xfail), case.folder
        assert case.files(), case.folder
