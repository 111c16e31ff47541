"""The standard library: funnel templates (*.funnel) and the functions expressions may call.

A template is `stdlib/NAME.funnel`, declaring one funnel whose id is NAME,
imported with `import std.NAME` and extended with `funnel mine extends
std.NAME { … }`. Its header comment documents it: the first line is its
one-line summary (`funnel new --list`), the rest says what business it fits,
which fields it expects, its named rules and how to extend it.
`stdlib/NAME.events.jsonl` is its sample deal stream.
"""
from __future__ import annotations

from importlib import resources


def template_names() -> list[str]:
    """Names of the bundled templates, `b2b_classic` for stdlib/b2b_classic.funnel."""
    root = resources.files(__name__)
    return sorted(p.name[: -len(".funnel")] for p in root.iterdir() if p.name.endswith(".funnel"))


def template_text(name: str) -> str | None:
    path = resources.files(__name__).joinpath(f"{name}.funnel")
    return path.read_text(encoding="utf-8") if path.is_file() else None


def template_header(name: str) -> list[str]:
    """The template's leading comment block, one entry a line, without the `# ` marks."""
    text = template_text(name)
    if text is None:
        raise KeyError(name)
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return lines


def template_summary(name: str) -> str:
    """The first line of the template's header: what it is for, in one line."""
    header = template_header(name)
    return header[0].strip() if header else name


def sample_events(name: str) -> str | None:
    """The template's sample deal stream (JSON Lines), or None when it has none."""
    path = resources.files(__name__).joinpath(f"{name}.events.jsonl")
    return path.read_text(encoding="utf-8") if path.is_file() else None


def template_journeys(name: str) -> str | None:
    """The journeys (`NAME.funnel-test`) that ship beside a template, or None."""
    path = resources.files(__name__).joinpath(f"{name}.funnel-test")
    return path.read_text(encoding="utf-8") if path.is_file() else None
