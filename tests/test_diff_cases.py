"""Diff scenarios as data: tests/cases/diff/<name>/ holds old.funnel, new.funnel, events.jsonl, optional args.txt.

Each runs `funnel diff old.funnel new.funnel --events events.jsonl ARGS` in a
copy of its folder, as text and as JSON; the snapshot is what a user sees:
the exit codes, stdout and stderr of both.
"""
from __future__ import annotations

import json
import shlex
import shutil

import pytest

from conftest import CASES

CASE_DIRS = sorted(p for p in (CASES / "diff").iterdir() if p.is_dir())


def case_args(folder) -> list[str]:
    args_file = folder / "args.txt"
    extra = shlex.split(args_file.read_text(encoding="utf-8")) if args_file.exists() else []
    args = ["diff", "old.funnel", "new.funnel"]
    if "--events" not in extra:
        args += ["--events", "events.jsonl"]
    return args + extra


@pytest.mark.parametrize("folder", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_diff_case(folder, tmp_path, monkeypatch, cli, snapshot):
    work = tmp_path / folder.name
    shutil.copytree(folder, work)
    monkeypatch.chdir(work)
    parts = []
    codes = set()
    for fmt in ("text", "json"):
        args = case_args(folder) + ["--format", fmt]
        result = cli(*args)
        codes.add(result.exit_code)
        parts += [f"$ funnel {shlex.join(args)}", f"exit {result.exit_code}", "--- stdout", result.stdout]
        if result.stderr:
            parts += ["--- stderr", result.stderr]
        if fmt == "json" and result.exit_code != 2:
            assert json.loads(result.stdout)["exit"] == result.exit_code
    assert len(codes) == 1, "the format changed the exit code"
    assert "\n".join(parts) == snapshot
    assert sorted(p.name for p in work.iterdir()) == sorted(p.name for p in folder.iterdir()), \
        "the diff wrote a file"


def test_every_case_has_both_specs_and_events():
    for folder in CASE_DIRS:
        for name in ("old.funnel", "new.funnel", "events.jsonl"):
            assert (folder / name).exists(), folder / name


@pytest.mark.parametrize("folder", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_diff_case_is_the_same_on_two_and_three_workers(folder, tmp_path, monkeypatch, cli):
    """`--workers N` splits the deals over processes (engine/diff_shares.py): the same plan, the same bytes."""
    from funnelspec.engine.parallel import can_fork

    if not can_fork():
        pytest.skip("workers are forked processes")
    work = tmp_path / folder.name
    shutil.copytree(folder, work)
    monkeypatch.chdir(work)
    for fmt in ("text", "json"):
        args = case_args(folder) + ["--format", fmt]
        one = cli(*args, "--workers", "1")
        for workers in ("2", "3"):
            other = cli(*args, "--workers", workers)
            assert (other.exit_code, other.stdout, other.stderr) == (one.exit_code, one.stdout, one.stderr)
