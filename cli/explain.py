"""`funnel explain CODE` (a diagnostic code's documentation)."""
from __future__ import annotations

import click

from . import main
from .model import explain_code


@main.command()
@click.argument("code", required=False, default="")
@click.option("--list", "list_all", is_flag=True, help="List every code with its summary.")
def explain(code: str, list_all: bool) -> None:
    """Explain a diagnostic code (FNL102 or unknown-stage): why it matters, a bad example and the fix."""
    from ..dsl.codes import all_codes

    all_codes()          # every check module registers its codes when imported
    explain_code(code, list_all)
