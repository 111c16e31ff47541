"""Every code is documented, its examples do what they say, and docs/rules.md is up to date.

Each code's docstring has a "Bad:" example that must produce that code (and
no other error) and a "Fix:" example that must produce neither that code nor
any error. Examples are ```funnel blocks, or ```toml blocks for settings,
which are linted as the pyproject.toml beside a clean funnel.
"""
from __future__ import annotations

import re

import pytest

from conftest import CASES, ROOT
from funnelspec.api import analyse
from funnelspec.dsl.codes import all_codes
from funnelspec.dsl.config import Settings, settings_for
from funnelspec.dsl.diagnostics import Severity
from funnelspec.dsl.docs import examples_of, rules_markdown
from funnelspec.dsl.lint import lint_analysis

CODES = sorted(all_codes())
# Errors that follow from another by design: a field whose type is unknown is
# not declared, so its uses are unknown fields too.
CASCADES = {"FNL108": {"FNL103"}}
CLEAN = """funnel sales {
  stage new "Новый лид" { start  sla 1d }
  stage won "Успех" { won }
  stage lost "Отклонено" { lost }
  new -> won
  any -> lost
}
"""


def lint_example(lang: str, text: str, tmp_path) -> list:
    if lang == "toml":
        (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
        spec = tmp_path / "sales.funnel"
        spec.write_text(CLEAN, encoding="utf-8")
        return lint_analysis(analyse(str(spec), lint=False),
                             settings_for(str(spec)).overridden(show_advice=True)).findings
    return lint_analysis(analyse("<example>", text, lint=False), Settings(show_advice=True)).findings


@pytest.mark.parametrize("code", CODES)
def test_code_has_docs(code):
    entry = all_codes()[code]
    assert re.fullmatch(r"FNL\d{3}", code)
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", entry.name)
    assert entry.summary.endswith("."), "the summary line is a sentence"
    assert len(entry.doc.split("\n\n")) >= 3, "a summary, why it matters, and the examples"
    bad, fix = examples_of(entry)
    assert bad and fix, f"{code} needs a Bad: and a Fix: example"


@pytest.mark.parametrize("code", CODES)
def test_bad_example_produces_the_code(code, tmp_path):
    (lang, text), _ = examples_of(all_codes()[code])
    found = lint_example(lang, text, tmp_path)
    assert code in {d.code for d in found}, [f"{d.code} {d.message}" for d in found]
    others = {d.code for d in found if d.severity is Severity.ERROR and d.code != code} - CASCADES.get(code, set())
    assert not others, f"the bad example of {code} also has errors {others}"


@pytest.mark.parametrize("code", CODES)
def test_fix_example_is_clean_of_the_code_and_of_errors(code, tmp_path):
    _, (lang, text) = examples_of(all_codes()[code])
    found = lint_example(lang, text, tmp_path)
    assert not [d for d in found if d.code == code or d.severity is Severity.ERROR], \
        [f"{d.code} {d.message}" for d in found]


@pytest.mark.parametrize("code", CODES)
def test_code_has_cases(code):
    folder = CASES / "lint" / code
    names = sorted(p.name for p in folder.glob("*.funnel"))
    assert [n for n in names if not n.startswith("near_miss")], f"no case in {folder} triggers {code}"
    assert [n for n in names if n.startswith("near_miss")], f"no near miss in {folder} for {code}"


def test_rules_md_is_up_to_date():
    expected = rules_markdown()
    actual = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/rules.md is stale: run `python -m funnelspec.dsl.docs > docs/rules.md`"


def test_explain_works_in_a_fresh_process():
    """Codes are registered when the check modules are imported; `explain` must not depend on that having happened."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "funnelspec", "explain", "FNL304"], capture_output=True,
                            text=True, encoding="utf-8", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("FNL304 conflicting-transitions (warning by default)")


def test_explain_prints_the_docs(cli):
    result = cli("explain", "unused-field")
    assert result.exit_code == 0
    assert result.output.startswith("FNL405 unused-field (warning by default)")
    assert "Bad:" in result.output and "Fix:" in result.output
