"""Shared test helpers: paths to the repository's folders and a CLI runner."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
EXAMPLES = ROOT / "examples"
STDLIB = ROOT / "stdlib"


@pytest.fixture
def cli():
    """Run `funnel ARGS...` in-process; returns click's Result (exit_code, output)."""
    from funnelspec.cli import main

    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return run
