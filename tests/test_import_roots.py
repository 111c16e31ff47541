"""Files named inside user content stay inside the project root and are never quoted unless they are specs.

The reproducers of the fuzzing pass: `import "/proc/self/environ"` printed the
environment in an FNL001 snippet, `import "../../../../etc/passwd"` and a
journey file's `spec /etc/passwd` line printed that file.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from funnelspec.api import analyse
from funnelspec.dsl.config import settings_in

FUNNEL = "funnel sales { stage new { start } stage won { won } stage lost { lost } new -> won any -> lost }\n"
BASE = "funnel base { stage new { start } stage won { won } stage lost { lost } new -> won any -> lost }\n"
SECRET = "s3cr3t-do-not-print"


@pytest.fixture(autouse=True)
def project(tmp_path, monkeypatch):
    """tmp/proj/main.funnel beside tmp/shared/base.funnel; no pyproject.toml above (the root is proj/)."""
    settings_in.cache_clear()
    (tmp_path / "proj").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.funnel").write_text(BASE, encoding="utf-8")
    (tmp_path / "secret.txt").write_text(f"PASSWORD={SECRET}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "proj")
    yield tmp_path
    settings_in.cache_clear()


def spec(text: str, name: str = "main.funnel") -> str:
    with open(name, "w", encoding="utf-8") as handle:
        handle.write(textwrap.dedent(text))
    return name


def codes_and_messages(result) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in result.diagnostics]


def test_a_sibling_folder_is_outside_the_entry_files_folder():
    result = analyse(spec('import "../shared/base.funnel"\nfunnel sales extends base { }\n'), lint=False)
    assert ("FNL010", "import `../shared/base.funnel` is outside the project root `.`") in codes_and_messages(result)


def test_import_roots_in_the_config_widen_the_root(project):
    (project / "proj" / "pyproject.toml").write_text('[tool.funnel]\nimport-roots = ["../shared"]\n', encoding="utf-8")
    result = analyse(spec('import "../shared/base.funnel"\nfunnel sales extends base { }\n'), lint=False)
    assert result.diagnostics == [] and result.spec is not None


def test_the_config_folder_is_the_root_for_specs_below_it(project):
    (project / "pyproject.toml").write_text("[tool.funnel]\n", encoding="utf-8")
    result = analyse(spec('import "../shared/base.funnel"\nfunnel sales extends base { }\n'), lint=False)
    assert result.diagnostics == [] and result.spec is not None


def test_an_import_root_given_on_the_command_line_widens_it(cli):
    spec('import "../shared/base.funnel"\nfunnel sales extends base { }\n')
    assert cli("lint", "main.funnel").exit_code == 1
    result = cli("lint", "--import-root", "../shared", "--select", "FNL0", "main.funnel")
    assert result.exit_code == 0, result.output


def test_a_symlink_inside_the_root_that_points_out_is_refused(project):
    os.symlink(project / "shared" / "base.funnel", "base.funnel")
    result = analyse(spec('import "base.funnel"\nfunnel sales extends base { }\n'), lint=False)
    assert ("FNL010", "import `base.funnel` is outside the project root `.`") in codes_and_messages(result)


def test_a_spec_named_link_to_a_text_file_is_never_parsed(project):
    os.symlink(project / "secret.txt", project / "shared" / "notes.funnel")
    (project / "proj" / "pyproject.toml").write_text('[tool.funnel]\nimport-roots = ["/"]\n', encoding="utf-8")
    result = analyse(spec('import "../shared/notes.funnel"\n' + FUNNEL), lint=False)
    assert codes_and_messages(result) == [("FNL010", "import `../shared/notes.funnel` is not a `.funnel` file")]


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs /proc")
def test_proc_is_refused_even_when_the_root_is_widened_to_everything(project):
    (project / "proj" / "pyproject.toml").write_text('[tool.funnel]\nimport-roots = ["/"]\n', encoding="utf-8")
    result = analyse(spec('import "/proc/self/environ"\n' + FUNNEL), lint=False)
    assert codes_and_messages(result) == [
        ("FNL010", "import `/proc/self/environ` leads into `/proc`, which holds no specs")]


def test_a_missing_folder_in_import_roots_is_a_config_finding(project, cli):
    (project / "proj" / "pyproject.toml").write_text('[tool.funnel]\nimport-roots = ["../nowhere"]\n',
                                                    encoding="utf-8")
    result = cli("lint", spec(FUNNEL))
    assert "error[FNL009] `import-roots`: `../nowhere` is not a folder" in result.output


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    env = dict(os.environ, FUNNEL_TEST_SECRET=SECRET, NO_COLOR="1")
    return subprocess.run([sys.executable, "-m", "funnelspec", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs /proc")
def test_lint_never_prints_the_environment(project):
    spec('import "/proc/self/environ"\n' + FUNNEL)
    done = _run("lint", "main.funnel", cwd=project / "proj")
    assert done.returncode == 1
    assert "error[FNL010] import `/proc/self/environ` is outside the project root `.`" in done.stdout
    assert SECRET not in done.stdout + done.stderr


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs /proc")
def test_a_spec_that_is_a_link_into_proc_is_not_read(project):
    os.symlink("/proc/self/environ", project / "proj" / "evil.funnel")
    done = _run("lint", ".", cwd=project / "proj")
    assert done.returncode == 2
    assert "evil.funnel: leads into `/proc`, which holds no specs" in done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_a_spec_named_on_the_command_line_that_is_no_spec_is_not_quoted(project, cli):
    result = cli("lint", str(project / "secret.txt"))
    assert result.exit_code == 1 and "FNL001" in result.output
    assert SECRET not in result.output


def test_a_journey_spec_line_stays_in_the_root(project, cli):
    (project / "proj" / "t.funnel-test").write_text(textwrap.dedent("""\
        spec ../secret.txt
        journey "reads a secret"
          {"ts": "2026-01-01T00:00:00Z", "type": "created"}
          expect status open
        """), encoding="utf-8")
    result = cli("test", "t.funnel-test")
    assert result.exit_code == 2
    assert "ERROR t.funnel-test: its spec `../secret.txt` is outside the project root `.`" in result.output
    assert SECRET not in result.output
