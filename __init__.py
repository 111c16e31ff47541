"""funnelspec: sales funnels as code.

    >>> import funnelspec
    >>> spec, diagnostics = funnelspec.load("examples/b2b_basic.funnel")

The facade in funnelspec.api chains the steps (parse, resolve, check,
compile, replay, metrics); see docs/language.md for the language.
"""
__all__ = ["SpecError", "analyse", "diff", "load", "simulate"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # The facade is imported when first used, not with the package: `funnel simulate` and the other
    # commands import only the steps they run (the parser, the checks and their libraries cost start-up).
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
