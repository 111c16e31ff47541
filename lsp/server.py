"""`funnel lsp`: the language server editors start, speaking the protocol on stdin and stdout (pygls).

Every answer comes from the pipeline `funnel lint` runs (api.analyse and the
lint settings of the file's pyproject.toml), so an editor shows the same
findings, codes and fixes. Diagnostics are published after a pause in typing
(DEBOUNCE seconds) so that a burst of keystrokes costs one analysis.
"""
from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer

from .. import api
from ..dsl.diagnostics import Severity
from ..dsl.fixes import fixes_for
from ..dsl.format import format_text
from ..dsl.loader import STD_PREFIX, display_path
from . import answers
from .index import Index, build_index
from .recover import recovered

DEBOUNCE = 0.15
SEVERITY = {Severity.ERROR: t.DiagnosticSeverity.Error, Severity.WARNING: t.DiagnosticSeverity.Warning,
            Severity.INFO: t.DiagnosticSeverity.Information}
COMPLETION_KIND = {"stage": t.CompletionItemKind.Class, "field": t.CompletionItemKind.Field,
                   "event": t.CompletionItemKind.Event, "event_field": t.CompletionItemKind.Property,
                   "keyword": t.CompletionItemKind.Keyword, "duration": t.CompletionItemKind.Unit,
                   "function": t.CompletionItemKind.Function}


@dataclass
class Checked:
    """One version of an open document, analysed: what every request reads."""

    version: int | None
    key: str                   # the document's source key (dsl/loader.py display_path)
    analysis: api.Analysis
    report: object             # dsl/lint.py FileReport
    recovered: list            # with a syntax error: the findings of the parts that parse (lsp/recover.py)

    @property
    def findings(self) -> list:
        return [d for d in self.report.findings if d.span.file == self.key] + self.recovered

    @cached_property
    def index(self) -> Index:
        """Built on the first request that needs names, not on the way to the diagnostics after each edit."""
        return build_index(self.analysis.files)


class FunnelServer(LanguageServer):
    def __init__(self):
        super().__init__("funnel-lsp", "0.1.0")
        self.checked: dict[str, Checked] = {}
        self.pending: dict[str, asyncio.Task] = {}
        self.parsed: dict[str, Checked] = {}     # the last version of each document that parsed

    def path_of(self, uri: str) -> str:
        parsed = urlparse(uri)
        return unquote(parsed.path) if parsed.scheme == "file" else uri

    def uri_of(self, key: str) -> str | None:
        """The URI of a source key; a standard template is the installed package's file."""
        if key.startswith(STD_PREFIX):
            path = Path(__file__).resolve().parent.parent / "stdlib" / key[len(STD_PREFIX):]
            return path.as_uri() if path.is_file() else None
        if key.startswith("<"):
            return None
        return Path(os.path.abspath(key)).as_uri()

    def check(self, uri: str) -> Checked:
        """The analysis of the document as it is now; computed again only when its text changed."""
        doc = self.workspace.get_text_document(uri)
        known = self.checked.get(uri)
        if known is not None and known.version == doc.version and doc.version is not None:
            return known
        path = self.path_of(uri)
        analysis = api.analyse(path, doc.source, lint=False)
        report = api.lint_report(path, settings=None, analysis=analysis)
        key = display_path(path)
        syntax = [d for d in report.findings if d.code == "FNL001" and d.span.file == key]
        extra = recovered(path, doc.source, syntax, lambda text: [
            d for d in api.lint_report(path, text).findings if d.span.file == key]) if syntax else []
        known = Checked(doc.version, key, analysis, report, [d for d in extra if d.code != "FNL001"])
        self.checked[uri] = known
        if any(f.tree is not None and f.source.path == known.key for f in analysis.files.values()):
            self.parsed[uri] = known
        return known

    def names(self, uri: str) -> Checked:
        """The document as now, or, while a half-written line stops it parsing, as it last parsed."""
        checked = self.check(uri)
        return checked if checked.index.funnels else self.parsed.get(uri, checked)

    def publish(self, uri: str) -> None:
        try:
            checked = self.check(uri)
        except OSError as err:               # the file went away, or an import cannot be read: say so, go on
            self.window_show_message(t.ShowMessageParams(type=t.MessageType.Warning, message=f"funnel: {err}"))
            return
        found = [self.diagnostic(checked, d) for d in checked.findings]
        self.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri, found, checked.version))

    def diagnostic(self, checked: Checked, d) -> t.Diagnostic:
        link = answers.code_link(d.code)
        related = [t.DiagnosticRelatedInformation(t.Location(uri, self.range(checked, r.span)), r.message)
                   for r in d.related if (uri := self.uri_of(r.span.file))]
        message = d.message + (f"\n{d.hint}" if d.hint else "")
        return t.Diagnostic(self.range(checked, d.span), message, SEVERITY[d.severity], d.code,
                            t.CodeDescription(link) if link else None, "funnel", related_information=related or None)

    def range(self, checked: Checked, span) -> t.Range:
        source = checked.analysis.sources.get(span.file)
        line_of = source.line_text if source is not None else (lambda n: "")
        return t.Range(_position(line_of(span.line), span.line, span.column),
                       _position(line_of(span.end_line), span.end_line, span.end_column))

    def occurrence(self, uri: str, position: t.Position):
        checked = self.check(uri)
        line = checked.analysis.sources[checked.key].line_text(position.line + 1) \
            if checked.key in checked.analysis.sources else ""
        column = _column(line, position.character)
        return checked, checked.index.at(checked.key, position.line + 1, column), line, column

    def locations(self, checked: Checked, occurrences) -> list[t.Location]:
        return [t.Location(uri, self.range(checked, o.span)) for o in occurrences
                if (uri := self.uri_of(o.span.file))]


def _position(line: str, number: int, column: int) -> t.Position:
    """A 1-based line and code-point column as the protocol's 0-based line and UTF-16 character."""
    prefix = line[:max(column - 1, 0)]
    return t.Position(number - 1, len(prefix.encode("utf-16-le")) // 2)


def _at(source, offset: int) -> t.Position:
    """The protocol position of a code-point offset into a source (an edit may span lines)."""
    line_start = source.text.rfind("\n", 0, offset) + 1
    number = source.text.count("\n", 0, offset) + 1
    return _position(source.line_text(number), number, offset - line_start + 1)


def _column(line: str, character: int) -> int:
    """The 1-based code-point column of a UTF-16 character offset."""
    units = 0
    for index, ch in enumerate(line):
        if units >= character:
            return index + 1
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line) + 1


server = FunnelServer()


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: FunnelServer, params: t.DidOpenTextDocumentParams) -> None:
    ls.publish(params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: FunnelServer, params: t.DidSaveTextDocumentParams) -> None:
    ls.checked.pop(params.text_document.uri, None)       # files it imports may have changed on disk
    ls.publish(params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: FunnelServer, params: t.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    waiting = ls.pending.pop(uri, None)
    if waiting is not None:
        waiting.cancel()

    async def later() -> None:
        await asyncio.sleep(DEBOUNCE)
        ls.pending.pop(uri, None)
        ls.publish(uri)

    ls.pending[uri] = asyncio.ensure_future(later())


@server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: FunnelServer, params: t.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.checked.pop(uri, None)
    ls.parsed.pop(uri, None)
    ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri, []))


@server.feature(t.TEXT_DOCUMENT_HOVER)
def hover(ls: FunnelServer, params: t.HoverParams) -> t.Hover | None:
    checked, occ, line, column = ls.occurrence(params.text_document.uri, params.position)
    sources = checked.analysis.sources

    def text_of(span) -> str:
        source = sources.get(span.file)
        return source.text[span.start:span.end] if source is not None else ""

    text = answers.hover(checked.index, occ, text_of) if occ is not None else answers.code_hover(line, column - 1)
    if text is None:
        return None
    return t.Hover(t.MarkupContent(t.MarkupKind.Markdown, text), ls.range(checked, occ.span) if occ else None)


@server.feature(t.TEXT_DOCUMENT_DEFINITION)
def definition(ls: FunnelServer, params: t.DefinitionParams) -> list[t.Location] | None:
    checked, occ, _, _ = ls.occurrence(params.text_document.uri, params.position)
    if occ is None:
        return None
    if occ.kind == "import":
        uri = ls.uri_of(occ.target) if occ.target else None
        return [t.Location(uri, t.Range(t.Position(0, 0), t.Position(0, 0)))] if uri else None
    return ls.locations(checked, checked.index.definitions(occ)) or None


@server.feature(t.TEXT_DOCUMENT_REFERENCES)
def references(ls: FunnelServer, params: t.ReferenceParams) -> list[t.Location] | None:
    checked, occ, _, _ = ls.occurrence(params.text_document.uri, params.position)
    if occ is None:
        return None
    same = checked.index.same(occ)
    if not params.context.include_declaration:
        same = [o for o in same if not o.defines]
    return ls.locations(checked, same)


@server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=[".", " ", ">"]))
def completion(ls: FunnelServer, params: t.CompletionParams) -> t.CompletionList:
    checked = ls.names(params.text_document.uri)
    doc = ls.workspace.get_text_document(params.text_document.uri)
    line = doc.lines[params.position.line] if params.position.line < len(doc.lines) else ""
    before = line[:_column(line, params.position.character) - 1]
    offset = doc.offset_at_position(params.position)
    family = checked.index.family_at(checked.key, offset)
    items = [t.CompletionItem(c.label, kind=COMPLETION_KIND[c.kind], detail=c.detail or None)
             for c in answers.completions(checked.index, family, before)]
    return t.CompletionList(False, items)


@server.feature(t.TEXT_DOCUMENT_RENAME)
def rename(ls: FunnelServer, params: t.RenameParams) -> t.WorkspaceEdit | None:
    checked, occ, _, _ = ls.occurrence(params.text_document.uri, params.position)
    if occ is None or occ.kind not in ("stage", "field", "event"):
        return None
    if not answers.valid_name(params.new_name):
        raise ValueError(f"`{params.new_name}` is not a name: a letter or `_`, then letters, digits or `_`")
    changes: dict[str, list[t.TextEdit]] = {}
    for o in checked.index.same(occ):
        uri = ls.uri_of(o.span.file)
        if uri is not None:
            changes.setdefault(uri, []).append(t.TextEdit(ls.range(checked, o.span), params.new_name))
    return t.WorkspaceEdit(changes=changes)


@server.feature(t.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: FunnelServer, params: t.DocumentFormattingParams) -> list[t.TextEdit] | None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    after, _ = format_text(doc.source, ls.path_of(params.text_document.uri))
    if after is None or after == doc.source:     # a file with a syntax error is left as it is, as `funnel fmt` does
        return None
    end = t.Position(len(doc.lines), 0)
    return [t.TextEdit(t.Range(t.Position(0, 0), end), after)]


@server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: FunnelServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
    checked = ls.check(params.text_document.uri)
    found = []
    for funnel, stages in answers.outline(checked.index, checked.key):
        children = [t.DocumentSymbol(s.id.name, t.SymbolKind.Class, ls.range(checked, s.span),
                                     ls.range(checked, s.id.span), detail=s.title.text if s.title else None)
                    for s in stages]
        found.append(t.DocumentSymbol(funnel.id.name, t.SymbolKind.Module, ls.range(checked, funnel.span),
                                      ls.range(checked, funnel.id.span),
                                      detail=funnel.title.text if funnel.title else None, children=children))
    return found


@server.feature(t.TEXT_DOCUMENT_CODE_ACTION, t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix]))
def code_actions(ls: FunnelServer, params: t.CodeActionParams) -> list[t.CodeAction]:
    checked = ls.check(params.text_document.uri)
    wanted = params.range
    source = checked.analysis.sources.get(checked.key)
    found = []
    for d in checked.findings:
        where = ls.range(checked, d.span)
        if (where.end.line, where.end.character) < (wanted.start.line, wanted.start.character) or \
                (where.start.line, where.start.character) > (wanted.end.line, wanted.end.character):
            continue
        for fix in fixes_for(d, source):
            edits = [t.TextEdit(t.Range(_at(source, e.start), _at(source, e.end)), e.text) for e in fix.edits]
            found.append(t.CodeAction(fix.title, kind=t.CodeActionKind.QuickFix,
                                      diagnostics=[ls.diagnostic(checked, d)], is_preferred=fix.safe,
                                      edit=t.WorkspaceEdit(changes={params.text_document.uri: edits})))
    return found


def main() -> None:
    server.start_io()
