"""The user's cache folder, and the checked specs kept there between runs.

A command that runs a spec (simulate, diff, test, ...) parses, resolves and
checks it first; on a small spec that is most of its start-up (the parser's
tables, lark, the checks). `analyse_runnable` (api.py) keeps its result here,
pickled, one entry per spec path, working directory and import roots, and
uses an entry only when all it was made from is as it was:

- the package's own code: its version, the Python version, and the size and
  modification time of every file under dsl/ and stdlib/, api.py and the
  grammar (an edited checkout makes new entries, never reads stale ones);
- the settings and import roots, worked out again from pyproject.toml;
- every file read, read again: the same real path, a regular file, the same text.

Loading a pickle runs code, so an entry is read only from a folder and a file
that belong to this user and that no one else may write; an entry is written
to a temporary file beside it and renamed into place, so a reader sees a whole
entry or none. An entry that does not load is a miss. FUNNELSPEC_NO_CACHE=1
turns the cache off (the parser's tables too); XDG_CACHE_HOME moves it.
"""
from __future__ import annotations

import os
import pickle
import stat
import sys
import tempfile
import zlib
from contextlib import suppress
from dataclasses import replace

ENTRY_PREFIX, ENTRY_SUFFIX = "analysis-", ".pickle"
MOST_ENTRIES = 64              # past this the oldest entries are removed when one is written
LARGEST_ENTRY = 64 << 20       # an analysis that pickles larger is not kept (a spec of 1,000 stages: 7 MB)
_FORMAT = 1                    # the layout of an entry; a change makes old entries misses


def folder() -> str | None:
    """The cache folder (made when missing), or None: turned off, not made, or not private to this user."""
    if os.environ.get("FUNNELSPEC_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "funnelspec")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.stat(path)
        if _owned(info) and info.st_mode & 0o022:
            os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o022)     # ours, made under a loose umask
            info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or not _private(info) or not os.access(path, os.W_OK | os.X_OK):
        return None
    return path


def private_file(path: str) -> bool:
    """Whether the file at `path` may be loaded: a regular file of this user that no one else may write."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and _private(info)


def _owned(info: os.stat_result) -> bool:
    getuid = getattr(os, "getuid", None)
    return getuid is None or info.st_uid == getuid()      # no owners to compare (Windows): the profile's ACLs


def _private(info: os.stat_result) -> bool:
    return _owned(info) and not (getattr(os, "getuid", None) and info.st_mode & 0o022)


# Checked specs -------------------------------------------------------------------------------------------

def load_analysis(path: str, import_roots: tuple[str, ...]):
    """The analysis kept for this spec when nothing it was made from has changed, else None."""
    where = folder()
    if where is None:
        return None
    key = _key(path, import_roots)
    entry_path = _entry_path(where, key)
    try:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(entry_path, flags)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or not _private(info):
                return None
            data = handle.read()
        from .gcpause import gc_paused

        with gc_paused():               # tens of thousands of small objects, no cycles among them
            entry = pickle.loads(data)
    except Exception:                   # noqa: BLE001 - truncated, from another layout, unloadable: a miss
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or not _still_valid(entry, path, import_roots):
        return None
    return entry["analysis"]


def store_analysis(path: str, import_roots: tuple[str, ...], analysis) -> None:
    """Keep `analysis` (of a spec with no errors) for `load_analysis`; quietly nothing when it cannot."""
    where = folder()
    if where is None or analysis.spec is None:
        return
    from .config import settings_for
    from .loader import STD_PREFIX
    from .roots import roots_for

    key = _key(path, import_roots)
    files = [(name, os.path.realpath(name)) for name in analysis.files if not name.startswith(STD_PREFIX)]
    try:
        if not all(stat.S_ISREG(os.stat(real).st_mode) for _, real in files):
            return                      # a pipe or a device given as the spec: nothing to compare with later
    except OSError:
        return
    entry = {"key": key, "settings": _comparable(settings_for(path)), "roots": roots_for(path, import_roots),
             "files": files, "analysis": analysis}
    try:
        data = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:                   # noqa: BLE001 - something in the model that does not pickle: not kept
        return
    if len(data) > LARGEST_ENTRY:
        return
    _write(where, _entry_path(where, key), data)


def _key(path: str, import_roots: tuple[str, ...]) -> tuple:
    # The working directory is part of it: the diagnostics and spans name files relative to it.
    return (_FORMAT, _code_fingerprint(), os.getcwd(), os.path.abspath(path), tuple(import_roots))


def _entry_path(where: str, key: tuple) -> str:
    # The name only spreads entries out; the whole key, kept inside, is what decides a hit.
    return os.path.join(where, f"{ENTRY_PREFIX}{zlib.crc32(repr(key).encode('utf-8')):08x}{ENTRY_SUFFIX}")


def _still_valid(entry: dict, path: str, import_roots: tuple[str, ...]) -> bool:
    from .config import settings_for
    from .loader import read_source
    from .roots import roots_for

    if entry["settings"] != _comparable(settings_for(path)) or entry["roots"] != roots_for(path, import_roots):
        return False
    files = entry["analysis"].files
    for name, real in entry["files"]:
        try:
            if os.path.realpath(name) != real or not stat.S_ISREG(os.stat(real).st_mode):
                return False
            if read_source(name).text != files[name].source.text:
                return False
        except (OSError, KeyError):
            return False
    return True


def _comparable(settings):
    """Settings as a value: their pyproject.toml sources compared by path and text (a Source compares by identity)."""
    return replace(settings, sources=()), tuple((s.path, s.text) for s in settings.sources)


_fingerprint: tuple | None = None


def _code_fingerprint() -> tuple:
    """What the analysis code is: the version, the Python, and each of its files' size and modification time."""
    global _fingerprint
    if _fingerprint is None:
        from .. import __version__

        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        stamps = []
        for name in ("api.py", "grammar.lark"):
            with suppress(OSError):
                info = os.stat(os.path.join(package, name))
                stamps.append((name, info.st_size, info.st_mtime_ns))
        for top in ("dsl", "stdlib"):
            for here, folders, names in os.walk(os.path.join(package, top)):
                folders[:] = sorted(f for f in folders if f != "__pycache__")
                for name in sorted(names):
                    with suppress(OSError):
                        info = os.stat(os.path.join(here, name))
                        stamps.append((os.path.relpath(os.path.join(here, name), package), info.st_size,
                                       info.st_mtime_ns))
        _fingerprint = (__version__, sys.version, package, tuple(stamps))
    return _fingerprint


def _write(where: str, target: str, data: bytes) -> None:
    try:
        fd, temporary = tempfile.mkstemp(dir=where, prefix=".analysis-", suffix=".tmp")   # mode 0600
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except OSError:
        with suppress(OSError):
            os.unlink(temporary)
        return
    _prune(where)


def _prune(where: str) -> None:
    """Remove the oldest entries past MOST_ENTRIES (specs seen once, code since changed)."""
    try:
        entries = [e for e in os.scandir(where) if e.name.startswith(ENTRY_PREFIX) and e.name.endswith(ENTRY_SUFFIX)]
        if len(entries) <= MOST_ENTRIES:
            return
        entries.sort(key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns)
    except OSError:
        return
    for old in entries[: len(entries) - MOST_ENTRIES]:
        with suppress(OSError):
            os.unlink(old.path)
