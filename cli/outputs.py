"""Where a command's output goes: checked before any work, written whole, through symlinks.

Every command that writes files names its inputs and outputs to
`check_outputs` first: an output that is one of the inputs (`lint s.funnel -o
s.funnel`, `simulate --events h.jsonl -o h.jsonl`) or another output
(`--rejects X -o X`) is refused with exit 2, as is one whose folder is
missing or not writable, before anything is read or replayed. Files are the
same when their resolved paths are, or (for hard links) their device and inode.
Writes go to a temporary file beside the target and replace it in one step; a
symlink given as the output is written through (its target is replaced, the
link stays), as `funnel fmt` does.
"""
from __future__ import annotations

import os
import tempfile
from typing import IO, Iterable

import click

from .common import fail

Named = tuple[str, "str | None"]      # (how the command line names it: `-o`, `SPEC`, `--events`; the path)


def check_outputs(inputs: Iterable[Named], outputs: Iterable[Named]) -> None:
    """Exit 2 when an output would replace an input or another output, or cannot be written."""
    seen: list[tuple[str, str, object]] = []
    for label, path in inputs:
        if path not in (None, "-") and not path.startswith("<"):
            seen.append((label, path, _identity(path)))
    for label, path in outputs:
        if path in (None, "-"):
            continue
        _check_writable(label, path)
        identity = _identity(path)
        for other_label, other, other_identity in seen:
            if identity == other_identity:
                same = "" if os.path.normpath(other) == os.path.normpath(path) else f" (`{other}`)"
                fail(f"{label} `{path}` is the same file as {other_label}{same}: writing it would destroy "
                     "what is read or written there; give another file")
        seen.append((label, path, identity))


def _identity(path: str) -> object:
    real = os.path.realpath(path)
    try:
        status = os.stat(real)
    except OSError:
        return real
    return (status.st_dev, status.st_ino)


def _check_writable(label: str, path: str) -> None:
    real = os.path.realpath(path)
    folder = os.path.dirname(real)
    if os.path.isdir(real):
        fail(f"{label} `{path}` is a folder; give a file")
    if not os.path.isdir(folder):
        fail(f"{label} `{path}`: no such folder `{os.path.dirname(path) or '.'}`")
    if not os.access(folder, os.W_OK | os.X_OK):
        fail(f"{label} `{path}`: cannot write in folder `{os.path.dirname(path) or '.'}` (permission denied)")


def write_output(data: str | bytes, path: str | None) -> None:
    """Write text (or bytes) whole to `path` through any symlink, or to stdout when no path is given."""
    if path in (None, "-"):
        if isinstance(data, bytes):
            stream = click.get_binary_stream("stdout")
            stream.write(data)
            stream.flush()
        else:
            click.echo(data, nl=False)
        return
    tmp, handle = temp_beside(path, binary=True)
    try:
        with handle:
            handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    except BaseException:
        os.unlink(tmp)
        raise
    publish(tmp, path)


def temp_beside(path: str, binary: bool = False) -> tuple[str, IO]:
    """A new temporary file in the folder `path` will be in (its target's, for a symlink), open for writing."""
    folder = os.path.dirname(os.path.realpath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".funnel-", suffix=".tmp")
    except OSError as err:            # name the file asked for, not the temporary one
        raise OSError(err.errno, err.strerror, path) from None
    if binary:
        return tmp, os.fdopen(fd, "wb")
    return tmp, os.fdopen(fd, "w", encoding="utf-8", newline="\n")


def publish(tmp: str, path: str) -> None:
    """Move a finished temporary file onto `path` (its target, for a symlink).

    A file that existed keeps its permissions; a new one gets those a plain
    open() would give (mkstemp makes it private).
    """
    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
