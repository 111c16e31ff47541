"""Every shell block of README.md and docs/*.md runs as written, in a temporary folder.

How a page is run: its ```sh blocks in order, in one fresh folder, so a page's
first block makes the files the others use (`funnel new sales --template
b2b_classic --dir .`, `funnel sample …`). The folder holds `examples/`,
`stdlib/` and `tests/cases/` of the repository (read-only links), and
`funnel` (also as `.venv/bin/funnel`) runs this checkout. A command that
exits 2 or more (a usage or I/O error), or a block whose stderr has a
traceback, fails the page; exit 1 (findings, changed outcomes) is a result.
When a ```text block follows a shell block directly, it is the output the
block must print.

For page authors: a block that cannot run here (it needs `make`, git, a
server, a terminal, or runs until stopped) is marked in its info string,
```sh no-run, and says why in a comment; keep those few. Any other shell
block on any page, a new one too, runs in this test.
"""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys

import pytest

from conftest import ROOT

FENCE = re.compile(r"^```([\w-]*)([^\n]*)\n(.*?)^```\n", re.M | re.S)
SHELLS = ("sh", "shell", "bash", "console")
SKIP = "no-run"
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
LINKED = ("examples", "stdlib", "tests/cases")
# What every block runs under: stop at the first error (exit >= 2), not at findings (exit 1).
PRELUDE = """set -o errtrace -o pipefail
trap 'rc=$?; if [ $rc -ge 2 ]; then echo "exit $rc from: $BASH_COMMAND" >&2; exit 97; fi' ERR
"""


def shell_blocks(page) -> list[tuple[int, str, bool, str | None]]:
    """(line, commands, runs, expected output or None) for each shell block of the page, in order."""
    text = page.read_text(encoding="utf-8")
    found = list(FENCE.finditer(text))
    out = []
    for i, m in enumerate(found):
        if m.group(1) not in SHELLS:
            continue
        expected = None
        following = found[i + 1] if i + 1 < len(found) else None
        if following is not None and following.group(1) == "text" and not text[m.end():following.start()].strip():
            expected = following.group(3)
        out.append((text.count("\n", 0, m.start()) + 1, m.group(3), SKIP not in m.group(2).split(), expected))
    return out


def _folder(tmp_path):
    for name in LINKED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(ROOT / name, tmp_path / name)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    funnel = bin_dir / "funnel"
    funnel.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m funnelspec "$@"\n', encoding="utf-8")
    funnel.chmod(funnel.stat().st_mode | stat.S_IXUSR)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", NO_COLOR="1", COLUMNS="100")
    env.pop("GITHUB_ACTIONS", None)
    env.pop("FORCE_COLOR", None)
    return env


def page_problems(page, folder) -> list[str]:
    """Run the page's shell blocks in `folder`; what went wrong, block by block (the first error ends the page)."""
    env = _folder(folder)
    problems = []
    for line, commands, runs, expected in shell_blocks(page):
        if not runs:
            continue
        done = subprocess.run(["bash", "-c", PRELUDE + commands], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=300)
        where = f"{page.name}:{line}"
        if done.returncode not in (0, 1) or "Traceback" in done.stderr:
            return problems + [f"{where}: exit {done.returncode}\n{done.stderr[-3000:]}"]
        if expected is not None and done.stdout != expected:
            problems.append(f"{where}: prints\n{done.stdout}\nnot what the page shows\n{expected}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_shell_block_of_the_page_runs(page, tmp_path):
    assert page_problems(page, tmp_path) == []


def test_a_page_that_does_not_run_or_shows_other_output_fails(tmp_path):
    """The test of a new page (docs/run.md, docs/serve.md …) fails when its blocks do."""
    page = tmp_path / "new-page.md"
    page.write_text("# a page\n\n```sh\nfunnel new --list\n```\n```text\nnot this\n```\n\n"
                    "```sh no-run\nfunnel serve\n```\n\n```sh\nfunnel lint missing.funnel\n```\n",
                    encoding="utf-8")
    (tmp_path / "run").mkdir()
    problems = page_problems(page, tmp_path / "run")
    assert len(problems) == 2
    assert problems[0].startswith("new-page.md:3: prints\nb2b_classic ")
    assert problems[1].startswith("new-page.md:14: exit 97") and "missing.funnel" in problems[1]


def test_skipped_blocks_stay_few():
    """Only what cannot run in a temporary folder here is skipped: `make` and git hooks, servers that stay up
    (serve, PostgreSQL, a Dask cluster), a user's own CRM export, Node and VS Code, the long fuzz run. A new
    skip must name its reason in the block's first comment; the count is a tripwire, raised only with one."""
    skipped = [(p.name, line) for p in PAGES for line, _, runs, _ in shell_blocks(p) if not runs]
    assert len(skipped) <= 11, skipped
    for page in PAGES:
        for line, text, runs, _ in shell_blocks(page):
            if not runs:
                assert text.lstrip().startswith("#"), f"{page.name}:{line}: a skipped block says why in a comment"
