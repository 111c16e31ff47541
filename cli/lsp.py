"""`funnel lsp`: start the language server for an editor (stdin and stdout)."""
from __future__ import annotations

from . import main
from .common import fail


@main.command()
def lsp() -> None:
    """Start the language server on standard input and output, for an editor to talk to.

    The editor starts it; a person does not type into it (docs/editors.md has the set-up for
    VS Code, Neovim and Helix). It needs pygls: `pip install 'funnelspec[lsp]'`.
    """
    try:
        from ..lsp.server import main as serve
    except ImportError as err:
        fail(f"funnel lsp needs pygls ({err.name or err} is not installed): pip install 'funnelspec[lsp]'")
    serve()
