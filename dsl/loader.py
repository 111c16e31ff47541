"""Files and imports: read each file once, parse it, follow its imports, find cycles."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import ast, codes
from .diagnostics import Diagnostic
from .parser import parse_source
from .source import Source, Span

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


def read_source(path: str) -> Source:
    """Read a file as UTF-8 (a BOM is dropped); raises OSError or UnicodeDecodeError."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        text = handle.read()
    return Source(display_path(path), text.replace("\r\n", "\n"))


def std_source(name: str) -> Source | None:
    from ..stdlib import template_text

    text = template_text(name)
    return None if text is None else Source(f"{STD_PREFIX}{name}.funnel", text)


def load_files(path: str, text: str | None = None) -> FileSet:
    """Load `path` (or the given text under that name) and every file it imports."""
    root = path if path.startswith(STD_PREFIX) or path.startswith("<") else os.path.abspath(path)
    fileset = FileSet(root)
    _load(fileset, root, text, stack=[], via=None)
    return fileset


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
        else:
            if via is not None and os.path.exists(key) and not os.path.isfile(key):
                # a folder, a device or a pipe: reading it could fail or never end
                raise IsADirectoryError(key) if os.path.isdir(key) else OSError(f"{key} is not a regular file")
            source = read_source(key)
    except (OSError, UnicodeDecodeError) as err:
        if via is None:
            raise
        fileset.diagnostics.append(codes.diagnostic(
            "FNL002", f"cannot import `{via.target}`: {_import_problem(err)}", via.span,
            hint=f"paths are relative to the importing file; this one is `{display_path(key)}`"
            if isinstance(err, FileNotFoundError) and not key.startswith(STD_PREFIX) else None))
        return None
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


def _import_problem(err: Exception) -> str:
    if isinstance(err, UnicodeDecodeError):
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
