"""Shared test helpers: paths to the repository's folders and a CLI runner."""
from __future__ import annotations

from pathlib import Path

import os

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

# Machines are shared and noisy: property tests judge behaviour, never time. On CI, hypothesis's own
# "ci" profile (derandomized, no deadline) applies; elsewhere this one.
settings.register_profile("funnelspec", deadline=None, suppress_health_check=[HealthCheck.too_slow])
if not os.environ.get("CI"):
    settings.load_profile("funnelspec")

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
EXAMPLES = ROOT / "examples"
STDLIB = ROOT / "stdlib"


@pytest.fixture(autouse=True)
def workers_as_asked(monkeypatch):
    """`--workers 3` forks three processes in tests, whatever the CPUs of the machine (the CLI cuts N to the
    CPUs unless FUNNEL_MAX_WORKERS allows more): the tests compare outputs across worker counts."""
    monkeypatch.setenv("FUNNEL_MAX_WORKERS", "8")


@pytest.fixture
def cli():
    """Run `funnel ARGS...` in-process; returns click's Result (exit_code, output)."""
    from funnelspec.cli import main

    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return run

# The session's PostgreSQL server, for the tests that ask for `postgres_server` (started once, on demand).
from postgres_server import postgres_server  # noqa: E402,F401

@pytest.fixture
def no_sla_is_a_warning(monkeypatch):
    """FNL404 as a warning, as `severity = { FNL404 = "warning" }` makes it: for tests of what warnings do
    (fail-on, baselines, annotations) that use the handiest finding there is, a stage without an sla."""
    import dataclasses

    from funnelspec.dsl import codes
    from funnelspec.dsl.diagnostics import Severity

    codes.all_codes()
    monkeypatch.setitem(codes.CODES, "FNL404", dataclasses.replace(codes.CODES["FNL404"], severity=Severity.WARNING))
