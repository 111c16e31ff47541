"""Where each name of a spec is declared and used: stages, fields, events, funnels and imports.

Built from the syntax trees of the file and the files it imports (the trees
api.analyse read), so that it answers even when the model has errors. A name
is known within its *family*: a funnel and the templates it extends, which
share their stages, fields and events across files.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..dsl import ast
from ..dsl.source import Span

BUILT_IN_NAMES = frozenset({"stage", "now", "time_in_stage"})


@dataclass(frozen=True)
class Occurrence:
    """One name written in a file: a declaration (`defines`) or a use."""

    kind: str                 # stage | field | event | funnel | import | function | event_field
    name: str
    span: Span
    family: int               # the funnel family it belongs to; -1 outside any funnel
    defines: bool = False
    decl: object = None       # the declaration node, for a definition
    target: str | None = None  # for an import: the key of the file it reads


@dataclass
class Index:
    occurrences: list[Occurrence] = field(default_factory=list)
    transitions: list[tuple[int, ast.TransitionDecl]] = field(default_factory=list)
    funnels: list[tuple[str, ast.FunnelDecl]] = field(default_factory=list)   # (file, funnel)
    families: list[int] = field(default_factory=list)                         # each funnel's family

    def at(self, file: str, line: int, column: int) -> Occurrence | None:
        """The occurrence under a 1-based line and column (the column just after a name counts too)."""
        for occ in self.occurrences:
            s = occ.span
            if s.file == file and s.line == line and s.column <= column <= s.end_column and s.line == s.end_line:
                return occ
        return None

    def same(self, occ: Occurrence) -> list[Occurrence]:
        """Every occurrence of the same name and kind in the same family, declarations first."""
        found = [o for o in self.occurrences
                 if o.kind == occ.kind and o.name == occ.name and (o.family == occ.family or occ.kind == "import")]
        return sorted(found, key=lambda o: (not o.defines, o.span.file, o.span.start))

    def definitions(self, occ: Occurrence) -> list[Occurrence]:
        return [o for o in self.same(occ) if o.defines]

    def names(self, kind: str, family: int | None = None) -> list[Occurrence]:
        seen, found = set(), []
        for o in self.occurrences:
            if o.kind == kind and o.defines and (family is None or o.family == family) and o.name not in seen:
                seen.add(o.name)
                found.append(o)
        return found

    def family_at(self, file: str, offset: int) -> int:
        """The family of the funnel written at `offset`; outside every funnel, the first (-1: none)."""
        for number, (path, funnel) in enumerate(self.funnels):
            if path == file and funnel.span.start <= offset <= funnel.span.end:
                return self.families[number]
        return self.families[0] if self.families else -1


def build_index(files) -> Index:
    """`files`: api.Analysis.files (key -> dsl.loader.LoadedFile)."""
    index = Index()
    by_key = {key: loaded.source.path for key, loaded in files.items()}
    for key, loaded in files.items():
        if loaded.tree is None or not loaded.source.quote:
            continue
        for decl in loaded.tree.funnels:
            index.funnels.append((loaded.source.path, decl))
    index.families = _families([decl for _, decl in index.funnels])
    for number, (path, decl) in enumerate(index.funnels):
        _Walker(index, index.families[number]).funnel(decl)
    for key, loaded in files.items():
        if loaded.tree is None or not loaded.source.quote:
            continue
        targets = {id(d): t for d, t in loaded.imports}
        for decl in loaded.tree.imports:
            target = targets.get(id(decl))
            index.occurrences.append(Occurrence("import", decl.target, decl.span, -1,
                                                target=by_key.get(target) if target else None))
    return index


def _families(funnels: list[ast.FunnelDecl]) -> list[int]:
    """A family number for each funnel: those joined by `extends` share one."""
    parent = list(range(len(funnels)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    named = {f.id.name: i for i, f in enumerate(funnels)}
    for i, f in enumerate(funnels):
        if f.extends is not None:
            j = named.get(f.extends.name.split(".")[-1])
            if j is not None:
                parent[root(i)] = root(j)
    return [root(i) for i in range(len(funnels))]


class _Walker:
    def __init__(self, index: Index, family: int):
        self.index, self.family = index, family

    def add(self, kind: str, ident: ast.Ident | None, defines: bool = False, decl=None) -> None:
        if ident is not None:
            self.index.occurrences.append(Occurrence(kind, ident.name, ident.span, self.family, defines, decl))

    def funnel(self, f: ast.FunnelDecl) -> None:
        self.add("funnel", f.id, True, f)
        if f.extends is not None:
            last = f.extends.name.split(".")[-1]
            s = f.extends.span
            self.index.occurrences.append(Occurrence(
                "funnel", last, Span(s.file, s.line, s.end_column - len(last), s.end_line, s.end_column,
                                     s.end - len(last), s.end), self.family))
        for item in f.items:
            self.item(item)

    def item(self, item) -> None:
        kind = type(item)
        if kind is ast.FieldsBlock:
            for decl in item.fields:
                self.add("field", decl.name, True, decl)
                self.expr(decl.default)
        elif kind is ast.EventsBlock:
            for event in item.events:
                self.add("event", event.name, True, event)
                for decl in event.fields:
                    self.add("event_field", decl.name, True, decl)
        elif kind is ast.StageDecl:
            self.stage(item)
        elif kind is ast.BlockDecl:
            for stage in item.stages:
                self.stage(stage)
        elif kind is ast.TransitionDecl:
            self.index.transitions.append((self.family, item))
            if not item.from_any:
                self.add("stage", item.source)
            self.add("stage", item.target)
            self.expr(item.criterion)
        elif kind is ast.RuleDecl:
            self.rule(item)
        elif kind is ast.ValueDecl:
            self.add("field", item.field)
        elif kind is ast.RouteDecl:
            self.expr(item.condition)
        elif kind is ast.DropDecl and item.kind in ("stage", "field"):
            self.add(item.kind, item.name)
        elif kind is ast.DropDecl and item.kind == "transition":
            if item.name.name != "any":
                self.add("stage", item.name)
            self.add("stage", item.target)

    def stage(self, s: ast.StageDecl) -> None:
        self.add("stage", s.id, True, s)
        self.add("stage", s.before)
        self.add("stage", s.after)
        for expr in s.requires:
            self.expr(expr)
        for rule in s.rules:
            self.rule(rule)

    def rule(self, r: ast.RuleDecl) -> None:
        t = r.trigger
        if t.kind == "event":
            self.add("event", t.subject)
        elif t.subject is not None:
            self.add("field", t.subject)
        self.add("stage", t.stage)
        self.expr(t.condition)
        for a in r.actions:
            kind = type(a)
            if kind is ast.MoveAction:
                self.add("stage", a.target)
            elif kind is ast.SetAction:
                self.add("field", a.field)
                self.expr(a.value)
            elif kind is ast.TaskAction:
                self.expr(a.due)
                self.recipient(a.assignee)
            elif kind is ast.NotifyAction:
                self.recipient(a.recipient)
            elif kind is ast.EmitAction:
                self.add("event", a.event)

    def recipient(self, r: ast.Recipient | None) -> None:
        if r is not None and r.is_field:
            self.index.occurrences.append(Occurrence("field", r.value, r.span, self.family))

    def expr(self, e) -> None:
        if e is None:
            return
        kind = type(e)
        if kind is ast.Name:
            if e.name not in BUILT_IN_NAMES:
                self.index.occurrences.append(Occurrence("field", e.name, e.span, self.family))
        elif kind is ast.EventRef:
            self.index.occurrences.append(Occurrence("event_field", e.field, _after_dot(e.span, e.field),
                                                     self.family))
        elif kind is ast.Call:
            self.add("function", e.func)
            for arg in e.args:
                self.expr(arg)
        elif kind is ast.Binary:
            self.expr(e.left)
            self.expr(e.right)
        elif kind in (ast.Unary, ast.IsSet):
            self.expr(e.operand)
        elif kind is ast.InList:
            self.expr(e.operand)
            self.expr(e.items)
        elif kind is ast.ListLit:
            for item in e.items:
                self.expr(item)


def _after_dot(span: Span, name: str) -> Span:
    """The span of `X` in `event.X`."""
    return Span(span.file, span.end_line, span.end_column - len(name), span.end_line, span.end_column,
                span.end - len(name), span.end)
