"""The HTML report renders in a real browser: headless Chromium (Debian's `chromium` package).

The set-up installs Chromium and a Cyrillic font with apt-get when they are
missing and that is allowed (root, or CI); elsewhere the tests skip and say
why. A small script put at the top of the page records every error (script
errors, failed loads, console.error) into the DOM, which `--dump-dom` prints
after the page has loaded. The screenshot and the printed PDF go to
artifacts/ (git-ignored) for a person to look at.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import EXAMPLES, ROOT
from funnelspec.api import load
from funnelspec.engine.report import render_report
from outcome_builders import sample_result
from system_packages import require

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "artifacts"
PACKAGES = ["chromium", "fonts-dejavu-core"]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars"]
RECORDER = """<script>
(function () {
  function note(text) {
    var root = document.documentElement;
    root.setAttribute("data-errors", (root.getAttribute("data-errors") || "") + text + " | ");
  }
  window.addEventListener("error", function (e) {
    note(e.message || ("failed to load " + ((e.target && (e.target.src || e.target.href)) || "a resource")));
  }, true);
  window.addEventListener("unhandledrejection", function (e) { note("rejection: " + e.reason); });
  var original = console.error;
  console.error = function () { note("console.error: " + Array.prototype.join.call(arguments, " ")); };
})();
</script>"""


def _find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def chromium() -> str:
    return require(_find_chromium, PACKAGES, "headless Chromium")


def _run(chromium: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="funnel-chromium-") as profile:
        return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=180)


def _dom(chromium: str, html_path) -> str:
    done = _run(chromium, "--virtual-time-budget=3000", "--dump-dom", html_path.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _with_recorder(html: str) -> str:
    return html.replace("<head>", "<head>\n" + RECORDER, 1)


@pytest.fixture(scope="module")
def report_html() -> str:
    spec, _ = load(str(EXAMPLES / "security_b2b.funnel"))
    return render_report(sample_result(), spec, "html", ("manager",))


def test_renders_without_errors_with_the_funnel_chart(chromium, report_html, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(_with_recorder(report_html), encoding="utf-8")
    dom = _dom(chromium, page)
    assert 'data-report-ready="true"' in dom, "the report's script did not run to its end"
    errors = re.search(r'data-errors="([^"]*)"', dom)
    assert errors is None, f"errors in the page: {errors.group(1)}"
    chart = re.search(r'<svg class="chart funnel-chart".*?</svg>', dom, re.S)
    assert chart is not None, "no funnel chart in the rendered page"
    assert chart.group(0).count('class="bar bar-stage"') == 5
    assert "Новый лид" in dom


def test_the_error_recorder_catches_errors(chromium, report_html, tmp_path):
    broken = _with_recorder(report_html).replace("</body>", "<script>undefinedFunction();</script></body>", 1)
    page = tmp_path / "broken.html"
    page.write_text(broken, encoding="utf-8")
    assert "undefinedFunction is not defined" in _dom(chromium, page)


def test_screenshot_and_print_are_saved_as_artifacts(chromium, report_html):
    ARTIFACTS.mkdir(exist_ok=True)
    page = ARTIFACTS / "report.html"
    page.write_text(report_html, encoding="utf-8")
    shot, pdf = ARTIFACTS / "report.png", ARTIFACTS / "report.pdf"
    for path in (shot, pdf):
        if path.exists():
            path.unlink()
    done = _run(chromium, "--window-size=1200,4200", f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    done = _run(chromium, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert done.returncode == 0 and pdf.exists(), done.stderr[-2000:]
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_a_cyrillic_font_is_there_to_render_stage_names(chromium):
    if not shutil.which("fc-list"):
        pytest.skip("no fc-list to ask fontconfig which fonts cover Russian")
    fonts = subprocess.run(["fc-list", ":lang=ru", "family"], capture_output=True, text=True).stdout
    assert fonts.strip(), "no font covers Cyrillic: stage names would render as boxes (apt-get install fonts-dejavu-core)"


# The Russian page shows Russian words where the English page shows English ones, in the DOM the browser
# built (after the page's script ran: the sort buttons' tooltip is set by it).
WORDS = {"en": ("Diagnosis", "Stage graph", "Paths deals took", "Sort by this column", "Win rate"),
         "ru": ("Диагностика", "Граф стадий", "Пути сделок", "Сортировать по этому столбцу", "Доля выигр.")}


@pytest.fixture(scope="module")
def rework_result():
    """The Bitrix24-style case (Russian stage names, a rework loop, a side stage) replayed."""
    from funnelspec.engine.simulate import replay_events

    case = ROOT / "tests" / "cases" / "figures" / "rework_loop"
    spec, _ = load(str(case / "spec.funnel"))
    return spec, replay_events(spec, str(case / "events.jsonl"))


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_report_reads_in_its_language_in_the_browser(chromium, rework_result, language):
    spec, result = rework_result
    html = render_report(result, spec, "html", trend="week", language=language)
    ARTIFACTS.mkdir(exist_ok=True)
    page = ARTIFACTS / f"report-{language}.html"
    page.write_text(_with_recorder(html), encoding="utf-8")
    dom = _dom(chromium, page)
    assert 'data-report-ready="true"' in dom
    assert re.search(r'<html lang="([a-z]+)"', dom).group(1) == language
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)>.*?</\1>", "", dom, flags=re.S))
    other = "en" if language == "ru" else "ru"
    for word in WORDS[language][:3] + WORDS[language][4:]:
        assert word in text, f"{word!r} is not on the {language} page"
    for word in WORDS[other][:3]:
        assert word not in text, f"{word!r} ({other}) is on the {language} page"
    assert f'title="{WORDS[language][3]}"' in dom, "the sort tooltip is not in the page's language"
    assert "Доработка КП" in text
    shot = ARTIFACTS / f"report-{language}.png"
    if shot.exists():
        shot.unlink()
    done = _run(chromium, "--window-size=1200,4200", f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
