"""Files written whole or not at all: every file a command writes goes through here.

The text goes to a temporary file beside the target (same folder, so the same
file system), is flushed to disk, and is renamed onto the target in one step.
Whatever stops the writer (an error, Ctrl-C, a SIGKILL, a full disk), the
target holds its old content or the new, never half of it; a killed writer
leaves at most a hidden `.funnel-*.tmp` beside it, never a file under the
target's name. A symlink given as the target is written through: its
target is replaced and the link stays (as `funnel fmt` always did). A
device or pipe (`/dev/null`, a FIFO) is written to, never replaced. Errors
name the path the user gave, never the temporary file.
"""
from __future__ import annotations

import io
import os
import stat
import tempfile
from contextlib import contextmanager, suppress
from typing import IO, Iterator

TEMP_PREFIX, TEMP_SUFFIX = ".funnel-", ".tmp"


@contextmanager
def replacing(path: str, binary: bool = False, exclusive: bool = False, mode: int | None = None) -> Iterator[IO]:
    """A handle on a temporary file beside `path`; on a clean exit it replaces `path`, else it is removed.

    `exclusive`: the target must not exist yet (FileExistsError; `funnel new`).
    The file gets `mode`, else the mode of the file it replaces, else what a
    plain open() would give it (mkstemp's files are private).
    """
    given, path = path, os.path.realpath(path)      # through a symlink: its target is what is replaced
    if _is_special(path):
        # A device, pipe or socket (`-o /dev/null`, `-o /dev/stdout`, a FIFO): written to as it is, never
        # replaced; renaming a file over /dev/null as root would turn the device into a plain file.
        with open(path, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8", "newline": ""})) as out:
            yield out
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    except OSError as err:            # name the file asked for, not the temporary one
        raise OSError(err.errno, err.strerror, given) from None
    handle = None
    try:
        raw = _open_temp(fd, path)
        handle = raw if binary else io.TextIOWrapper(raw, encoding="utf-8", newline="")
        yield handle
        handle.flush()
        os.fsync(raw.fileno())
        handle.close()
        os.chmod(tmp, mode if mode is not None else _mode_for(path))
        _publish(tmp, path, exclusive)
    except BaseException:
        with suppress(OSError):
            if handle is not None:
                handle.close()
            else:
                os.close(fd)              # already closed if the handle was made and failed
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomically(path: str, data: str | bytes, exclusive: bool = False, mode: int | None = None) -> None:
    """Write `data` (text as UTF-8, as it is) to `path` whole or not at all."""
    with replacing(path, binary=isinstance(data, bytes), exclusive=exclusive, mode=mode) as handle:
        handle.write(data)


def _is_special(path: str) -> bool:
    """Whether `path` exists and is not a regular file (nor a folder, which open() refuses by itself)."""
    try:
        kind = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(kind) and not stat.S_ISDIR(kind)


def _open_temp(fd: int, target: str) -> io.BufferedWriter:
    """The temporary file's binary handle (one place, so a test can slow a write down and kill it midway)."""
    return os.fdopen(fd, "wb")


def _mode_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:                         # a new file: as open() makes it, under the umask
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _publish(tmp: str, path: str, exclusive: bool) -> None:
    if not exclusive:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)                 # fails if the target appeared meanwhile, unlike a rename
    except FileExistsError:
        raise
    except OSError:                        # a file system without hard links
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)
