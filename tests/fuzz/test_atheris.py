"""The coverage-guided runner starts, runs a few inputs and ends clean; skipped where atheris is not installed.

Every surface goes through the same runner: two of them (spec text, a stream) show it works.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("name", ["spec", "stream-jsonl"])
def test_atheris_runs_a_surface(name, tmp_path):
    pytest.importorskip("atheris")
    done = subprocess.run([sys.executable, "-m", "fuzz.atheris_run", name, "-atheris_runs=8", "-seed=1",
                           f"-artifact_prefix={tmp_path}/"],
                          cwd=HERE, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "FUZZ_FOUND": str(tmp_path / "found")})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"{name}: " in done.stdout
