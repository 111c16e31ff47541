"""Which files a name written in a file may open: imports, a journey file's `spec` line.

A spec is user content: a pull request can add `import "/proc/self/environ"`
or `import "../../../etc/passwd"`, and CI would print what it read inside a
syntax-error snippet. So a path named in a file is opened only when it stays
inside the project root (the folder of the pyproject.toml whose [tool.funnel]
applies, else the entry file's folder, plus `import-roots` and
`--import-root`), leads to a regular file whose real name ends in `.funnel`,
and is not under /proc, /sys or /dev. Every check is on the path with its
symlinks resolved, so a link inside the project cannot point out of it.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass

SPEC_SUFFIX = ".funnel"
PSEUDO_FILESYSTEMS = ("/proc", "/sys", "/dev")      # kernel state and devices: never a spec, often a secret


@dataclass(frozen=True)
class ProjectRoots:
    """The folders a file named inside a spec may be in (real paths; the first is the project root)."""

    folders: tuple[str, ...]

    @property
    def root(self) -> str:
        return self.folders[0]

    def refusal(self, path: str) -> str | None:
        """Why the file at `path` (named inside user content) must not be read, or None when it may be.

        The reason completes "import `X` …", e.g. "is outside the project root `proj`".
        A missing file or a folder inside the roots is not refused here: the caller
        says "no such file" or "a folder" as it always did.
        """
        real = os.path.realpath(path)
        if not any(_inside(real, folder) for folder in self.folders):
            return f"is outside the project root `{_shown(self.root)}`"
        return special_file(path, real)


def special_file(path: str, real: str | None = None) -> str | None:
    """Why `path` is no spec to read whoever named it: not `.funnel`, or kernel state, a device, a pipe."""
    real = real or os.path.realpath(path)
    if not real.endswith(SPEC_SUFFIX) or not os.path.basename(path).endswith(SPEC_SUFFIX):
        return device_or_kernel(real) or f"is not a `{SPEC_SUFFIX}` file"
    return device_or_kernel(real)


def device_or_kernel(real: str) -> str | None:
    """Why the file at real path `real` must never be read: under /proc, /sys or /dev, or not a regular file."""
    place = next((p for p in PSEUDO_FILESYSTEMS if _inside(real, p)), None)
    if place is not None:
        return f"leads into `{place}`, which holds no specs"
    try:
        mode = os.stat(real).st_mode
    except OSError:
        return None                     # missing or unreadable: the reader reports it
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return "is not a regular file"
    return None


def quotable(path: str) -> bool:
    """Whether diagnostics may show lines of the file at `path`: a `.funnel` spec, not a device or kernel file."""
    return special_file(path) is None


def roots_for(entry: str, extra: tuple[str, ...] = ()) -> ProjectRoots:
    """The roots of a project whose entry file is `entry`: its config's folder (or its own), `import-roots`, `extra`."""
    from .config import settings_for

    settings = settings_for(entry)
    base = settings.root or os.path.dirname(os.path.abspath(entry))
    folders = [base, *settings.import_roots, *(os.path.abspath(f) for f in extra)]
    return ProjectRoots(tuple(dict.fromkeys(os.path.realpath(f) for f in folders)))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _shown(folder: str) -> str:
    """A root as users read it: relative to the working directory when it holds it, `.` for the directory itself."""
    here = os.path.realpath(os.getcwd())
    if _inside(here, folder) or _inside(folder, here):
        relative = os.path.relpath(folder, here)
        return relative if relative.startswith("..") or relative == "." else relative + os.sep
    return folder
