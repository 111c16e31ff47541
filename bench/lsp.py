"""Language server latency: diagnostics for a 1,000-stage file after an edit (target: under 300 ms).

`funnel lsp` runs as an editor runs it, a separate process on stdio; this
bench is its client. It opens a generated spec (bench/parse.py's generator:
1,000 stages in a chain, criteria between them, and a number of rules), waits
for the first diagnostics, then makes edits one at a time (a stage's
probability changes) and times each from sending the change to receiving the
diagnostics of that version. The figure includes the server's debounce (the
pause it waits for more typing, lsp/server.py DEBOUNCE); the analysis alone
(parse, resolve, every lint check) is shown beside it, timed in this process.
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .parse import generate_spec

SIZES = ((1000, 0), (1000, 1000), (1000, 5000))
QUICK_SIZES = ((100, 100),)
EDITS, QUICK_EDITS = 7, 2
TARGET = 0.300


async def _edits(text: str, path: Path, edits: int) -> tuple[float, list[float]]:
    from lsprotocol import types as t
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("funnel-bench", "1")
    arrived: dict[int, float] = {}
    waiting: dict[int, asyncio.Future] = {}

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: t.PublishDiagnosticsParams) -> None:
        arrived[params.version] = time.perf_counter()
        if params.version in waiting and not waiting[params.version].done():
            waiting[params.version].set_result(None)

    await client.start_io(sys.executable, "-m", "funnelspec", "lsp")
    try:
        await client.initialize_async(t.InitializeParams(capabilities=t.ClientCapabilities(),
                                                         root_uri=path.parent.as_uri()))
        client.initialized(t.InitializedParams())
        loop = asyncio.get_running_loop()
        uri = path.as_uri()
        waiting[1] = loop.create_future()
        sent = time.perf_counter()
        client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, "funnel", 1, text)))
        await asyncio.wait_for(waiting[1], 120)
        first = arrived[1] - sent
        times = []
        for version in range(2, edits + 2):
            edited = text.replace("probability 1%", f"probability {version % 90 + 2}%", 1)
            waiting[version] = loop.create_future()
            sent = time.perf_counter()
            client.text_document_did_change(t.DidChangeTextDocumentParams(
                text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[t.TextDocumentContentChangeWholeDocument(text=edited)]))
            await asyncio.wait_for(waiting[version], 120)
            times.append(arrived[version] - sent)
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
    return first, times


def _analysis(text: str, path: Path, repeats: int) -> float:
    from funnelspec import api

    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        api.lint_report(str(path), analysis=api.analyse(str(path), text, lint=False))
        best = min(best, time.perf_counter() - started)
    return best


def run(quick: bool = False) -> None:
    try:
        import pygls  # noqa: F401
    except ImportError:
        print("   skipped: the language server needs pygls (pip install -e '.[lsp]')")
        return
    from funnelspec.lsp.server import DEBOUNCE

    edits = QUICK_EDITS if quick else EDITS
    print(f"   server debounce {DEBOUNCE * 1000:.0f} ms (included below); {edits} edits each; target "
          f"{TARGET * 1000:.0f} ms")
    print(f"   {'stages':>6} {'rules':>6} {'KB':>5} {'open':>8} {'edit, median':>13} {'edit, best':>11} "
          f"{'analysis':>9} {'vs target':>10}")
    with tempfile.TemporaryDirectory() as folder:
        for stages, rules in QUICK_SIZES if quick else SIZES:
            text = generate_spec(stages, rules)
            path = Path(folder) / f"big_{stages}_{rules}.funnel"
            path.write_text(text, encoding="utf-8")
            first, times = asyncio.run(_edits(text, path, edits))
            median = statistics.median(times)
            analysis = _analysis(text, path, 1 if quick else 3)
            print(f"   {stages:>6} {rules:>6} {len(text.encode()) // 1024:>5} {first * 1000:>6.0f}ms "
                  f"{median * 1000:>11.0f}ms {min(times) * 1000:>9.0f}ms {analysis * 1000:>7.0f}ms "
                  f"{median / TARGET:>9.2f}x")
