"""The regression cases: every input that ever failed, one folder each, replayed by test_regressions.py.

`regressions/<surface>/<case>/` holds the files as the surface lays them out
and `case.toml`:

    issue = "29.7"                                  # the issue item it belongs to
    signature = "RecursionError@engine/events.py"   # the failure it showed (oracle.py); a list if several
    xfail = true                                    # it still fails: strict, so a fix flips it
    why = "a deal nested 3,000 levels deep"
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CASES = Path(__file__).resolve().parent / "regressions"


@dataclass(frozen=True)
class Case:
    surface: str
    name: str
    folder: Path
    issue: str
    signatures: tuple[str, ...]
    xfail: bool
    why: str

    def files(self) -> dict[str, bytes]:
        return {str(p.relative_to(self.folder)): p.read_bytes() for p in sorted(self.folder.rglob("*"))
                if p.is_file() and p.name not in ("case.toml", "failure.txt")}


@lru_cache(maxsize=None)
def cases() -> tuple[Case, ...]:
    found = []
    for meta in sorted(CASES.glob("*/*/case.toml")):
        with open(meta, "rb") as handle:
            data = tomllib.load(handle)
        folder = meta.parent
        signature = data["signature"]
        signatures = (signature,) if isinstance(signature, str) else tuple(signature)
        found.append(Case(folder.parent.name, folder.name, folder, str(data["issue"]), signatures,
                          bool(data.get("xfail", False)), data.get("why", "")))
    return tuple(found)


def known_signatures(surface: str) -> frozenset[str]:
    """Signatures a campaign counts as known on this surface: those of its cases that still fail (xfail)."""
    return frozenset(s for c in cases() if c.surface == surface and c.xfail for s in c.signatures)
