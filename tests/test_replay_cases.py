"""Replay scenarios as data: tests/cases/replay/<name>/ holds spec.funnel, events.jsonl and an optional args.txt.

Each runs `funnel simulate spec.funnel --events events.jsonl --format json ARGS`
in a copy of its folder; the snapshot is what a user sees: the exit code,
stdout, stderr and every file the run wrote (a rejects file).
"""
from __future__ import annotations

import shlex
import shutil

import pytest

from conftest import CASES

CASE_DIRS = sorted(p for p in (CASES / "replay").iterdir() if p.is_dir())


def case_args(folder) -> list[str]:
    args_file = folder / "args.txt"
    extra = shlex.split(args_file.read_text(encoding="utf-8")) if args_file.exists() else []
    args = ["simulate", "spec.funnel"]
    if "--events" not in extra:
        args += ["--events", "events.jsonl"]
    if "--format" not in extra:
        args += ["--format", "json"]
    return args + extra


@pytest.mark.parametrize("folder", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_replay_case(folder, tmp_path, monkeypatch, cli, snapshot):
    work = tmp_path / folder.name
    shutil.copytree(folder, work)
    before = {p.name for p in work.iterdir()}
    monkeypatch.chdir(work)
    args = case_args(folder)
    result = cli(*args)
    written = sorted(p for p in work.iterdir() if p.name not in before and not p.name.startswith(".funnel-"))
    parts = [f"$ funnel {shlex.join(args)}", f"exit {result.exit_code}", "--- stdout", result.stdout]
    if result.stderr:
        parts += ["--- stderr", result.stderr]
    for path in written:
        parts += [f"--- {path.name}", path.read_text(encoding="utf-8")]
    assert "\n".join(parts) == snapshot
    assert not any(p.name.startswith(".funnel-") for p in work.iterdir()), "a temporary file was left behind"


def test_every_case_has_a_spec_and_events():
    for folder in CASE_DIRS:
        assert (folder / "spec.funnel").exists(), folder
        assert (folder / "events.jsonl").exists() or "--events" in case_args(folder), folder
