"""Files and imports: read each file once, parse it, follow its imports, find cycles."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import ast, codes
from .diagnostics import Diagnostic
from .source import Source, Span

if TYPE_CHECKING:
    from .roots import ProjectRoots

STD_PREFIX = "<stdlib>/"


@dataclass
class LoadedFile:
    source: Source
    tree: ast.FileAst | None
    imports: list[tuple[ast.ImportDecl, str | None]] = field(default_factory=list)  # (decl, loaded key)


@dataclass
class FileSet:
    """Every file reached from a root, by key (an absolute path or `<stdlib>/NAME.funnel`)."""

    root: str
    roots: ProjectRoots                # where the files it imports may be (dsl/roots.py)
    files: dict[str, LoadedFile] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def sources(self) -> dict[str, Source]:
        return {f.source.path: f.source for f in self.files.values()}


def display_path(path: str) -> str:
    """A path as users should read it: relative to the working directory when below it."""
    if path.startswith(STD_PREFIX):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


class NotUTF8(OSError):
    """A file whose bytes are not UTF-8; an OSError so that every command reports it with the file's name."""

    def __init__(self, path: str, err: UnicodeDecodeError):
        super().__init__(None, f"not valid UTF-8 ({err.reason} at byte {err.start})", display_path(path))


def read_source(path: str, quote: bool = True, crlf: bool = False) -> Source:
    """Read a file as UTF-8 (a BOM is dropped); raises OSError (NotUTF8 for bytes that are not UTF-8).

    Line ends become LF unless `crlf` (a fix writes the file back with the line ends it had)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as err:
        raise NotUTF8(path, err) from None
    return Source(display_path(path), text if crlf else text.replace("\r\n", "\n"), quote)


def std_source(name: str) -> Source | None:
    from ..stdlib import template_text

    text = template_text(name)
    return None if text is None else Source(f"{STD_PREFIX}{name}.funnel", text)


def load_files(path: str, text: str | None = None, roots: ProjectRoots | None = None) -> FileSet:
    """Load `path` (or the given text under that name) and every file it imports that `roots` allow.

    `roots` default to those of the entry file (dsl/roots.py); an import they
    refuse is an FNL010 finding and is not opened.
    """
    from .roots import roots_for

    root = path if path.startswith(STD_PREFIX) or path.startswith("<") else os.path.abspath(path)
    if roots is None:
        roots = roots_for("<entry>" if root.startswith("<") else root)
    fileset = FileSet(root, roots)
    _load(fileset, root, text, stack=[], via=None)
    return fileset


def _read_entry(key: str) -> Source:
    """The file named on the command line: read whatever its name, quoted only when it is a spec."""
    from .roots import device_or_kernel, quotable

    refused = device_or_kernel(os.path.realpath(key))
    if refused is not None:           # reading it could leak a secret, fail or never end
        raise OSError(None, refused, display_path(key))
    return read_source(key, quote=quotable(key))


def _load(fileset: FileSet, key: str, text: str | None, stack: list[str], via: ast.ImportDecl | None) -> str | None:
    if key in stack:
        cycle = " -> ".join(display_path(k) for k in stack[stack.index(key):] + [key])
        fileset.diagnostics.append(codes.diagnostic("FNL003", f"import cycle: {cycle}", via.span,
                                                    hint="move what both files need into a third file"))
        return None
    if key in fileset.files:
        return key
    try:
        if key.startswith(STD_PREFIX):
            source = std_source(key[len(STD_PREFIX):-len(".funnel")])
            if source is None:
                raise FileNotFoundError(key)
        elif text is not None:
            source = Source(display_path(key) if not key.startswith("<") else key, text)
        elif via is None:
            source = _read_entry(key)
        else:
            refused = fileset.roots.refusal(key)
            if refused is not None:
                fileset.diagnostics.append(codes.diagnostic(
                    "FNL010", f"import `{via.target}` {refused}", via.span, hint=_refusal_hint(refused)))
                return None
            if os.path.isdir(key):
                raise IsADirectoryError(key)
            source = read_source(os.path.realpath(key))
            source = Source(display_path(key), source.text)
    except OSError as err:
        if via is None:
            raise
        fileset.diagnostics.append(codes.diagnostic(
            "FNL002", f"cannot import `{via.target}`: {_import_problem(err)}", via.span,
            hint=f"paths are relative to the importing file; this one is `{display_path(key)}`"
            if isinstance(err, FileNotFoundError) and not key.startswith(STD_PREFIX) else None))
        return None
    from .parser import parse_source      # lark and the grammar: imported by what parses, not with the loader

    tree, problems = parse_source(source)
    fileset.diagnostics.extend(problems)
    loaded = LoadedFile(source, tree)
    fileset.files[key] = loaded
    if tree is None:
        return key
    for decl in tree.imports:
        if decl.std:
            target = f"{STD_PREFIX}{decl.target}.funnel"
            from ..stdlib import template_names

            if decl.target not in template_names():
                from .spelling import did_you_mean
                fileset.diagnostics.append(codes.diagnostic(
                    "FNL004", f"unknown template `std.{decl.target}`", decl.span,
                    hint=did_you_mean(f"std.{decl.target}", [f"std.{n}" for n in template_names()])
                    or "the standard templates: " + ", ".join(f"`std.{n}`" for n in template_names())))
                loaded.imports.append((decl, None))
                continue
        elif key.startswith("<"):
            target = os.path.abspath(decl.target)
        else:
            target = os.path.normpath(os.path.join(os.path.dirname(key), decl.target))
        loaded.imports.append((decl, _load(fileset, target, None, stack + [key], decl)))
    return key


def _refusal_hint(reason: str) -> str:
    if "project root" in reason:
        return ("imports stay inside the project root: the folder of the pyproject.toml with [tool.funnel], "
                "else the entry file's; widen it with `import-roots = [\"…\"]` there or `--import-root DIR`")
    return "only `.funnel` specs are imported, never devices, pipes or files under /proc, /sys or /dev"


def _import_problem(err: Exception) -> str:
    if isinstance(err, NotUTF8):
        return "not valid UTF-8"
    if isinstance(err, FileNotFoundError):
        return "no such file"
    if isinstance(err, IsADirectoryError):
        return "it is a folder"
    if isinstance(err, PermissionError):
        return "permission denied"
    return "not a regular file" if "regular file" in str(err) else (err.strerror or str(err))


def std_span(name: str) -> Span:
    return Span(f"{STD_PREFIX}{name}.funnel", 1, 1, 1, 1)
