"""`python -m fuzz.keep FOLDER --issue ITEM --why TEXT [--name NAME]` (from tests/): keep a failing input.

FOLDER is a case a campaign saved (tests/fuzz/found/<surface>/<case>/) or
any folder laid out as the surface lays it out (`--surface` then names it).
The case is replayed: its signature is recorded, and `xfail = true` while it
still fails. It becomes regressions/<surface>/<name>/.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from .regressions import CASES
from .surfaces import SURFACES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz.keep")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--issue", required=True, help='the issue item that owns the fix, e.g. "29.7"')
    parser.add_argument("--why", required=True, help="what the input is, in a few words")
    parser.add_argument("--name", help="the case's folder name (default: the found folder's)")
    parser.add_argument("--surface", help="default: the found folder's parent's name")
    args = parser.parse_args(argv)
    surface = args.surface or args.folder.resolve().parent.name
    files = {str(p.relative_to(args.folder)): p.read_bytes() for p in sorted(args.folder.rglob("*"))
             if p.is_file() and p.name not in ("failure.txt", "case.toml")}
    with tempfile.TemporaryDirectory(prefix="fuzz-keep-") as scratch:
        failures = SURFACES[surface].run(scratch, files)
    signatures = list(dict.fromkeys(f.signature for f in failures))
    target = CASES / surface / (args.name or args.folder.name.replace(":", "-"))
    if target.exists():
        shutil.rmtree(target)
    for name, data in files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(data)
    why = args.why.replace('"', "'")
    signature = f'"{signatures[0]}"' if len(signatures) == 1 else "[" + ", ".join(f'"{s}"' for s in signatures) + "]"
    (target / "case.toml").write_text(f'issue = "{args.issue}"\nsignature = {signature}\n'
                                      f'xfail = {"true" if failures else "false"}\nwhy = "{why}"\n', encoding="utf-8")
    print(f"{target}: {signature if failures else 'passes'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
