"""The language server (`funnel lsp`): diagnostics, hover, navigation, completion, rename, formatting, fixes."""
