"""Run the registered lint checks over a resolved spec."""
from __future__ import annotations

from .codes import lint_checks
from .diagnostics import Diagnostic
from .model import Spec


def lint_spec(spec: Spec) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for funnel in spec.funnels:
        for entry in lint_checks():
            found.extend(entry.run(funnel, spec))
    return found
