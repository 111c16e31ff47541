"""funnelspec: sales funnels as code.

    >>> import funnelspec
    >>> spec, diagnostics = funnelspec.load("examples/b2b_basic.funnel")

The facade in funnelspec.api chains the steps (parse, resolve, check,
compile, replay, metrics); see docs/language.md for the language.
"""
from .api import SpecError, analyse, diff, load, simulate

__all__ = ["SpecError", "analyse", "diff", "load", "simulate"]
__version__ = "0.1.0"
