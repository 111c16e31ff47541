"""What `funnel serve` runs on, opened once: the checked spec, the run session (store, engine), the mappings.

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
    """What the routes work on: the checked spec, the run session (store, engine, delivery), the mappings."""

    spec: object
    session: object
    mappings: dict = field(default_factory=dict)
    token: str | None = field(default=None, repr=False)
    max_body: int = MAX_BODY
    tick: float = 1.0               # seconds between looks for due timers
    thresholds: object = None       # the diagnosis thresholds `funnel report` would use here
    committer: object = None

    @property
    def store(self):
        return self.session.store

    @property
    def engine(self):
        return self.session.engine

    def start(self) -> None:
        if self.session.delivery is not None:
            self.session.delivery.start()

    def close(self) -> dict:
        """Deliver what is due, close the store; the outbox counts."""
        return self.session.close()


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
                 moves: str = "record", sink: str | None = None, migrate: dict | None = None,
                 max_body: int = MAX_BODY, tick: float = 1.0, environ=os.environ) -> Service:
    """Check the spec, read the mapping, open the run session (the same checks as `funnel run`)."""
    from ..api import analyse
    from ..engine.diagnosis import load_thresholds
    from ..run.session import RunRefused, RunSession
    from .mapping import read_mappings

    try:
        analysis = analyse(spec_path, lint=False)
    except OSError as err:
        raise ServeError(f"{spec_path}: cannot read the spec: {err.strerror}") from None
    if analysis.spec is None:
        first = next((d for d in analysis.diagnostics if d.severity.name == "ERROR"), None)
        where = f": {first.span.label()}: {first.message}" if first else ""
        raise ServeError(f"{spec_path} has errors{where} (`funnel lint {spec_path}` shows them all)")
    mapping = mapping or find_mapping(spec_path)
    try:
        thresholds = load_thresholds(os.getcwd())
        mappings = read_mappings(analysis.spec, mapping, environ) if mapping else {}
        session = RunSession.open(analysis, state, migrate=migrate, moves=moves, sink=sink)
    except (ValueError, RunRefused) as err:      # MappingError and bad thresholds are ValueErrors
        raise ServeError(str(err)) from None
    return Service(analysis.spec, session, mappings, token, max_body, tick, thresholds)
