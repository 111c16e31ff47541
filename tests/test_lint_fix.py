"""`funnel lint --fix`: the case folders in tests/cases/fix and the shipped examples.

Each folder holds `before.funnel` and `after.funnel` (what `--fix` makes of it) and,
optionally, `args` (more options, such as `--unsafe-fixes`). The fixed text must be a
fixed point: fixing it again changes nothing.
"""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from conftest import CASES
from funnelspec.api import fix
from funnelspec.cli import main

FIX_CASES = sorted(p for p in (CASES / "fix").iterdir() if p.is_dir())
EXAMPLES = sorted((CASES.parent.parent / "examples").glob("*.funnel"))


def run_fix(tmp_path, case, *extra):
    spec = tmp_path / "spec.funnel"
    shutil.copyfile(case / "before.funnel", spec)
    args = (case / "args").read_text().split() if (case / "args").exists() else []
    result = CliRunner().invoke(main, ["lint", "--fix", *args, *extra, str(spec)])
    return spec, args, result


@pytest.mark.parametrize("case", FIX_CASES, ids=[p.name for p in FIX_CASES])
def test_case(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec, args, result = run_fix(tmp_path, case)
    assert result.exit_code in (0, 1), result.output
    expected = (case / "after.funnel").read_text(encoding="utf-8")
    assert spec.read_text(encoding="utf-8") == expected
    again = CliRunner().invoke(main, ["lint", "--fix", "--diff", *args, str(spec)])
    assert again.exit_code == 0 and again.stdout == "", again.output


@pytest.mark.parametrize("case", FIX_CASES, ids=[p.name for p in FIX_CASES])
def test_diff_writes_nothing(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec, _, result = run_fix(tmp_path, case, "--diff")
    before = (case / "before.funnel").read_text(encoding="utf-8")
    assert spec.read_text(encoding="utf-8") == before
    changes = before != (case / "after.funnel").read_text(encoding="utf-8")
    assert result.exit_code == (1 if changes else 0), result.output
    assert ("(fixed)" in result.stdout) == changes


def test_there_are_cases():
    assert len(FIX_CASES) >= 6


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_fixing_a_shipped_example_changes_nothing(path):
    result = fix(str(path), unsafe=True)
    assert result.after == result.before and result.applied == []


def test_crlf_line_ends_are_kept(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    case = CASES / "fix" / "duration_written_out"
    spec = tmp_path / "spec.funnel"
    spec.write_bytes((case / "before.funnel").read_bytes().replace(b"\n", b"\r\n"))
    CliRunner().invoke(main, ["lint", "--fix", str(spec)])
    assert spec.read_bytes() == (case / "after.funnel").read_bytes().replace(b"\n", b"\r\n")


def test_options_need_fix(tmp_path):
    result = CliRunner().invoke(main, ["lint", "--diff", str(CASES / "fix" / "clean_spec_unchanged" / "before.funnel")])
    assert result.exit_code == 2 and "--diff and --unsafe-fixes go with --fix" in result.output
