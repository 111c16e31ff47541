"""The AST as an indented outline for snapshots: one node a line, spans as `@line:col-line:col`."""
from __future__ import annotations

import dataclasses

from funnelspec.dsl import ast
from funnelspec.dsl.source import Span


def span_text(span: Span) -> str:
    return f"@{span.line}:{span.column}-{span.end_line}:{span.end_column}"


def _inline(value) -> str | None:
    """A short one-line form for leaves (names, literals), None for nodes that need lines of their own."""
    if isinstance(value, ast.Ident):
        return f"{value.name} {span_text(value.span)}"
    if isinstance(value, ast.Literal):
        return f"{value.kind} {value.text} = {value.value!r} {span_text(value.span)}"
    if isinstance(value, ast.Name):
        return f"Name {value.name} {span_text(value.span)}"
    if isinstance(value, ast.EventRef):
        return f"EventRef event.{value.field} {span_text(value.span)}"
    if isinstance(value, ast.Recipient):
        return f"{'field' if value.is_field else 'literal'} {value.value} {span_text(value.span)}"
    if isinstance(value, (str, int, float, bool)):
        return repr(value)
    return None


def dump(node, indent: int = 0) -> list[str]:
    pad = "  " * indent
    lines = [f"{pad}{type(node).__name__} {span_text(node.span)}"]
    for field in dataclasses.fields(node):
        if field.name == "span":
            continue
        value = getattr(node, field.name)
        if value is None or value == () or value is False and field.name in ("optional", "negated", "std"):
            continue
        if field.name == "items" and isinstance(node, ast.StageDecl):
            lines.append(f"{pad}  items: {', '.join(type(i).__name__ for i in value)}")
            continue
        if isinstance(value, tuple):
            inline = [_inline(v) for v in value]
            if all(i is not None for i in inline):
                lines.append(f"{pad}  {field.name}: [{'; '.join(inline)}]")
                continue
            lines.append(f"{pad}  {field.name}:")
            for item in value:
                text = _inline(item)
                lines.extend([f"{pad}    {text}"] if text is not None else dump(item, indent + 2))
            continue
        text = _inline(value)
        if text is not None:
            lines.append(f"{pad}  {field.name}: {text}")
        else:
            lines.append(f"{pad}  {field.name}:")
            lines.extend(dump(value, indent + 2))
    return lines


def dump_file(tree: ast.FileAst) -> str:
    return "\n".join(dump(tree)) + "\n"
