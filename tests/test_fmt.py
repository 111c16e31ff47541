"""`funnel fmt`: the layout cases in tests/cases/fmt and the command's behaviour on files.

A case file holds the input, a line `# output`, then the expected text; the
expected text must also be a fixed point (formatting it changes nothing).
"""
from __future__ import annotations

import os
import stat

import pytest

from conftest import CASES
from funnelspec.dsl.format import format_text

SEPARATOR = "\n# output\n"
FMT_CASES = sorted((CASES / "fmt").glob("*.funnel"))


def read_case(path):
    text = path.read_text(encoding="utf-8")
    assert SEPARATOR in text, f"{path.name}: no `# output` line between the input and the expected text"
    source, expected = text.split(SEPARATOR, 1)
    return source + "\n", expected


@pytest.mark.parametrize("path", FMT_CASES, ids=[p.stem for p in FMT_CASES])
def test_case(path):
    source, expected = read_case(path)
    formatted, problems = format_text(source, path.name)
    assert problems == []
    assert formatted == expected
    assert format_text(expected, path.name)[0] == expected


def test_there_are_cases():
    assert len(FMT_CASES) >= 4


# Layout details that need no whole file -----------------------------------------------

def fmt(text: str, width: int = 100) -> str:
    formatted, problems = format_text(text, "t.funnel", width)
    assert problems == []
    return formatted


def test_literals_stay_as_written():
    out = fmt('funnel f { fields { a: money = 450_000  b: text = "a\\"b\\tc" } stage s { probability 12.5%  sla 2w } '
              'on enter s: set a = 1_000.50 }')
    assert "450_000" in out and '"a\\"b\\tc"' in out and "12.5%" in out and "sla 2w" in out and "1_000.50" in out


def test_durations_of_timers_stay_as_written():
    out = fmt("funnel f { after 720h in s: emit x  every 1_0d in s: emit y  at t + 90m: emit z  at t: emit w }")
    assert "after 720h in s: emit x" in out
    assert "every 1_0d in s: emit y" in out
    assert "at t + 90m: emit z" in out
    assert "at t: emit w" in out


def test_parentheses_only_where_the_tree_needs_them():
    out = fmt("funnel f { a -> b when ((x + 1) * 2 > (y)) and (p and (q or r)) and (s and t) }")
    # `p and (…)` nests to the right: its parentheses keep the tree as written
    assert "a -> b when (x + 1) * 2 > y and (p and (q or r)) and (s and t)" in out


def test_blank_lines_collapse_to_one_and_never_open_a_block():
    out = fmt("funnel f {\n\n\n  currency RUB\n\n\n\n  value v\n\n}\n")
    assert out == "funnel f {\n  currency RUB\n\n  value v\n}\n"


def test_funnels_stand_apart():
    out = fmt("import std.saas\nfunnel a { currency RUB }\n# about b\nfunnel b { currency RUB }\n")
    assert out == ("import std.saas\n\nfunnel a {\n  currency RUB\n}\n\n# about b\n"
                   "funnel b {\n  currency RUB\n}\n")


def test_trailing_comments_line_up_in_a_run():
    out = fmt("funnel f {\n  currency RUB # a\n  value very_long_value_field_name_here # b\n}\n")
    lines = out.splitlines()
    assert lines[1].index("#") == lines[2].index("#") == len("  value very_long_value_field_name_here  ")


def test_a_long_enum_puts_one_option_a_line():
    out = fmt('funnel f { fields { source: "ads" | "referral" | "cold_call" | "email" | "partner" } }', width=40)
    assert out.splitlines()[2:7] == [
        '    source: "ads"',
        '          | "referral"',
        '          | "cold_call"',
        '          | "email"',
        '          | "partner"',
    ]


def test_a_long_holiday_calendar_fills_its_lines():
    dates = ", ".join(f"2026-01-{d:02}" for d in range(1, 21))
    out = fmt(f"funnel f {{ holidays [{dates}] }}")
    body = out.splitlines()[2:-2]
    assert len(body) == 3 and all(len(line) <= 100 for line in body) and body[-1].endswith("2026-01-20,")


def test_windows_line_ends_are_kept():
    out = fmt("funnel f {\r\n  stage s {start} # c\r\n}\r\n")
    assert out == "funnel f {\r\n  stage s { start }                    # c\r\n}\r\n"


def test_syntax_error_gives_diagnostics_and_no_text():
    formatted, problems = format_text("funnel f { stage }", "bad.funnel")
    assert formatted is None and problems[0].code == "FNL001"


# The command --------------------------------------------------------------------------

MESSY = 'funnel f {stage s "Старт" {start} stage w{won}  stage l{lost} s->w when x>1}\n'
TIDY = fmt(MESSY)


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "a.funnel").write_text(MESSY, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.funnel").write_text(TIDY, encoding="utf-8")
    (tmp_path / "sub" / "notes.txt").write_text("not a funnel {", encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.funnel").write_text(MESSY, encoding="utf-8")
    return tmp_path


def test_check_lists_the_files_that_would_change_and_writes_nothing(cli, tree):
    result = cli("fmt", "--check", str(tree))
    assert result.exit_code == 1
    assert f"would reformat {tree / 'a.funnel'}" in result.stderr
    assert "b.funnel" not in result.stderr and "c.funnel" not in result.stderr
    assert "1 file would be reformatted, 1 file already formatted" in result.stderr
    assert (tree / "a.funnel").read_text(encoding="utf-8") == MESSY


def test_check_passes_on_formatted_files(cli, tree):
    result = cli("fmt", "--check", str(tree / "sub"))
    assert result.exit_code == 0
    assert "1 file already formatted" in result.stderr


def test_diff_prints_a_unified_diff_and_writes_nothing(cli, tree):
    path = tree / "a.funnel"
    result = cli("fmt", "--diff", str(path))
    assert result.exit_code == 0
    assert result.stdout.startswith(f"--- {path} (original)\n+++ {path} (formatted)\n@@ ")
    assert "-" + MESSY.rstrip("\n") in result.stdout and '+  stage s "Старт" { start }' in result.stdout
    assert path.read_text(encoding="utf-8") == MESSY


def test_check_with_diff_exits_1(cli, tree):
    assert cli("fmt", "--check", "--diff", str(tree / "a.funnel")).exit_code == 1


def test_rewrites_files_in_place_keeping_their_permissions(cli, tree):
    path = tree / "a.funnel"
    os.chmod(path, 0o640)
    result = cli("fmt", str(tree))
    assert result.exit_code == 0
    assert f"reformatted {path}" in result.stderr
    assert "1 file reformatted, 1 file left unchanged" in result.stderr
    assert path.read_text(encoding="utf-8") == TIDY
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert (tree / ".hidden" / "c.funnel").read_text(encoding="utf-8") == MESSY
    assert not [p for p in tree.rglob(".funnel-*")], "no temporary file left behind"


def test_a_file_with_a_syntax_error_is_reported_and_never_written(cli, tree):
    bad = tree / "bad.funnel"
    bad.write_text("funnel f {\n  stage s {\n", encoding="utf-8")
    result = cli("fmt", str(tree))
    assert result.exit_code == 2
    assert "error[FNL001]" in result.stderr and "bad.funnel:2:11" in result.stderr
    assert "1 file could not be formatted" in result.stderr
    assert bad.read_text(encoding="utf-8") == "funnel f {\n  stage s {\n"
    assert (tree / "a.funnel").read_text(encoding="utf-8") == TIDY, "the other files are still formatted"


def test_stdin_to_stdout(cli):
    result = cli("fmt", "-", input=MESSY)
    assert result.exit_code == 0
    assert result.stdout == TIDY


def test_stdin_check(cli):
    assert cli("fmt", "--check", "-", input=MESSY).exit_code == 1
    assert cli("fmt", "--check", "-", input=TIDY).exit_code == 0


def test_stdin_with_a_syntax_error_prints_nothing_on_stdout(cli):
    result = cli("fmt", "-", input="funnel {")
    assert result.exit_code == 2 and result.stdout == ""
    assert "<stdin>:1:8: error[FNL001]" in result.stderr


def test_missing_path_and_bad_encoding(cli, tmp_path):
    latin = tmp_path / "latin.funnel"
    latin.write_bytes("funnel f { stage s \"Caf\xe9\" { start } }".encode("latin-1"))
    result = cli("fmt", str(tmp_path / "nope.funnel"), str(latin))
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.funnel'}: no such file or directory" in result.stderr
    assert f"{latin}: not valid UTF-8" in result.stderr


def test_a_comment_after_an_item_stays_on_its_first_line_where_suppressions_apply():
    out = fmt("funnel f {\n  a -> b when x > 1 and y > 2 and z > 3  # funnel: ignore[FNL301]\n}\n", width=30)
    assert out.splitlines()[1:5] == [
        "  a -> b  # funnel: ignore[FNL301]",     # column 39 would pass the width: two spaces
        "      when x > 1",
        "        and y > 2",
        "        and z > 3",
    ]
    assert fmt(out, width=30) == out


def test_a_comment_after_a_block_moves_to_its_first_line():
    out = fmt("funnel f {\n  stage s {\n    start\n    on enter: emit x\n  }  # the first stage\n}\n")
    line = out.splitlines()[1]
    assert line.startswith("  stage s {") and line.endswith("# the first stage") and line.index("#") == 39


def test_two_comments_for_one_line_keep_both():
    out = fmt("funnel f {\n  a -> b when # one\n    x > 1  # two\n}\n")
    assert out == "funnel f {\n  a -> b when x > 1                    # one\n  # two\n}\n"


# What fmt reads, as lint reads it -------------------------------------------------------------

def test_a_file_with_a_byte_order_mark_is_formatted_without_it(cli, tmp_path):
    spec = tmp_path / "bom.funnel"
    spec.write_bytes(b"\xef\xbb\xbffunnel a { stage n { start } stage w { won } stage l { lost } n -> w any -> l }\n")
    assert cli("lint", "--select", "FNL0", str(spec)).exit_code == 0
    assert cli("fmt", "--check", str(spec)).exit_code == 1
    assert cli("fmt", str(spec)).exit_code == 0
    assert spec.read_bytes().startswith(b"funnel a {\n")
    assert cli("fmt", "--check", str(spec)).exit_code == 0


def test_a_folder_without_funnel_files_is_an_error_as_for_lint(cli, tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here\n", encoding="utf-8")
    fmt_run, lint_run = cli("fmt", str(tmp_path)), cli("lint", str(tmp_path))
    assert fmt_run.exit_code == lint_run.exit_code == 2
    assert f"error: {tmp_path}: no .funnel files in this folder" in fmt_run.output
    assert f"error: {tmp_path}: no .funnel files in this folder" in lint_run.output


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs /proc")
def test_a_spec_that_links_into_proc_is_not_read(cli, tmp_path):
    os.symlink("/proc/self/environ", tmp_path / "env.funnel")
    result = cli("fmt", "--check", str(tmp_path))
    assert result.exit_code == 2
    assert "env.funnel: leads into `/proc`, which holds no specs" in result.output
    assert "PATH=" not in result.output
