"""editors/vscode: the extension's manifest, and its TextMate grammar run by vscode-tmgrammar-test.

The grammar tests need Node: they install the extension's npm packages (package-lock.json)
once and skip, saying why, where node or npm is missing or the install fails. The colour
assertions are in editors/vscode/test/*.test.funnel; every shipped example has a snapshot
of its colouring in editors/vscode/test/snap/ (after a grammar change, regenerate them with
vscode-tmgrammar-snap --updateSnapshot, as the test's `snap` call shows, and review the diff).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = "syntaxes/funnel.tmLanguage.json"
EXAMPLES = sorted((ROOT / "examples").glob("*.funnel")) + sorted((ROOT / "examples" / "shared").glob("*.funnel"))


def test_the_manifest_names_files_that_exist():
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    (language,) = manifest["contributes"]["languages"]
    (grammar,) = manifest["contributes"]["grammars"]
    assert language["extensions"] == [".funnel"] and grammar["language"] == language["id"]
    assert json.loads((VSCODE / grammar["path"]).read_text(encoding="utf-8"))["scopeName"] == grammar["scopeName"]
    config = json.loads((VSCODE / language["configuration"]).read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
    assert (VSCODE / manifest["main"]).is_file()
    assert manifest["contributes"]["configuration"]["properties"]["funnelspec.command"]["default"] == ["funnel", "lsp"]


@pytest.fixture(scope="module")
def tools() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("the TextMate grammar tests need Node.js and npm, which are not installed")
    bin_dir = VSCODE / "node_modules" / ".bin"
    if not (bin_dir / "vscode-tmgrammar-test").exists():
        try:
            done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=VSCODE, capture_output=True,
                                  text=True, timeout=600)
        except subprocess.TimeoutExpired:
            pytest.skip("npm ci in editors/vscode took more than 10 minutes")
        if done.returncode != 0:
            pytest.skip(f"npm ci in editors/vscode failed (offline?): {done.stderr.strip()[-300:]}")
    return bin_dir


def test_colour_assertions(tools):
    done = subprocess.run([str(tools / "vscode-tmgrammar-test"), "-g", GRAMMAR, "test/*.test.funnel"],
                          cwd=VSCODE, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_shipped_example_is_coloured_as_its_snapshot(tools, tmp_path):
    for example in EXAMPLES:
        snapshot = VSCODE / "test" / "snap" / f"{example.name}.snap"
        assert snapshot.is_file(), f"no colouring snapshot for {example.name}"
        shutil.copyfile(example, tmp_path / example.name)
        shutil.copyfile(snapshot, tmp_path / snapshot.name)
    done = subprocess.run([str(tools / "vscode-tmgrammar-snap"), "-g", GRAMMAR, "-s", "source.funnel",
                           f"{tmp_path}/*.funnel"], cwd=VSCODE, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
