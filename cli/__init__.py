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


def _register_commands() -> None:
    """Import every module of this package; each adds its commands to `main`."""
    import importlib
    import pkgutil

    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        if module != "common":
            importlib.import_module(f"{__name__}.{module}")


_register_commands()
