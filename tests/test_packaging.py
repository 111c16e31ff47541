"""Packaging: the wheel holds one import package, `funnelspec`, with its grammar, schemas and
templates, and the installed package works from any directory.

The wheel is built from a copy of the source tree (so no stale `build/` of the
checkout leaks in), then installed into a folder of its own that comes first
on PYTHONPATH, and run from an empty temporary directory.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import EXAMPLES, ROOT

LEFT_OUT = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis",
                                  ".pytest_cache", "artifacts", "tests", "bench")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=LEFT_OUT)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"),
                    str(source)], check=True, capture_output=True, text=True)
    (built,) = (work / "dist").glob("funnelspec-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, text=True)
    return target


@pytest.mark.slow
def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "funnelspec/grammar.lark" in names
    assert "funnelspec/schemas/spec.schema.json" in names
    assert any(n.startswith("funnelspec/schemas/") and n.endswith(".json") for n in names)
    templates = [n for n in names if n.startswith("funnelspec/stdlib/") and n.endswith(".funnel")]
    assert "funnelspec/stdlib/b2b_classic.funnel" in templates
    assert {"funnelspec/serve/app.py", "funnelspec/serve/hooks/hubspot.py", "funnelspec/cli/serve.py"} <= set(names)
    top_level = {n.split("/")[0] for n in names}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"funnelspec"}
    assert "engine" not in top_level and "dsl" not in top_level
    dist_info = next(t for t in top_level if t.endswith(".dist-info"))
    assert zipfile.ZipFile(wheel).read(f"{dist_info}/top_level.txt").decode().split() == ["funnelspec"]
    assert "funnel = funnelspec.cli:main" in zipfile.ZipFile(wheel).read(f"{dist_info}/entry_points.txt").decode()


def run_installed(installed, cwd, *args):
    env = dict(os.environ, PYTHONPATH=str(installed), NO_COLOR="1")
    return subprocess.run([sys.executable, "-m", "funnelspec", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_installed_package_runs_from_any_directory(installed, tmp_path):
    where = subprocess.run([sys.executable, "-c", "import funnelspec; print(funnelspec.__file__)"], cwd=tmp_path,
                           env=dict(os.environ, PYTHONPATH=str(installed)), capture_output=True, text=True)
    assert where.stdout.strip().startswith(str(installed))
    help_run = run_installed(installed, tmp_path, "--help")
    assert help_run.returncode == 0, help_run.stderr
    assert "lint" in help_run.stdout and "export" in help_run.stdout
    schema = run_installed(installed, tmp_path, "schema", "spec")
    assert schema.returncode == 0 and '"$schema"' in schema.stdout
    spec = tmp_path / "sales.funnel"
    spec.write_text((EXAMPLES / "regional_sales.funnel").read_text(encoding="utf-8")
                    .replace('import "shared/company_base.funnel"\n', 'import "base.funnel"\n'), encoding="utf-8")
    shutil.copy(EXAMPLES / "shared" / "company_base.funnel", tmp_path / "base.funnel")
    exported = run_installed(installed, tmp_path, "export", "sales.funnel")
    assert exported.returncode == 0, exported.stderr
    assert '"b2b_classic"' in exported.stdout       # the standard template came from the installed package


@pytest.mark.slow
def test_the_installed_package_reports_in_russian(installed, wheel, tmp_path):
    """The catalogue ships as package data and is read from the installed package (no compile step)."""
    assert "funnelspec/lang/ru.po" in zipfile.ZipFile(wheel).namelist()
    for name in ("security_b2b.funnel", "security_b2b.events.jsonl"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    done = run_installed(installed, tmp_path, "simulate", "security_b2b.funnel", "--events",
                         "security_b2b.events.jsonl", "--report", "text", "--lang", "ru")
    assert done.returncode == 0, done.stderr
    assert "Диагностика" in done.stdout and "Воронка" in done.stdout
