"""A pytest plugin: the repository root, which is the `funnelspec` package itself, is collected as a plain folder.

pytest collects a folder holding `__init__.py` as a package and imports that
file under the folder's own name, which fails for a checkout in a folder
whose name is no Python identifier (`mktemp -d` gives `tmp.XXXXXXXX`) and
would import the package a second time under another name anyway. The tests
import it as the installed `funnelspec`.
"""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent):
    if path == parent.config.rootpath:
        return pytest.Dir.from_parent(parent, path=path)
    return None
