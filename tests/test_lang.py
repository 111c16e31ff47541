"""Reports in Russian and English: the catalogue covers every word the reports use, and nothing else;
`--lang` and the spec's `language` choose it; numbers, dates and plurals follow the language; JSON and
CSV read the same in every language.

The words are found in the code the way `make messages` finds them (babel's extractor, the same
keywords), so a label added without a translation, or a translation left behind by a label that is
gone, fails here.
"""
from __future__ import annotations

import json
import re
import shutil
import string

import pytest
from babel.messages.extract import extract_from_dir

from conftest import CASES, ROOT
from funnelspec.engine.report import units
from funnelspec.lang import LANGUAGES, _, catalogue, ngettext, using

CASE = CASES / "figures" / "rework_loop"      # Bitrix24-style: Russian stage names, a rework loop, a side stage
ARGS = ("--threshold", "min-deals=2", "--trend", "week")
SOURCES = ("engine/report", "engine/diagnosis.py", "engine/cohorts.py",         # as MESSAGE_SOURCES in the Makefile
           "engine/forecast/render.py", "engine/forecast/notes.py", "engine/diff_render.py")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}


def _key(message_id, context):
    return (context, message_id if isinstance(message_id, str) else tuple(message_id))


def used_messages() -> set:
    """(context, msgid or (singular, plural)) of every word marked in the report code."""
    found = set()
    for folder in SOURCES:
        path = ROOT / folder
        if path.is_file():
            base, wanted = path.parent, path.name
        else:
            base, wanted = path, None
        for filename, _line, message, _comments, context in extract_from_dir(
                str(base), method_map=[("**.py", "python")], keywords=KEYWORDS):
            if wanted is None or filename == wanted:
                found.add(_key(message, context))
    return found


def catalogued(language: str) -> dict:
    return {_key(m.id, m.context): m for m in catalogue(language) if m.id}


def test_the_report_code_marks_its_words():
    used = used_messages()
    assert len(used) > 100
    assert (None, "Diagnosis") in used and ("by", "month") in used
    assert any(isinstance(k[1], tuple) and k[1][0] == "{count} action" for k in used)


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_word_the_reports_use_is_translated(language):
    have = catalogued(language)
    missing = sorted(map(str, used_messages() - set(have)))
    assert not missing, f"{language}.po lacks (run `make messages`, then translate): {missing}"
    untranslated = [key for key, m in have.items()
                    if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert not untranslated, f"{language}.po: fuzzy or empty translations: {untranslated}"


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_no_translation_is_left_over(language):
    stale = sorted(map(str, set(catalogued(language)) - used_messages()))
    assert not stale, f"{language}.po translates words the reports no longer use: {stale}"


def _fields(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_keep_the_placeholders(language):
    for key, m in catalogued(language).items():
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        want = set().union(*map(_fields, ids))
        for text in strings:
            assert _fields(text) == want, f"{key}: {text!r} has {_fields(text)}, the English has {want}"


def test_russian_has_three_plural_forms_as_cldr_counts_them():
    with using("ru"):
        forms = {n: ngettext("{count} action", "{count} actions", n).format(count=n) for n in (1, 2, 5, 11, 21, 22)}
    assert forms == {1: "1 действие", 2: "2 действия", 5: "5 действий", 11: "11 действий", 21: "21 действие",
                     22: "22 действия"}
    with using("en"):
        assert ngettext("{count} action", "{count} actions", 1) == "{count} action"


def test_numbers_and_dates_follow_the_language():
    nbsp = "\u00a0"
    with using("ru"):
        assert units.count(1234567) == f"1{nbsp}234{nbsp}567"
        assert units.money(1234.5, "RUB", 1) == f"1{nbsp}234,5 RUB"
        assert units.percent(0.1234) == f"12,3{nbsp}%"
        assert units.percent(0.5, 0) == f"50{nbsp}%"
        assert units.points(-0.0325) == "-3,2 п.п."
        assert units.duration(1.5 * 86400) == "1,5 дн."
        assert units.duration(2 * 3600) == "2,0 ч"
        assert units.date(1772755200) == "06.03.2026"
        assert units.date(1772755200 + 3600 * 7, "UTC") == "06.03.2026 07:00 UTC"
    with using("en"):                              # English keeps the house style
        assert units.count(1234567) == "1 234 567"
        assert units.percent(0.1234) == "12.3 %"
        assert units.duration(1.5 * 86400) == "1.5 d"
        assert units.date(1772755200) == "2026-03-06"


def test_the_language_in_use_is_restored_and_an_unknown_one_refused():
    with using("ru"):
        assert _("Stage") == "Стадия"
        with using(None):
            assert _("Stage") == "Стадия"
    assert _("Stage") == "Stage"
    with pytest.raises(ValueError, match="unknown language `de`"):
        with using("de"):
            pass


@pytest.fixture
def replayed(tmp_path, monkeypatch, cli):
    work = tmp_path / "case"
    shutil.copytree(CASE, work)
    monkeypatch.chdir(work)
    result = cli("simulate", "spec.funnel", "--events", "events.jsonl", "--format", "json", "-o", "result.json")
    assert result.exit_code == 0, result.output
    return work


@pytest.mark.parametrize("fmt", ["text", "html"])
def test_russian_report_snapshot(replayed, cli, fmt, snapshot):
    result = cli("report", "result.json", "--report", fmt, "--lang", "ru", *ARGS)
    assert result.exit_code == 0, result.output
    assert result.stdout == snapshot


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("fmt", ["text", "html"])
def test_groups_with_a_trend_snapshot(replayed, cli, fmt, language, snapshot):
    """--trend with --by: each group's win rate per period (and won deals and value in HTML)."""
    result = cli("report", "result.json", "--report", fmt, "--lang", language, "--by", "manager", *ARGS)
    assert result.exit_code == 0, result.output
    assert result.stdout == snapshot


# what reads the same in Russian: currency and zone codes, SLA, pattern ids, file names, the spec's keywords
NOT_WORDS = r"RUB|UTC|SLA|rework-loop|spec\.funnel|funnelspec|docs/metrics\.md|JSON|`because`|`reason`"


def _visible_text(html: str) -> list[str]:
    body = re.sub(r"<(style|script)>.*?</\1>", "", html, flags=re.S)
    return [t.strip() for t in re.split(r"<[^>]+>", body) if t.strip()]


def assert_no_english(page: str, also_same: str = "") -> set:
    """The page is Russian: no label of the catalogue left in English, and no English word at all but for the names
    that read the same in both languages (NOT_WORDS, and `also_same`: the spec's own ids). Its visible texts."""
    assert page.startswith("<!doctype html>\n<html lang=\"ru\">")
    texts = set(_visible_text(page))
    english = {m.id for m in catalogue("ru") if isinstance(m.id, str) and m.id and m.string != m.id
               and not _fields(m.id)}
    assert not texts & english, f"English labels on the Russian page: {sorted(texts & english)}"
    same = NOT_WORDS + (f"|{also_same}" if also_same else "")
    leftover = [t for t in texts if re.search(r"[A-Za-z]{3,}", re.sub(same, "", t))]
    assert not leftover, f"English words on the Russian page: {leftover}"
    return texts


def test_the_russian_page_leaves_no_english_label(replayed, cli):
    result = cli("report", "result.json", "--report", "html", "--lang", "ru", *ARGS)
    page = result.stdout
    assert_no_english(page)
    for word in ("Стадия", "Диагностика", "Граф стадий", "Пути сделок", "Доля от дошедших", "Сортировать по этому столбцу"):
        assert word in page
    english_page = cli("report", "result.json", "--report", "html", *ARGS).stdout
    assert english_page.startswith("<!doctype html>\n<html lang=\"en\">") and "Stage graph" in english_page


def test_the_spec_language_is_the_default_and_lang_overrides_it(replayed, cli):
    spec = replayed / "spec.funnel"
    spec.write_text(spec.read_text(encoding="utf-8").replace("  currency RUB\n", "  currency RUB\n  language ru\n"),
                    encoding="utf-8")
    assert cli("simulate", "spec.funnel", "--events", "events.jsonl", "--format", "json", "-o",
               "result.json").exit_code == 0
    assert json.loads((replayed / "result.json").read_text(encoding="utf-8"))["funnels"][0]["language"] == "ru"
    spoken = cli("report", "result.json", *ARGS).stdout
    asked = cli("report", "result.json", "--lang", "ru", *ARGS).stdout
    assert spoken == asked and "Диагностика" in spoken
    assert "Diagnosis" in cli("report", "result.json", "--lang", "en", *ARGS).stdout
    simulated = cli("simulate", "spec.funnel", "--events", "events.jsonl", "--report", "text", "--trend", "week")
    assert simulated.exit_code == 0 and "Диагностика" in simulated.stdout


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_machine_formats_read_the_same_in_every_language(replayed, cli, fmt):
    english = cli("report", "result.json", "--report", fmt, "--lang", "en", *ARGS).stdout
    russian = cli("report", "result.json", "--report", fmt, "--lang", "ru", *ARGS).stdout
    assert english == russian
    assert "go back from Согласование to Доработка КП" in english


def test_an_unknown_lang_is_refused(replayed, cli):
    result = cli("report", "result.json", "--lang", "de")
    assert result.exit_code == 2
    assert "'de' is not one of 'en', 'ru'" in result.output


def test_lang_without_a_report_is_refused(replayed, cli):
    result = cli("simulate", "spec.funnel", "--events", "events.jsonl", "--lang", "ru")
    assert result.exit_code == 2
    assert "--lang shape the report: use them with --report" in result.output


# --- the forecast (`funnel forecast`, and the section `simulate --report --forecast` adds) ---------------------------

FORECAST_ARGS = ("--runs", "200", "--seed", "1")
STAGE_IDS = r"\b(?:new|qualification|proposal|rework|negotiation|won|lost)\b"     # the case's stage ids, as it names them


@pytest.fixture
def fitted(replayed, cli):
    result = cli("fit", "spec.funnel", "--events", "events.jsonl", "-o", "model.json")
    assert result.exit_code == 0, result.output
    return replayed


def _forecast(cli, *extra):
    result = cli("forecast", "spec.funnel", "--model", "model.json", "--events", "events.jsonl", *FORECAST_ARGS, *extra)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_russian_forecast_text_snapshot(fitted, cli, snapshot):
    """Words, numbers (1 234, 0,5, 50 %) and the note in Russian; English as before."""
    russian = _forecast(cli, "--lang", "ru")
    assert russian == snapshot
    assert "выиграно к горизонту" in russian and "примечание: история до среза слишком коротка" in russian
    english = _forecast(cli)
    assert "won by the horizon" in english and "note: the history before the cut is too short" in english


def test_the_russian_report_with_a_forecast_leaves_no_english_word(fitted, cli):
    result = cli("simulate", "spec.funnel", "--events", "events.jsonl", "--report", "html", "--lang", "ru", "--trend",
                 "week", "--forecast", "model.json", *FORECAST_ARGS)
    assert result.exit_code == 0, result.output
    section = re.search(r'<article class="funnel forecast" id="forecast">.*?</article>', result.stdout, re.S)
    assert section is not None
    texts = assert_no_english(result.stdout, STAGE_IDS)
    assert {"Прогноз открытых сделок", "Выиграно к горизонту", "Примечания"} <= set(_visible_text(section.group(0)))
    assert "Диагностика" in texts
    text = cli("simulate", "spec.funnel", "--events", "events.jsonl", "--report", "text", "--lang", "ru",
               "--forecast", "model.json", *FORECAST_ARGS).stdout
    assert "Диагностика" in text and "прогноз от 2026-03-15T07:00:00Z" in text and "won by the horizon" not in text


def test_the_russian_forecast_page_leaves_no_english_word(fitted, cli):
    page = _forecast(cli, "--format", "html", "--lang", "ru")
    texts = assert_no_english(page, STAGE_IDS)
    assert "Прогноз открытых сделок" in texts and 'aria-label="выигранные сделки по месяцам"' in page
    assert _forecast(cli, "--format", "html").startswith("<!doctype html>\n<html lang=\"en\">")


def test_the_forecast_speaks_the_spec_language_unless_told(fitted, cli):
    spec = fitted / "spec.funnel"
    spec.write_text(spec.read_text(encoding="utf-8").replace("  currency RUB\n", "  currency RUB\n  language ru\n"),
                    encoding="utf-8")
    assert _forecast(cli) == _forecast(cli, "--lang", "ru")
    assert "won by the horizon" in _forecast(cli, "--lang", "en")
    assert _forecast(cli, "--format", "json", "--lang", "ru") == _forecast(cli, "--format", "json", "--lang", "en")


# --- funnel diff ------------------------------------------------------------------------------------------------------

DIFF_CASE = CASES / "diff" / "tightened_criterion"     # a path, an outcome and actions change; a threshold trips
DIFF_ARGS = ("diff", "old.funnel", "new.funnel", "--events", "events.jsonl", "--fail-if", "conversion.big >= 20pp")


@pytest.fixture
def diff_case(tmp_path, monkeypatch):
    work = tmp_path / "diff"
    shutil.copytree(DIFF_CASE, work)
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_russian_diff_snapshot(diff_case, cli, fmt, snapshot):
    result = cli(*DIFF_ARGS, "--format", fmt, "--lang", "ru")
    assert result.exit_code == 1, result.output
    assert result.stdout == snapshot
    english = cli(*DIFF_ARGS, "--format", fmt).stdout
    assert "1 threshold(s) tripped" in english and "сработал" not in english


def test_diff_json_reads_the_same_in_every_language(diff_case, cli):
    english = cli(*DIFF_ARGS, "--format", "json", "--lang", "en").stdout
    assert english == cli(*DIFF_ARGS, "--format", "json", "--lang", "ru").stdout
    assert json.loads(english)["verdict"] == "1 threshold(s) tripped (exit 1)"


def test_diff_speaks_the_new_spec_language_unless_told(diff_case, cli):
    new = diff_case / "new.funnel"
    text = new.read_text(encoding="utf-8")
    new.write_text(text.replace("funnel sales {\n", "funnel sales {\n  language ru\n", 1), encoding="utf-8")
    russian = cli(*DIFF_ARGS).stdout
    assert "Итог: сработал 1 порог (код выхода 1)" in russian
    assert "Result: 1 threshold(s) tripped" in cli(*DIFF_ARGS, "--lang", "en").stdout
