"""`funnel new`: scaffolding a project from a template, listing templates, refusing to overwrite."""
from __future__ import annotations

import json
import os

import pytest

from funnelspec.stdlib import sample_events, template_names, template_summary


def test_list_shows_every_template_with_its_summary(cli):
    result = cli("new", "--list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == template_names()
    for line, name in zip(lines, template_names()):
        assert line.endswith(template_summary(name))


def test_list_as_json(cli):
    result = cli("new", "--list", "--format", "json")
    assert [t["name"] for t in json.loads(result.output)] == template_names()


@pytest.mark.parametrize("template", template_names())
def test_new_project_lints_clean(cli, tmp_path, template):
    target = tmp_path / "project"
    result = cli("new", "sales", "--template", template, "--dir", str(target))
    assert result.exit_code == 0, result.output
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert files == [".github/workflows/funnel.yml", "README.md", "sales.events.jsonl", "sales.funnel",
                     "sales.funnel-test"]
    spec = (target / "sales.funnel").read_text(encoding="utf-8")
    assert f"import std.{template}\n" in spec and f"extends std.{template} {{\n" in spec
    assert (target / "sales.events.jsonl").read_text(encoding="utf-8") == sample_events(template)
    lint = cli("lint", str(target / "sales.funnel"))
    assert lint.exit_code == 0, lint.output
    assert "all clean" in lint.output
    assert cli("fmt", "--check", str(target / "sales.funnel")).exit_code == 0


@pytest.mark.parametrize("template", template_names())
def test_new_project_simulates_its_sample_stream(cli, tmp_path, template):
    assert cli("new", "sales", "--template", template, "--dir", str(tmp_path)).exit_code == 0
    result = cli("simulate", str(tmp_path / "sales.funnel"), "--events", str(tmp_path / "sales.events.jsonl"),
                 "--format", "json")
    assert result.exit_code == 0, result.output
    replay = json.loads(result.output)
    lines = len(sample_events(template).splitlines())
    assert replay["totals"]["applied"] == replay["totals"]["lines"] == lines
    assert replay["totals"]["rejected"] == 0
    assert {o["funnel"] for o in replay["outcomes"]} == {"sales"}


@pytest.mark.parametrize("template", template_names())
def test_new_project_passes_the_journeys_it_ships_with(cli, tmp_path, template):
    assert cli("new", "sales", "--template", template, "--dir", str(tmp_path)).exit_code == 0
    journeys = tmp_path / "sales.funnel-test"
    assert journeys.read_text(encoding="utf-8").startswith("# Journeys of sales.funnel")
    result = cli("test", "--format", "json", str(journeys))
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)["counts"]
    assert counts["passed"] >= 1 and counts["failed"] == counts["error"] == 0


def test_new_project_files_say_how_to_use_them(cli, tmp_path):
    cli("new", "shop", "--template", "ecommerce", "--dir", str(tmp_path))
    workflow = (tmp_path / ".github" / "workflows" / "funnel.yml").read_text(encoding="utf-8")
    assert "run: funnel lint --format github shop.funnel" in workflow
    assert "run: funnel test shop.funnel-test" in workflow
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "funnel simulate shop.funnel --events shop.events.jsonl" in readme
    assert template_summary("ecommerce") in readme


def test_new_defaults_to_a_folder_named_after_the_funnel(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("new", "продажи", "-t", "b2b_classic")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "продажи" / "продажи.funnel").is_file()
    assert "next: cd продажи && funnel lint продажи.funnel" in result.output


def test_new_refuses_to_overwrite_and_writes_nothing(cli, tmp_path):
    (tmp_path / "README.md").write_text("mine\n", encoding="utf-8")
    result = cli("new", "shop", "--template", "ecommerce", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "README.md already exists" in result.output and "nothing was written" in result.output
    assert sorted(os.listdir(tmp_path)) == ["README.md"]
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "mine\n"


def test_a_second_run_into_the_same_folder_is_refused(cli, tmp_path):
    assert cli("new", "shop", "-t", "saas", "--dir", str(tmp_path)).exit_code == 0
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = cli("new", "shop", "-t", "saas", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "shop.funnel, shop.events.jsonl, shop.funnel-test, README.md, .github/workflows/funnel.yml already exist" in result.output
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_unknown_template_gets_did_you_mean(cli, tmp_path):
    result = cli("new", "shop", "--template", "ecomerce", "--dir", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "unknown template `ecomerce`; did you mean `ecommerce`?" in result.output
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("name, message", [
    ("my-shop", "`my-shop` cannot be a funnel's name: use letters, digits and `_`, not starting with a digit "
                "(for example `my_shop`)"),
    ("1shop", "(for example `funnel_1shop`)"),
])
def test_a_name_that_cannot_be_a_funnel_id_is_refused(cli, tmp_path, name, message):
    result = cli("new", name, "--template", "saas", "--dir", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x").exists()


def test_a_spec_that_would_not_load_is_refused():
    from funnelspec.stdlib.scaffold import ScaffoldError, _check_spec

    with pytest.raises(ScaffoldError, match="the new spec would not load: unknown template `std.nope`"):
        _check_spec("shop.funnel", "funnel shop extends std.nope {\n}\n")


def test_missing_name_or_template_is_a_usage_error(cli):
    assert cli("new").exit_code == 2
    result = cli("new", "shop")
    assert result.exit_code == 2 and "missing `--template`: one of b2b_classic" in result.output


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    from funnelspec.stdlib import scaffold

    files = scaffold.plan_project("shop", "saas", str(tmp_path / "p"))
    real_open = open
    calls = []

    def failing_open(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(OSError):
        scaffold.write_project(str(tmp_path / "p"), files)
    monkeypatch.undo()
    assert not (tmp_path / "p").exists()


def test_list_into_a_closed_pipe_exits_quietly(tmp_path):
    """`funnel new --list | head -1` printed "error: Broken pipe": a closed reader is not an error to report."""
    import subprocess
    import sys

    pipe = subprocess.Popen([sys.executable, "-m", "funnelspec", "new", "--list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    pipe.stdout.close()                       # the reader is gone before the first line is written
    _, err = pipe.communicate(timeout=60)
    assert err == b""
    assert pipe.returncode == 141
