"""No write is ever half-done: each command that writes a file is killed (SIGKILL) in the middle of writing it.

The command runs in a forked child whose temporary file (atomic.py) writes
half of its first chunk, flushes it to disk and stops there; the test then
kills the child. The target must still hold its old content (or not exist,
for `funnel new`), and the only trace left is the hidden, half-written
`.funnel-*.tmp` beside it: proof that the kill came mid-write.
"""
from __future__ import annotations

import io
import os
import shutil
import signal
import sys
import time

import pytest

from conftest import EXAMPLES, ROOT

FUZZ_CORPUS = ROOT / "tests" / "fuzz" / "corpus"
CRM = EXAMPLES / "data" / "crm_sales_opportunities"
OLD = b"the old content, which a killed writer must leave as it is\n"
SIMULATE = ("simulate", "s.funnel", "--events", "e.jsonl")

# (id, command, the file it writes); every file the command writes exists beforehand with OLD in it
WRITERS = [
    ("fmt", ("fmt", "s.funnel"), "s.funnel"),
    ("new", ("new", "shop", "--template", "saas", "--dir", "p"), "p/shop.funnel"),
    ("convert", ("convert", "crm-opportunities", "crm", "-o", "out.jsonl"), "out.jsonl"),
    ("export", ("export", "s.funnel", "-o", "out.json"), "out.json"),
    ("report", ("report", "result.json", "-o", "out.txt"), "out.txt"),
    ("report-html", ("report", "result.json", "--report", "html", "-o", "out.html"), "out.html"),
    ("simulate-o", SIMULATE + ("--format", "json", "-o", "out.json"), "out.json"),
    ("simulate-jsonl", SIMULATE + ("--format", "jsonl", "-o", "out.jsonl"), "out.jsonl"),
    ("rejects", ("simulate", "s.funnel", "--events", "bad.jsonl", "--on-error", "skip", "--rejects", "rejects.txt",
                 "-o", "out.json"), "rejects.txt"),
    ("report-output", SIMULATE + ("--report", "text", "--report-output", "report.txt", "-o", "out.json"),
     "report.txt"),
    ("coverage-output", SIMULATE + ("--coverage", "--coverage-output", "coverage.txt", "-o", "out.json"),
     "coverage.txt"),
    ("coverage-lcov", SIMULATE + ("--coverage-lcov", "coverage.lcov", "-o", "out.json"), "coverage.lcov"),
    ("baseline", ("lint", "b.funnel", "--baseline", "baseline.json", "--update-baseline"), "baseline.json"),
    ("lint-o", ("lint", "b.funnel", "--format", "json", "-o", "lint.json"), "lint.json"),
    ("graph-o", ("graph", "s.funnel", "--format", "dot", "-o", "g.dot"), "g.dot"),
    ("sample-o", ("sample", "s.funnel", "--deals", "20", "-o", "sample.jsonl"), "sample.jsonl"),
    ("diff-o", ("diff", "s.funnel", "d.funnel", "--events", "e.jsonl", "-o", "diff.txt"), "diff.txt"),
    ("explain-o", ("explain", "s.funnel", "--events", "e.jsonl", "--deal", "D-0001", "-o", "trace.txt"),
     "trace.txt"),
]
if shutil.which("dot"):
    WRITERS.append(("graph-svg", ("graph", "s.funnel", "--format", "svg", "-o", "g.svg"), "g.svg"))


def lay_out(folder) -> None:
    spec = (EXAMPLES / "security_b2b.funnel").read_text(encoding="utf-8")
    (folder / "s.funnel").write_text(spec.replace("\n  ", "\n        ", 1), encoding="utf-8")  # for fmt to change
    (folder / "d.funnel").write_text(spec, encoding="utf-8")          # diff runs only specs without lint errors
    events = (FUZZ_CORPUS / "events-start.jsonl").read_bytes()
    (folder / "e.jsonl").write_bytes(events)
    (folder / "bad.jsonl").write_bytes(events + b'{"deal": "D-9", "ts": "2026-01-09", "type": "moved", "to": "won"}\n')
    shutil.copy(FUZZ_CORPUS / "result.json", folder / "result.json")
    shutil.copy(FUZZ_CORPUS / "baseline.funnel", folder / "b.funnel")
    shutil.copytree(CRM, folder / "crm")
    (folder / "crm" / "sales_pipeline.csv").write_bytes(b"\n".join(
        (CRM / "sales_pipeline.csv").read_bytes().split(b"\n")[:200]) + b"\n")


def run_and_kill(args: tuple[str, ...], folder, target: str) -> None:
    """Fork; the child runs `funnel ARGS` and halts halfway into writing `target`; kill it there."""
    marker = folder.parent / "halted"
    pid = os.fork()
    if pid == 0:                                     # the child: never returns into pytest
        try:
            _child(args, folder, target, marker)
        finally:
            os._exit(3)
    deadline = time.monotonic() + 120                # a wait for the child, not a speed check
    while not marker.exists():
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            pytest.fail(f"funnel {' '.join(args)} ended (status {status}) without writing {target}")
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"funnel {' '.join(args)} never started writing {target}")
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _child(args, folder, target, marker) -> None:
    from funnelspec import atomic
    from funnelspec.cli import main

    real_open = atomic._open_temp
    wanted = os.path.abspath(folder / target)

    class Halting(io.BufferedWriter):
        """Writes half of the first chunk, makes sure it is on disk, says so, and waits to be killed."""

        def write(self, data):
            if not data:
                return 0
            super().write(bytes(data)[:max(1, len(data) // 2)])
            super().flush()
            os.fsync(self.fileno())
            marker.touch()
            while True:
                time.sleep(60)

    def halting_open(fd, path):
        if os.path.abspath(path) != wanted:
            return real_open(fd, path)
        return Halting(io.FileIO(fd, "w"))

    atomic._open_temp = halting_open
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.chdir(folder)
    sys.argv = ["funnel", *args]
    main(prog_name="funnel")


@pytest.mark.parametrize("args,target", [pytest.param(a, t, id=i) for i, a, t in WRITERS])
def test_a_writer_killed_mid_write_leaves_the_old_file(tmp_path, args, target):
    folder = tmp_path / "work"
    folder.mkdir()
    lay_out(folder)
    path = folder / target
    new_file = args[0] == "new"
    if not new_file and target != "s.funnel":
        path.write_bytes(OLD)
    old = None if new_file else path.read_bytes()
    before = {p.relative_to(folder) for p in folder.rglob("*")}

    run_and_kill(args, folder, target)

    if new_file:
        assert not path.exists()
    else:
        assert path.read_bytes() == old
    left = {p.relative_to(folder) for p in folder.rglob("*")} - before
    temps = [p for p in left if p.name.startswith(".funnel-") and p.name.endswith(".tmp")]
    assert len(temps) == 1 and temps[0].parent == path.relative_to(folder).parent, left
    partial = (folder / temps[0]).read_bytes()
    assert partial and partial != old                    # the kill came with the new text half-written


def test_a_failed_write_removes_its_temporary_file(tmp_path, monkeypatch):
    """An error while writing (a full disk) leaves the old file and no temporary file."""
    from funnelspec import atomic

    target = tmp_path / "out.txt"
    target.write_bytes(OLD)

    class Full(io.BufferedWriter):
        def write(self, data):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "_open_temp", lambda fd, path: Full(io.FileIO(fd, "w")))
    with pytest.raises(OSError, match="No space"):
        atomic.write_atomically(str(target), "new text " * 10_000)
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_a_new_file_gets_the_mode_of_a_plain_open_and_a_replaced_one_keeps_its_own(tmp_path):
    from funnelspec import atomic

    umask = os.umask(0o022)
    try:
        atomic.write_atomically(str(tmp_path / "new.txt"), "x")
        kept = tmp_path / "kept.txt"
        kept.write_text("old")
        kept.chmod(0o600)
        atomic.write_atomically(str(kept), "new")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644
    assert kept.stat().st_mode & 0o777 == 0o600 and kept.read_text() == "new"


def test_exclusive_refuses_an_existing_file(tmp_path):
    from funnelspec import atomic

    (tmp_path / "there.txt").write_text("old")
    with pytest.raises(FileExistsError):
        atomic.write_atomically(str(tmp_path / "there.txt"), "new", exclusive=True)
    assert (tmp_path / "there.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["there.txt"]


def test_a_pipe_or_device_is_written_to_never_replaced(tmp_path):
    """`-o /dev/null` or `-o FIFO`: the bytes go to it and it stays what it is. Renaming a temporary file over
    it (as for a regular file) would, as root, turn /dev/null into a plain file. A FIFO stands in for the
    device here, so that a regression cannot break the machine running the test."""
    import stat
    import threading

    from funnelspec.atomic import write_atomically

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_atomically(str(fifo), "через трубу\n")
    reader.join(timeout=10)
    assert received == ["через трубу\n".encode()]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]          # no temporary file left beside it
