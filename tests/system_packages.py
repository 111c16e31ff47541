"""Debian packages a test needs (headless Chromium, Graphviz): found, installed where allowed, or a skip with why.

Installing needs root or CI (CI machines are fresh and ours to change); a
developer's machine is never changed by the tests: they skip and say what
to install.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from typing import Callable

import pytest


def _install(packages: list[str]) -> str:
    """apt-get install `packages` (updating the index when the first try fails); the reason it failed, or ''."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    done = None
    for command in (["apt-get", "install", "-y", "-q", *packages], ["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", *packages]):
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
        except (OSError, subprocess.TimeoutExpired) as err:
            return f"`{' '.join(command)}` failed: {err}"
        if done.returncode == 0 and command[1] == "install":
            return ""
    return f"`apt-get install {' '.join(packages)}` failed: {done.stderr.strip()[-300:]}"


def require(find: Callable[[], str | None], packages: list[str], what: str) -> str:
    """The path `find` gives, after installing `packages` if it gave none and that is allowed; else a skip."""
    found = find()
    if found:
        return found
    install = f"apt-get install -y {' '.join(packages)}"
    if not (os.geteuid() == 0 or os.environ.get("CI")):
        pytest.skip(f"{what} is not installed and installing it needs root or CI ({install})")
    if not shutil.which("apt-get"):
        pytest.skip(f"{what} is not installed and this system has no apt-get to install it ({install})")
    reason = _install(packages)
    found = find()
    if not found:
        pytest.skip(f"{what} could not be installed: {reason or 'nothing to run afterwards'}")
    return found
