"""Renderers: diagnostics and models to text, JSON, SARIF and other formats, one module a format."""
