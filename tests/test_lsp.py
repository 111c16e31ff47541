"""`funnel lsp` driven as an editor drives it (pytest-lsp starts the real server on stdio).

Diagnostics as a file is opened and edited, hover, definition and references across an
import, completion by context, rename, formatting, the outline and quick fixes, on the
shipped examples and on files with mistakes; and garbage does not stop the server.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
REGIONAL = EXAMPLES / "regional_sales.funnel"
BASE = EXAMPLES / "shared" / "company_base.funnel"
SECURITY = EXAMPLES / "security_b2b.funnel"

pytestmark = pytest.mark.asyncio


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "funnelspec", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(t.InitializeParams(capabilities=t.ClientCapabilities(),
                                                           root_uri=EXAMPLES.as_uri()))
    yield
    await lsp_client.shutdown_session()


async def open_file(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        t.TextDocumentItem(uri, "funnel", 1, path.read_text(encoding="utf-8") if text is None else text)))
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


def position_of(path: Path, needle: str, nth: int = 0, shift: int = 1) -> t.Position:
    """The position `shift` characters into the `nth` occurrence of `needle` in the file."""
    lines = path.read_text(encoding="utf-8").split("\n")
    seen = 0
    for number, line in enumerate(lines):
        at = line.find(needle)
        while at >= 0:
            if seen == nth:
                return t.Position(number, len(line[:at + shift].encode("utf-16-le")) // 2)
            seen += 1
            at = line.find(needle, at + 1)
    raise AssertionError(f"{needle!r} not in {path.name}")


MISTAKES = """funnel demo {
  fields {
    budget: money
    paid: money = 0
  }
  stage new { start  sla 1d }
  stage proposal { sla 7d }
  stage won { won }
  stage lost { lost }
  new -> proposl
  proposal -> won when paid >= budgt
  any -> lost
}
"""


async def test_a_file_with_mistakes_gets_lint_diagnostics_with_codes(client, tmp_path):
    uri = await open_file(client, tmp_path / "demo.funnel", MISTAKES)
    found = client.diagnostics[uri]
    codes = sorted((d.code, d.range.start.line, d.range.start.character) for d in found)
    assert ("FNL102", 9, 9) in codes and ("FNL103", 10, 31) in codes
    unknown = next(d for d in found if d.code == "FNL102")
    assert unknown.message.startswith("unknown stage `proposl`") and "did you mean `proposal`?" in unknown.message
    assert unknown.severity == t.DiagnosticSeverity.Error and unknown.source == "funnel"
    assert unknown.code_description.href.endswith("rules.md#fnl102-unknown-stage")


async def test_a_syntax_error_does_not_hide_the_findings_of_the_rest(client, tmp_path):
    broken = MISTAKES.replace("stage proposal { sla 7d }", "stage proposal { sla 7 days }")
    uri = await open_file(client, tmp_path / "demo.funnel", broken)
    found = sorted((d.code, d.range.start.line) for d in client.diagnostics[uri])
    # the syntax error, and the misspelled stage and field below it; not "unknown stage `proposal`"
    # on line 10, which would only say that the stage with the syntax error is missing
    assert found == [("FNL001", 6), ("FNL102", 9), ("FNL103", 10)]
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(uri), range=t.Range(t.Position(6, 0), t.Position(6, 30)),
        context=t.CodeActionContext(diagnostics=[])))
    assert [(a.title, a.is_preferred) for a in actions] == [("write `7 days` as `7d`", True)]


async def test_an_edit_is_checked_again(client, tmp_path):
    uri = await open_file(client, tmp_path / "demo.funnel", MISTAKES)
    fixed = MISTAKES.replace("proposl", "proposal").replace("budgt", "budget")
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[t.TextDocumentContentChangeWholeDocument(text=fixed)]))
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert all(d.severity != t.DiagnosticSeverity.Error for d in client.diagnostics[uri])


async def test_a_shipped_example_has_no_diagnostics(client):
    uri = await open_file(client, SECURITY)
    assert list(client.diagnostics[uri]) == []


async def test_hover_on_a_stage_shows_title_kind_probability_sla_and_criteria(client):
    uri = await open_file(client, SECURITY)
    found = await client.text_document_hover_async(t.HoverParams(
        t.TextDocumentIdentifier(uri), position_of(SECURITY, "meeting -> proposal")))
    text = found.contents.value
    assert "**stage** `meeting`" in text and "Встреча/Звонок" in text
    assert "- kind: open" in text and "- probability: 25%" in text
    assert "`qualification -> meeting when meeting_at is set`" in text
    assert "`meeting -> proposal when proposal_sent`" in text


async def test_hover_on_a_field_a_function_and_a_code(client):
    uri = await open_file(client, SECURITY)
    field = await client.text_document_hover_async(t.HoverParams(
        t.TextDocumentIdentifier(uri), position_of(SECURITY, "paid >= budget", shift=10)))
    assert "budget: money" in field.contents.value
    code = await client.text_document_hover_async(t.HoverParams(
        t.TextDocumentIdentifier(uri), position_of(SECURITY, "FNL405", shift=2)))
    assert code.contents.value.startswith("**FNL405** `unused-field`")


async def test_definition_and_references_reach_the_imported_file(client):
    uri = await open_file(client, REGIONAL)
    where = position_of(REGIONAL, "qualification -> survey")
    found = await client.text_document_definition_async(t.DefinitionParams(t.TextDocumentIdentifier(uri), where))
    assert [(loc.uri, loc.range.start.line) for loc in found] == [(BASE.as_uri(), 23)]
    refs = await client.text_document_references_async(t.ReferenceParams(
        text_document=t.TextDocumentIdentifier(uri), position=where, context=t.ReferenceContext(include_declaration=True)))
    files = {loc.uri for loc in refs}
    assert files == {BASE.as_uri(), REGIONAL.as_uri()} and len(refs) >= 6
    imported = await client.text_document_definition_async(t.DefinitionParams(
        t.TextDocumentIdentifier(uri), position_of(REGIONAL, "shared/company_base", shift=3)))
    assert [loc.uri for loc in imported] == [BASE.as_uri()]


async def test_definition_of_a_template_local_or_standard(client):
    uri = await open_file(client, REGIONAL)
    std = (ROOT / "stdlib" / "b2b_classic.funnel").as_uri()
    for needle, shift, expected in (("extends company_base", 10, BASE.as_uri()), ("extends std.b2b_classic", 14, std),
                                    ("import std.b2b_classic", 13, std)):
        found = await client.text_document_definition_async(t.DefinitionParams(
            t.TextDocumentIdentifier(uri), position_of(REGIONAL, needle, shift=shift)))
        assert [loc.uri for loc in found] == [expected], needle


async def test_completion_by_context(client):
    uri = await open_file(client, SECURITY)

    async def labels(line: int, character: int) -> set[str]:
        found = await client.text_document_completion_async(t.CompletionParams(
            t.TextDocumentIdentifier(uri), t.Position(line, character)))
        return {item.label for item in found.items}

    arrow = position_of(SECURITY, "meeting -> proposal", shift=len("meeting -> "))
    assert {"proposal", "won", "lost", "qualification"} <= await labels(arrow.line, arrow.character)
    guard = position_of(SECURITY, "when paid >= budget", shift=len("when "))
    in_expr = await labels(guard.line, guard.character)
    assert {"paid", "budget", "segment"} <= in_expr and "proposal" not in in_expr
    sla = position_of(SECURITY, "sla 1d", shift=len("sla "))
    assert "7d" in await labels(sla.line, sla.character)
    amount = position_of(SECURITY, "event.amount", shift=len("event."))
    assert await labels(amount.line, amount.character) == {"amount"}


async def test_completion_on_a_half_written_line_uses_the_names_of_the_last_parse(client):
    uri = await open_file(client, SECURITY)
    lines = SECURITY.read_text(encoding="utf-8").split("\n")
    end = len(lines) - 2                     # the line of the funnel's closing brace
    typing = "\n".join(lines[:end] + ["  meeting -> "] + lines[end:])
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[t.TextDocumentContentChangeWholeDocument(text=typing)]))
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in client.diagnostics[uri]] == ["FNL001"]
    found = await client.text_document_completion_async(t.CompletionParams(
        t.TextDocumentIdentifier(uri), t.Position(end, len("  meeting -> "))))
    assert {"proposal", "won", "lost"} <= {item.label for item in found.items}


async def test_rename_a_stage_across_the_file_and_its_import(client):
    uri = await open_file(client, REGIONAL)
    edit = await client.text_document_rename_async(t.RenameParams(
        text_document=t.TextDocumentIdentifier(uri), position=position_of(REGIONAL, "qualification -> survey"),
        new_name="qualified_lead"))
    assert set(edit.changes) == {uri, BASE.as_uri()}
    assert all(e.new_text == "qualified_lead" for edits in edit.changes.values() for e in edits)
    lines = BASE.read_text(encoding="utf-8").split("\n")
    for e in edit.changes[BASE.as_uri()]:
        assert lines[e.range.start.line][e.range.start.character:e.range.end.character] == "qualification"


async def test_formatting_is_funnel_fmt(client, tmp_path):
    messy = "funnel d {\n stage new {start}\n    stage won { won }\n stage lost {lost}\nnew->won\n any -> lost\n}\n"
    uri = await open_file(client, tmp_path / "messy.funnel", messy)
    edits = await client.text_document_formatting_async(t.DocumentFormattingParams(
        text_document=t.TextDocumentIdentifier(uri), options=t.FormattingOptions(tab_size=2, insert_spaces=True)))
    from funnelspec.dsl.format import format_text
    assert [e.new_text for e in edits] == [format_text(messy, "messy.funnel")[0]]
    clean = await open_file(client, tmp_path / "clean.funnel", format_text(messy, "messy.funnel")[0])
    assert await client.text_document_formatting_async(t.DocumentFormattingParams(
        text_document=t.TextDocumentIdentifier(clean), options=t.FormattingOptions(tab_size=2, insert_spaces=True))) is None


async def test_document_symbols_are_funnels_and_stages(client):
    uri = await open_file(client, SECURITY)
    found = await client.text_document_document_symbol_async(t.DocumentSymbolParams(t.TextDocumentIdentifier(uri)))
    assert [s.name for s in found] == ["security"]
    assert [c.name for c in found[0].children] == ["new", "qualification", "meeting", "proposal", "negotiation",
                                                   "won", "lost"]


async def test_code_actions_are_the_quick_fixes(client, tmp_path):
    uri = await open_file(client, tmp_path / "demo.funnel", MISTAKES)
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(uri), range=t.Range(t.Position(9, 0), t.Position(9, 20)),
        context=t.CodeActionContext(diagnostics=[])))
    assert [(a.title, a.is_preferred) for a in actions] == [("replace `proposl` with `proposal`", False)]
    (edit,) = actions[0].edit.changes[uri]
    assert (edit.range.start.line, edit.range.start.character, edit.range.end.character, edit.new_text) == \
        (9, 9, 16, "proposal")


async def test_garbage_does_not_stop_the_server(client, tmp_path):
    uri = await open_file(client, tmp_path / "junk.funnel", "\x00\x01 funnel {{{ -> ->\n\"never closed\n\ud7ff")
    assert [d.code for d in client.diagnostics[uri]] == ["FNL001"]
    for line in range(3):
        await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(uri), t.Position(line, 3)))
        await client.text_document_completion_async(t.CompletionParams(t.TextDocumentIdentifier(uri),
                                                                        t.Position(line, 99)))
    await client.text_document_document_symbol_async(t.DocumentSymbolParams(t.TextDocumentIdentifier(uri)))
    again = await open_file(client, SECURITY)
    assert list(client.diagnostics[again]) == []
