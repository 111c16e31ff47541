"""Data-driven lint cases: tests/cases/lint/<CODE>/<case>.funnel -> rendered findings (text and JSON).

A case whose name starts with `near_miss` must not produce its folder's code;
every other case must. A `<case>.toml` beside a case is its pyproject.toml
(the [tool.funnel] settings); other cases run with the default settings.
Snapshots (tests/__snapshots__/test_lint_cases.ambr) show what users see.
"""
from __future__ import annotations

import json
import os
import re

import pytest

from conftest import CASES, ROOT
from funnelspec.api import analyse
from funnelspec.cli.common import dump_json
from funnelspec.cli.lint import render
from funnelspec.dsl.config import Settings, read_pyproject
from funnelspec.dsl.lint import combine, lint_analysis
from funnelspec.dsl.render.json_out import lint_json
from funnelspec.dsl.diagnostics import Severity

LINT = CASES / "lint"
CASE_FILES = sorted(p for p in LINT.glob("FNL*/*.funnel") if re.fullmatch(r"FNL\d{3}", p.parent.name))


def lint_case(path):
    """The combined run for one case file, linted from the repository root so that paths read short."""
    relative = os.path.relpath(path, ROOT)
    toml = path.with_suffix(".toml")
    settings = ((read_pyproject(str(toml)) if toml.exists() else None) or Settings()).overridden(show_advice=True)
    return combine([lint_analysis(analyse(relative, lint=False), settings)])


@pytest.fixture(autouse=True)
def _from_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_lint_case(path, snapshot):
    run = lint_case(path)
    code = path.parent.name
    found = {d.code for d in run.findings}
    if path.stem.startswith("near_miss"):
        assert code not in found, f"near miss {path.name} produced {code}"
        errors = [f"{d.code} {d.message}" for d in run.findings if d.severity is Severity.ERROR]
        assert not errors, f"a near miss must be checked in full, without errors: {errors}"
    else:
        assert code in found, f"{path.name} should produce {code}, found {sorted(found)}"
    assert render(run, "text", color=False) == snapshot(name="text")
    assert json.loads(dump_json(lint_json(run))) == snapshot(name="json")


def test_every_case_folder_is_a_known_code():
    from funnelspec.dsl.codes import all_codes

    folders = {p.name for p in LINT.iterdir() if p.is_dir()}
    assert folders <= set(all_codes()), folders - set(all_codes())
