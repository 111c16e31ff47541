"""Checked specs kept between runs (dsl/user_cache.py): used only while nothing they were made from changed,
read only from a folder and files private to the user, written whole; a run gives the same output either way."""
from __future__ import annotations

import os
import shutil

import pytest

from conftest import EXAMPLES

from funnelspec import api
from funnelspec.dsl import user_cache
from funnelspec.dsl.config import settings_in

SPEC = """funnel sales {
  fields { budget: money }
  stage new { start  sla 2d }
  stage won { won }
  stage lost { lost }
  new -> won when budget > 100
  any -> lost
}
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache folder of the test's own; returns the folder the entries go to."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("FUNNELSPEC_NO_CACHE", raising=False)
    settings_in.cache_clear()
    yield tmp_path / "xdg" / "funnelspec"
    settings_in.cache_clear()


@pytest.fixture
def analysed(monkeypatch):
    """The paths `api.analyse` parsed and checked: a run that read its spec from the cache is not among them."""
    calls: list[str] = []
    original = api.analyse

    def counted(path, *args, **kwargs):
        calls.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(api, "analyse", counted)
    return calls


def entries(folder) -> list:
    return sorted(folder.glob("analysis-*.pickle"))


def same_analysis(a, b) -> bool:
    texts = lambda x: sorted((s.path, s.text, s.quote) for s in x.sources.values())   # noqa: E731
    return a.path == b.path and a.spec == b.spec and a.diagnostics == b.diagnostics and texts(a) == texts(b)


@pytest.mark.parametrize("spec", sorted(EXAMPLES.glob("*.funnel")), ids=lambda p: p.stem)
def test_an_example_read_back_is_the_analysis_it_was_and_replays_to_the_same_bytes(spec, cache, analysed, cli,
                                                                                    tmp_path, monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)
    events = spec.with_suffix(".events.jsonl")
    first = api.analyse_runnable(str(spec))
    assert first.spec is not None and len(entries(cache)) == 1
    again = api.analyse_runnable(str(spec))
    assert analysed == [str(spec)]                      # the second came from the cache
    assert same_analysis(first, again)
    outputs = []
    for _ in range(2):
        result = cli("simulate", str(spec), "--events", str(events), "--format", "json")
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert outputs[0] == outputs[1]
    monkeypatch.setenv("FUNNELSPEC_NO_CACHE", "1")
    assert analysed == [str(spec)]
    assert cli("simulate", str(spec), "--events", str(events), "--format", "json").output == outputs[0]
    assert analysed == [str(spec)] * 2                  # that one parsed and checked it


def test_an_edited_spec_is_checked_again(cache, analysed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "sales.funnel"
    spec.write_text(SPEC, encoding="utf-8")
    api.analyse_runnable("sales.funnel")
    api.analyse_runnable("sales.funnel")
    assert len(analysed) == 1
    spec.write_text(SPEC.replace("budget > 100", "budget > 200"), encoding="utf-8")
    edited = api.analyse_runnable("sales.funnel")
    assert len(analysed) == 2
    assert edited.spec.funnels[0].transitions[0].criterion.right.value == 200
    spec.write_text(SPEC.replace("stage won { won }", ""), encoding="utf-8")     # now an error
    broken = api.analyse_runnable("sales.funnel")
    assert broken.spec is None and broken.diagnostics


def test_an_edited_import_is_checked_again(cache, analysed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.funnel").write_text(SPEC.replace("funnel sales", "funnel base"), encoding="utf-8")
    (tmp_path / "main.funnel").write_text('import "base.funnel"\n\nfunnel sales extends base {\n}\n', encoding="utf-8")
    first = api.analyse_runnable("main.funnel")
    assert first.spec is not None
    api.analyse_runnable("main.funnel")
    assert len(analysed) == 1
    (tmp_path / "base.funnel").write_text(SPEC.replace("funnel sales", "funnel base").replace("won { won }", "won { }"),
                                          encoding="utf-8")
    assert api.analyse_runnable("main.funnel").spec is None
    assert len(analysed) == 2


def test_an_import_that_now_leads_outside_the_project_is_refused(cache, analysed, tmp_path, monkeypatch):
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "pyproject.toml").write_text("[tool.funnel]\n", encoding="utf-8")
    base = SPEC.replace("funnel sales", "funnel base")
    (project / "base.funnel").write_text(base, encoding="utf-8")
    (outside / "base.funnel").write_text(base, encoding="utf-8")
    (project / "main.funnel").write_text('import "base.funnel"\n\nfunnel sales extends base {\n}\n', encoding="utf-8")
    monkeypatch.chdir(project)
    assert api.analyse_runnable("main.funnel").spec is not None
    (project / "base.funnel").unlink()
    (project / "base.funnel").symlink_to(outside / "base.funnel")        # the same text, out of bounds
    refused = api.analyse_runnable("main.funnel")
    assert refused.spec is None and refused.diagnostics[0].code == "FNL010"


def test_changed_settings_are_read_again(cache, analysed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sales.funnel").write_text(SPEC.replace("  sla 2d", ""), encoding="utf-8")    # FNL404: advice
    assert api.analyse_runnable("sales.funnel").spec is not None
    (tmp_path / "pyproject.toml").write_text('[tool.funnel]\nseverity = { FNL404 = "error" }\n', encoding="utf-8")
    settings_in.cache_clear()
    refused = api.analyse_runnable("sales.funnel")
    assert refused.spec is None and [d.code for d in refused.diagnostics] == ["FNL404"]


def test_another_working_directory_gets_its_own_entry(cache, analysed, tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "sales.funnel").write_text(SPEC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    here = api.analyse_runnable("sub/sales.funnel")
    monkeypatch.chdir(tmp_path / "sub")
    there = api.analyse_runnable("sales.funnel")
    assert len(analysed) == 2 and len(entries(cache)) == 2
    assert here.spec.funnels[0].span.file == os.path.join("sub", "sales.funnel")
    assert there.spec.funnels[0].span.file == "sales.funnel"


def test_other_code_does_not_read_the_entries_of_this_code(cache, analysed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sales.funnel").write_text(SPEC, encoding="utf-8")
    api.analyse_runnable("sales.funnel")
    fingerprint = user_cache._code_fingerprint()
    monkeypatch.setattr(user_cache, "_fingerprint", fingerprint[:-1] + ((("dsl/resolve.py", 1, 1),),))
    api.analyse_runnable("sales.funnel")
    assert len(analysed) == 2


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="file owners and modes are POSIX")
def test_an_entry_others_may_write_or_own_is_not_loaded(cache, analysed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sales.funnel").write_text(SPEC, encoding="utf-8")
    api.analyse_runnable("sales.funnel")
    [entry] = entries(cache)
    assert entry.stat().st_mode & 0o777 == 0o600
    entry.chmod(0o666)
    api.analyse_runnable("sales.funnel")
    assert len(analysed) == 2
    assert entry.stat().st_mode & 0o777 == 0o600               # written again, private
    if os.getuid() == 0:
        os.chown(entry, 65534, 65534)
        api.analyse_runnable("sales.funnel")
        assert len(analysed) == 3
    link = cache / "elsewhere.pickle"
    shutil.copy(entry, link)
    entry.unlink()
    entry.symlink_to(link)                                      # a link in the folder is not followed
    api.analyse_runnable("sales.funnel")
    assert len(analysed) == 4 if os.getuid() == 0 else 3


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="file owners and modes are POSIX")
def test_a_folder_others_may_write_is_made_private_and_one_of_another_user_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("FUNNELSPEC_NO_CACHE", raising=False)
    (tmp_path / "funnelspec").mkdir(mode=0o777)
    os.chmod(tmp_path / "funnelspec", 0o777)
    assert user_cache.folder() == str(tmp_path / "funnelspec")
    assert (tmp_path / "funnelspec").stat().st_mode & 0o777 == 0o755
    if os.getuid() == 0:
        os.chown(tmp_path / "funnelspec", 65534, 65534)
        assert user_cache.folder() is None


def test_a_damaged_entry_is_a_miss(cache, analysed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sales.funnel").write_text(SPEC, encoding="utf-8")
    first = api.analyse_runnable("sales.funnel")
    [entry] = entries(cache)
    entry.write_bytes(entry.read_bytes()[:100])
    again = api.analyse_runnable("sales.funnel")
    assert len(analysed) == 2 and same_analysis(first, again)
    entry.write_bytes(b"not a pickle at all")
    assert same_analysis(first, api.analyse_runnable("sales.funnel"))


def test_no_cache_when_turned_off(tmp_path, monkeypatch, analysed):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("FUNNELSPEC_NO_CACHE", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sales.funnel").write_text(SPEC, encoding="utf-8")
    api.analyse_runnable("sales.funnel")
    api.analyse_runnable("sales.funnel")
    assert len(analysed) == 2 and not (tmp_path / "xdg").exists()


def test_the_oldest_entries_go_past_the_limit(cache, analysed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(user_cache, "MOST_ENTRIES", 2)
    for number in range(4):
        (tmp_path / f"s{number}.funnel").write_text(SPEC, encoding="utf-8")
        api.analyse_runnable(f"s{number}.funnel")
    assert len(entries(cache)) == 2
    api.analyse_runnable("s3.funnel")                           # the newest is kept
    assert len(analysed) == 4
    assert not list(cache.glob(".analysis-*"))                  # no temporary file left behind
