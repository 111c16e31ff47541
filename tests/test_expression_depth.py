"""Expressions nested past the limit (FNL307, docs/limits.md) are refused by every command, and the
deepest expression lint accepts runs in simulate (the generated Python stays within CPython's limits).

The lint case folder FNL307 shows the rendered diagnostic.
"""
from __future__ import annotations

import pytest

from conftest import CASES

SPEC = (CASES / "replay" / "timer_every" / "spec.funnel").read_text(encoding="utf-8")
EVENTS = CASES / "replay" / "timer_every" / "events.jsonl"

SHAPES = {     # n -> a condition that nests about n levels
    "and": lambda n: " and ".join(["paid < budget"] * n),
    "plus": lambda n: "paid + " + " + ".join(["1"] * n) + " < budget",
    "minus": lambda n: "-" * n + "paid < budget",
    "not": lambda n: "not " * n + "paid < budget",
    "calls": lambda n: "abs(" * n + "paid" + ")" * n + " < budget",
    "calls and signs": lambda n: "abs(-" * (n // 2) + "paid" + ")" * (n // 2) + " < budget",
}


def spec_with(condition: str) -> str:
    return SPEC.replace("while paid < budget", f"while {condition}")


def refused(cli, path) -> bool:
    run = cli("lint", str(path))
    assert "Traceback" not in run.stderr
    return "FNL307" in run.stdout + run.stderr


@pytest.mark.parametrize("shape", SHAPES)
def test_the_deepest_expression_lint_accepts_runs_and_one_more_level_is_refused(cli, tmp_path, shape):
    path = tmp_path / "deep.funnel"
    low, high = 1, 200          # refused at high, accepted at low: bisect the first refused n
    path.write_text(spec_with(SHAPES[shape](high)), encoding="utf-8")
    assert refused(cli, path)
    while high - low > 1:
        middle = (low + high) // 2
        path.write_text(spec_with(SHAPES[shape](middle)), encoding="utf-8")
        low, high = (low, middle) if refused(cli, path) else (middle, high)
    path.write_text(spec_with(SHAPES[shape](low)), encoding="utf-8")
    for command in (("fmt", "--check"), ("export",), ("graph",)):
        run = cli(*command, str(path))
        assert run.exit_code in (0, 1) and "FNL307" not in run.stdout + run.stderr, command
    run = cli("simulate", str(path), "--events", str(EVENTS))
    assert run.exit_code == 0 and "0 rejected" in run.stdout


@pytest.mark.parametrize("n", [495, 973])
@pytest.mark.parametrize("command", [("lint",), ("fmt", "--check"), ("export",), ("graph",),
                                     ("simulate", "--events", str(EVENTS))])
@pytest.mark.parametrize("shape", SHAPES)
def test_a_long_expression_is_fnl307_in_every_command(cli, tmp_path, shape, n, command):
    path = tmp_path / "long.funnel"
    path.write_text(spec_with(SHAPES[shape](n)), encoding="utf-8")
    run = cli(command[0], str(path), *command[1:])
    assert run.exit_code in (1, 2) and "error[FNL307]" in run.stdout + run.stderr
