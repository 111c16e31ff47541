"""The `funnel` command: thin click commands, one module per command family.

Each command takes arguments, makes one facade call, renders, and returns an
exit code: 0 clean, 1 findings (or changes) at the failing level, 2 usage or I/O.
"""
from __future__ import annotations

import click

from .common import FunnelGroup


@click.group(cls=FunnelGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="funnelspec", prog_name="funnel")
def main() -> None:
    """Sales funnels as code: lint, simulate and diff `.funnel` specs, and run them against live deals."""


# Which module of this package adds each command (FunnelGroup imports it when the command is asked for);
# tests/test_startup.py checks the table against what the modules register.
main.MODULES = {
    "lint": "lint", "fmt": "fmt", "graph": "graph", "simulate": "simulate", "report": "report",
    "fit": "forecast", "forecast": "forecast", "backtest": "forecast", "diff": "diff", "run": "run",
    "state": "state", "serve": "serve", "explain": "explain", "test": "test", "new": "new",
    "export": "model", "schema": "model", "convert": "convert", "import": "crm_import", "lsp": "lsp",
    "sample": "sample",
}
