"""The cheap benchmarks still run (quick workloads): a renamed import must not break `make bench` unseen.

Figures are not checked here (machines are shared and noisy); bench/ prints them.
"""
from __future__ import annotations

import sys

from conftest import ROOT


def test_quick_lint_parse_diff_and_pathological_benchmarks_run(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    sys.modules.pop("bench", None)
    from bench.__main__ import main

    assert main(["lint", "parse", "diff", "pathological", "--quick"]) == 0
    printed = capsys.readouterr().out
    for name in ("== lint", "== parse", "== diff", "== pathological"):
        assert name in printed


def test_an_unknown_benchmark_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from bench.__main__ import main

    assert main(["no_such_bench"]) == 2
    assert "unknown benchmark" in capsys.readouterr().err


def test_the_quick_stream_reader_benchmark_runs(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    sys.modules.pop("bench", None)
    from bench.__main__ import main

    assert main(["streams", "--quick"]) == 0
    assert "reader / plain" in capsys.readouterr().out


def test_quick_serve_benchmark_runs(capsys, monkeypatch):
    """`python -m bench serve --quick` starts the server, loads it over loopback and prints its table."""
    import pytest

    pytest.importorskip("uvicorn")
    monkeypatch.syspath_prepend(str(ROOT))
    sys.modules.pop("bench", None)
    from bench.__main__ import main

    assert main(["serve", "--quick"]) == 0
    printed = capsys.readouterr().out
    assert "steady 200 req/s" in printed and "!!" not in printed


def test_quick_startup_benchmark_runs(capsys, monkeypatch):
    """`python -m bench startup --quick` times the commands against its baselines and prints the target line."""
    monkeypatch.syspath_prepend(str(ROOT))
    sys.modules.pop("bench", None)
    from bench.__main__ import main

    assert main(["startup", "--quick"]) == 0
    printed = capsys.readouterr().out
    assert 'python -c "import click"' in printed and "funnel simulate of one event:" in printed
