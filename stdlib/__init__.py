"""The standard library: funnel templates (*.funnel) and the functions expressions may call."""
from __future__ import annotations

from importlib import resources


def template_names() -> list[str]:
    """Names of the bundled templates, `b2b_classic` for stdlib/b2b_classic.funnel."""
    root = resources.files(__name__)
    return sorted(p.name[: -len(".funnel")] for p in root.iterdir() if p.name.endswith(".funnel"))


def template_text(name: str) -> str | None:
    path = resources.files(__name__).joinpath(f"{name}.funnel")
    return path.read_text(encoding="utf-8") if path.is_file() else None
