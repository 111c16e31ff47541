"""What `funnel serve` runs on, opened once: the checked and compiled spec, the store, the engine, the mappings.

Every mistake a user can make here (a spec with errors, a store that will
not open, deals in stages the spec no longer has, a bad CRM mapping) is a
`ServeError` whose message names the file and what is wrong; the command
prints it and exits 2 before the server listens.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

MAX_BODY = 1 << 20                  # bytes; a HubSpot batch of 100 events is some 40 KB


class ServeError(ValueError):
    """The server cannot start; the message says why."""


@dataclass
class Service:
    """What the routes work on."""

    spec: object
    compiled: object
    store: object
    engine: object
    mappings: dict = field(default_factory=dict)
    token: str | None = field(default=None, repr=False)
    max_body: int = MAX_BODY
    tick: float = 1.0               # seconds between looks for due timers
    committer: object = None

    def close(self) -> None:
        self.store.close()


def find_mapping(spec_path: str) -> str | None:
    """The nearest pyproject.toml above the spec that has a [tool.funnel.crm] table."""
    import tomllib

    folder = os.path.dirname(os.path.abspath(spec_path))
    while True:
        candidate = os.path.join(folder, "pyproject.toml")
        if os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as handle:
                    if tomllib.load(handle).get("tool", {}).get("funnel", {}).get("crm") is not None:
                        return candidate
            except (OSError, tomllib.TOMLDecodeError):
                pass
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def open_service(spec_path: str, state: str, *, mapping: str | None = None, token: str | None = None,
                 moves: str = "record", max_body: int = MAX_BODY, tick: float = 1.0, environ=os.environ) -> Service:
    from ..api import load
    from ..engine.compile import compile_spec
    from ..run.engine import RunEngine, spec_hash, unmapped_stages
    from ..run.store import StoreError, open_store
    from .mapping import MappingError, read_mappings

    try:
        spec, diagnostics = load(spec_path)
    except OSError as err:
        raise ServeError(f"{spec_path}: cannot read the spec: {err.strerror}") from None
    if spec is None:
        first = next((d for d in diagnostics if d.severity.name == "ERROR"), None)
        where = f": {first.span.label()}: {first.message}" if first else ""
        raise ServeError(f"{spec_path} has errors{where} (`funnel lint {spec_path}` shows them all)")
    mapping = mapping or find_mapping(spec_path)
    try:
        mappings = read_mappings(spec, mapping, environ) if mapping else {}
    except MappingError as err:
        raise ServeError(str(err)) from None
    compiled = compile_spec(spec)
    try:
        store = open_store(state)
    except StoreError as err:
        raise ServeError(str(err)) from None
    left = unmapped_stages(compiled, store.stage_counts(), {})
    if left:
        store.close()
        named = ", ".join(f"{c.deals} in `{c.funnel}.{c.stage}`" for c in left)
        raise ServeError(f"{state}: deals stand in stages {spec_path} no longer has ({named}); "
                         "`funnel run --migrate OLD=NEW` moves them")
    digest = spec_hash((path, source.text) for path, source in spec.sources.items())
    engine = RunEngine(compiled, store, hash=digest, moves=moves)
    return Service(spec, compiled, store, engine, mappings, token, max_body, tick)
