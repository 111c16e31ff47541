"""What the language server answers, in the language's terms: hover text, completions, the outline.

Pure functions of an analysed file (api.Analysis), its name index and the
text; lsp/server.py turns them into protocol types.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..dsl import ast
from ..dsl.codes import all_codes, lookup
from ..dsl.syntax_errors import KEYWORDS
from ..stdlib.functions import FUNCTIONS
from .index import BUILT_IN_NAMES, Index, Occurrence

DURATIONS = ("30m", "1h", "12h", "1d", "3d", "7d", "14d", "30d", "1w", "2w")
_CODE_WORD = re.compile(r"[A-Za-z0-9-]+")
# funnel fmt pads `name:` to line up the types of a block; quoted alone in a hover the padding means nothing.
_ALIGNED_COLON = re.compile(r"^(\s*[^\s:]+):[ \t]{2,}")


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str                 # stage | field | event | event_field | keyword | duration | function
    detail: str = ""


def hover(index: Index, occ: Occurrence, text_of) -> str | None:
    """Markdown for the name under the cursor; `text_of(span)` quotes the source."""
    if occ.kind == "function":
        fn = FUNCTIONS.get(occ.name)
        return f"```\n{fn.signature}\n```\n\n{fn.doc}" if fn else None
    found = index.definitions(occ)
    if not found:
        return None
    decl = found[0].decl
    if occ.kind == "stage":
        return _stage_hover(index, found[0], decl, text_of)
    if occ.kind in ("field", "event_field"):
        quoted = _ALIGNED_COLON.sub(r"\1: ", text_of(decl.span), count=1)
        return f"**{occ.kind.replace('_', ' ')}** `{occ.name}`\n\n```funnel\n{quoted}\n```"
    if occ.kind == "event":
        return f"**event** `{occ.name}`\n\n```funnel\n{text_of(decl.span)}\n```"
    if occ.kind == "funnel":
        title = f" {decl.title.text}" if decl.title else ""
        return f"**funnel** `{occ.name}`{title}"
    return None


def _stage_hover(index: Index, occ: Occurrence, s: ast.StageDecl, text_of) -> str:
    kind = next((f.name for f in s.flags if f.name in ("start", "won", "lost")), "open")
    lines = [f"**stage** `{s.id.name}`" + (f" {s.title.text}" if s.title else ""), "",
             f"- kind: {kind}" + (" (reopen)" if s.has("reopen") else "")]
    if s.probability is not None:
        lines.append(f"- probability: {s.probability.text}")
    if s.sla is not None:
        lines.append(f"- sla: {s.sla.text}")
    for expr in s.requires:
        lines.append(f"- require `{text_of(expr.span)}`")
    into = [t for fam, t in index.transitions if fam == occ.family and t.target.name == s.id.name]
    out = [t for fam, t in index.transitions if fam == occ.family and t.source.name in (s.id.name, "any")
           and not (t.from_any and kind in ("won", "lost"))]
    for title, group in (("criteria in", into), ("criteria out", out)):
        if group:
            lines += ["", f"{title}:"] + [f"- `{text_of(t.span)}`" for t in group]
    return "\n".join(lines)


def code_hover(comment_line: str, column: int) -> str | None:
    """The explanation of a code under the cursor in a `# funnel: ignore[…]` comment (0-based column)."""
    if "funnel:" not in comment_line or "#" not in comment_line[:column]:
        return None
    for match in _CODE_WORD.finditer(comment_line):
        if match.start() <= column <= match.end():
            entry = lookup(match.group())
            if entry is not None:
                return f"**{entry.code}** `{entry.name}` ({entry.severity.word})\n\n{entry.doc}"
    return None


def completions(index: Index, family: int, before: str) -> list[Completion]:
    """What may be written at the cursor, by what the line says up to it (`before`)."""
    words = before.split()
    last = words[-1] if words else ""
    previous = words[-2] if len(words) > 1 else ""
    typing = not before.endswith((" ", "\t", ".")) and bool(words)
    context = previous if typing else last      # the editor filters by what is typed; the context chooses the list
    if re.search(r"\bevent\.\w*$", before):
        return [Completion(o.name, "event_field", "event data") for o in index.names("event_field", family)]
    if context in ("->", "to", "in", "before", "after") and not re.search(r"\b(after|every)\s+$", before):
        if context != "after" or before.lstrip().startswith("stage"):
            return _stages(index, family)
    if context in ("sla", "every") or (context == "after" and not before.lstrip().startswith("stage")):
        return [Completion(d, "duration") for d in DURATIONS]
    if context == "event" or context == "emit":
        return [Completion(o.name, "event") for o in index.names("event", family)]
    if context in ("set", "change", "value"):
        return _fields(index, family)
    if context in ("when", "require", "while", "and", "or", "not", "=", "==", "!=", ">=", "<=", ">", "<", "+",
                   "-", "*", "/", "due", "(", ","):
        return (_fields(index, family) + [Completion(n, "field", "built in") for n in sorted(BUILT_IN_NAMES)]
                + [Completion(f.name, "function", f.signature) for f in FUNCTIONS.values()])
    return [Completion(k, "keyword") for k in KEYWORDS] + _stages(index, family)


def _stages(index: Index, family: int) -> list[Completion]:
    return [Completion(o.name, "stage", o.decl.title.text if o.decl is not None and o.decl.title else "")
            for o in index.names("stage", family)]


def _fields(index: Index, family: int) -> list[Completion]:
    return [Completion(o.name, "field", "field") for o in index.names("field", family)]


def outline(index: Index, file: str) -> list[tuple[ast.FunnelDecl, list[ast.StageDecl]]]:
    """The funnels written in `file`, each with its stages in order."""
    found = []
    for path, funnel in index.funnels:
        if path != file:
            continue
        stages = []
        for item in funnel.items:
            if isinstance(item, ast.StageDecl):
                stages.append(item)
            elif isinstance(item, ast.BlockDecl):
                stages.extend(item.stages)
        found.append((funnel, stages))
    return found


def code_link(code: str) -> str | None:
    """Where a code is documented: its section of docs/rules.md, when the docs are beside the package."""
    rules = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
    entry = all_codes().get(code)
    if entry is None or not rules.is_file():
        return None
    return f"{rules.as_uri()}#{code.lower()}-{entry.name}"


def valid_name(name: str) -> bool:
    return bool(re.fullmatch(r"[^\W\d]\w*", name)) and name not in KEYWORDS
