"""Pause the cyclic garbage collector while a phase allocates many small acyclic objects.

Parsing, resolving and checking a large spec create hundreds of thousands of
tokens, spans, nodes and findings, none of them in reference cycles; the collector's repeated
generation scans over them cost about 40 % of the time (bench/parse.py).
Reference counting still frees everything; the collector resumes afterwards.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def gc_paused():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
