"""Small helpers to write inline SVG by hand: escaped text, numbers without noise, wrapped labels."""
from __future__ import annotations

from ...dsl.render.safe_text import markup as escape


def num(value: float) -> str:
    """A coordinate with at most one decimal, no trailing zeros: stable and short."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def attrs(**values) -> str:
    parts = []
    for name, value in values.items():
        if value is None:
            continue
        key = name.rstrip("_").replace("_", "-")
        text = num(value) if isinstance(value, float) else str(value)
        parts.append(f'{key}="{escape(text)}"')
    return " ".join(parts)


def tag(name: str, content: str | None = None, **values) -> str:
    opening = f"<{name} {attrs(**values)}" if values else f"<{name}"
    if content is None:
        return opening + "/>"
    return f"{opening}>{content}</{name}>"


def text(x: float, y: float, content: str, **values) -> str:
    return tag("text", escape(content), x=float(x), y=float(y), **values)


def wrap_label(label: str, width: int, lines: int = 2) -> list[str]:
    """Split a label into at most `lines` lines of about `width` characters; the last one ellipsised.

    A label with no words (a group whose value is blank text) is drawn as `(blank)`, never as nothing."""
    words, out, current = label.split(), [], ""
    if not words:
        return ["(blank)"]
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines - 1] + [" ".join(out[lines - 1:])]
    return [line if len(line) <= width else line[:width - 1] + "…" for line in out]


def svg(width: float, height: float, content: str, label: str, css_class: str) -> str:
    """An SVG element that shrinks with the page but never grows past its drawn size; `label` is for screen readers."""
    return (f'<svg class="{css_class}" viewBox="0 0 {num(width)} {num(height)}" style="max-width: {num(width)}px" '
            f'role="img" aria-label="{escape(label)}">{content}</svg>')
