"""Checks, one module per family. Importing this package registers every code.

0xx syntax and files, 1xx names, 2xx the stage graph, 3xx expressions and
rules, 4xx advice. A check is `fn(funnel, context) -> Iterable[Diagnostic]`
registered with `@check` from dsl/codes.py; codes the parser and resolver
emit are registered with `@documented` so that every code has its docs here.
"""
from . import syntax, settings, names, graph, rules, advice, reasons  # noqa: F401
