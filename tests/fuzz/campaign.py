"""One campaign: inputs generated for a surface, each run against the oracle, failures counted and kept.

Every failing input is saved as a case folder (the files as laid out) under
FUZZ_FOUND (default tests/fuzz/found/, not versioned); `python -m fuzz.keep`
makes one a regression case (fuzz/regressions.py). A failure whose signature
a known case names (an `xfail` case of the same surface) is counted as known
and does not fail the campaign; any other does.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .regressions import known_signatures

FOUND = Path(os.environ.get("FUZZ_FOUND", Path(__file__).resolve().parent / "found"))


@dataclass
class Tally:
    """What one campaign saw; `figures()` is its row in docs/limits.md."""

    surface: str
    inputs: int = 0
    lines: int = 0                                   # stream lines fed in (stream surfaces)
    kinds: Counter = field(default_factory=Counter)  # traceback, hang, unaccounted, ... (unknown ones)
    known: Counter = field(default_factory=Counter)  # signature -> count, failures a known case reproduces
    new: list = field(default_factory=list)          # (signature, saved folder, detail) of unknown failures
    seconds: float = 0.0

    def figures(self) -> str:
        known = sum(self.known.values())
        return (f"{self.surface}: {self.inputs} inputs, tracebacks {self.kinds['traceback'] + self.kinds['exit-code']}, "
                f"hangs {self.kinds['hang']}, lines unaccounted {self.kinds['unaccounted'] + self.kinds['stopped']}"
                f", known failures {known}" + (f" ({dict(self.known)})" if known else "")
                + f", {self.seconds:.0f} s")


def try_input(surface, files: dict[str, bytes], tally: Tally) -> None:
    """Run one generated input; count it, and save it when it fails in a way no known case explains."""
    started = time.perf_counter()
    folder = tempfile.mkdtemp(prefix="fuzz-")
    try:
        failures = surface.run(folder, files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        tally.seconds += time.perf_counter() - started
    tally.inputs += 1
    known = known_signatures(surface.name)
    for failure in failures:
        if failure.signature in known:
            tally.known[failure.signature] += 1
            continue
        tally.kinds[failure.kind] += 1
        saved = save_case(surface.name, files, failure)
        tally.new.append((failure.signature, str(saved), f"{failure.command}\n{failure.detail}"))


def save_case(surface: str, files: dict[str, bytes], failure) -> Path:
    digest = hashlib.sha1(b"".join(files[name] for name in sorted(files))).hexdigest()[:12]
    folder = FOUND / surface / f"{failure.signature.replace('@', '-').replace('/', '.')}-{digest}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (folder / "failure.txt").write_text(f"{failure.kind} {failure.signature}\n{failure.command}\n\n{failure.detail}\n",
                                        encoding="utf-8")
    return folder
