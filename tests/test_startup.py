"""Start-up: a command imports what it runs and nothing more (bench/startup.py measures the time).

`funnel simulate` of a small stream in text mode must not import the heavy
libraries (networkx, jsonschema, rich, numpy, pyarrow, dask, ...) nor the HTML
report; with its spec in the cache (dsl/user_cache.py) not the parser, lark
or the checks either. Checked in a fresh interpreter, whose sys.modules is
what the command loaded.
"""
from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys

import pytest

from conftest import EXAMPLES

# Never needed to replay a small stream and print its summary.
HEAVY = ("networkx", "jsonschema", "rich", "numpy", "pyarrow", "dask", "distributed", "pygls", "starlette",
         "uvicorn", "psycopg", "funnelspec.engine.report.html", "funnelspec.engine.parallel",
         "funnelspec.engine.cluster", "funnelspec.engine.forecast", "funnelspec.serve", "funnelspec.lsp")
# Needed only to parse and check a spec that is not in the cache.
ANALYSIS = ("lark", "funnelspec.dsl.parser", "funnelspec.dsl.checks", "funnelspec.dsl.lint")

RUN_AND_LIST = """
import json, sys
from funnelspec.cli import main
try:
    main(sys.argv[1:], prog_name="funnel")
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def imported_by(args: list[str], cache: str) -> tuple[int, set[str]]:
    """Run `funnel ARGS` in a fresh interpreter: (exit code, the modules it imported)."""
    env = {k: v for k, v in os.environ.items() if k != "FUNNELSPEC_NO_CACHE"}
    env["XDG_CACHE_HOME"] = cache
    done = subprocess.run([sys.executable, "-c", RUN_AND_LIST, *args], capture_output=True, text=True, env=env)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.fixture
def one_event(tmp_path):
    path = tmp_path / "one.jsonl"
    with open(EXAMPLES / "b2b_basic.events.jsonl", encoding="utf-8") as stream:
        path.write_text(stream.readline(), encoding="utf-8")
    return path


def test_simulate_of_a_small_stream_imports_no_heavy_module(tmp_path, one_event):
    args = ["simulate", str(EXAMPLES / "b2b_basic.funnel"), "--events", str(one_event)]
    cache = str(tmp_path / "cache")

    code, first = imported_by(args, cache)          # the spec parsed and checked, then kept
    assert code in (0, None)
    assert loaded(first, HEAVY) == []
    assert "lark" in first

    code, again = imported_by(args, cache)          # the spec read back from the cache
    assert code in (0, None)
    assert loaded(again, HEAVY) == []
    assert loaded(again, ANALYSIS) == []


def test_a_command_imports_its_own_module_and_not_the_others(tmp_path):
    code, modules = imported_by(["new", "--list"], str(tmp_path / "cache"))
    assert code in (0, None)
    commands = {m for m in modules if m.startswith("funnelspec.cli.")} - {"funnelspec.cli.common",
                                                                         "funnelspec.cli.outputs"}
    assert commands == {"funnelspec.cli.new"}
    assert loaded(modules, HEAVY + ANALYSIS) == []


def test_every_command_is_in_the_table_of_the_module_that_adds_it():
    from funnelspec.cli import main

    package = importlib.import_module("funnelspec.cli")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"funnelspec.cli.{module.name}")
    assert set(main.commands) == set(main.MODULES)
    for name, command in main.commands.items():
        assert command.callback.__module__ == f"funnelspec.cli.{main.MODULES[name]}", name


def test_help_lists_every_command_in_order(cli):
    from funnelspec.cli import main
    from funnelspec.cli.common import FunnelGroup

    listed = [line.split()[0] for line in cli("--help").output.split("Commands:\n", 1)[1].splitlines() if line.strip()]
    assert listed[: len(FunnelGroup.ORDER)] == list(FunnelGroup.ORDER)
    assert sorted(listed) == sorted(main.MODULES)


def test_an_unknown_command_is_still_a_usage_error(cli):
    result = cli("simulat")
    assert result.exit_code == 2
    assert "No such command 'simulat'" in result.output


def test_the_package_imports_the_facade_only_when_it_is_used():
    done = subprocess.run([sys.executable, "-c", "import sys, funnelspec; print('funnelspec.api' in sys.modules); "
                           "funnelspec.load; print('funnelspec.api' in sys.modules, funnelspec.SpecError.__name__)"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True", "SpecError"]
    with pytest.raises(AttributeError):
        import funnelspec

        funnelspec.no_such_name  # noqa: B018
