"""`python -m fuzz.atheris_run SURFACE [libFuzzer flags]` (from tests/): a surface under atheris, coverage-guided.

The same surfaces, mutations and oracle as the hypothesis campaigns; atheris'
data provider makes the choices and steers them by the coverage of the
package's code. A failure no regression case explains is saved (as the
campaigns save it) and stops the run with exit 1. Where atheris does not
install (it needs a CPython it has wheels for), this says so and exits 0:
the campaigns do not depend on it.
"""
from __future__ import annotations

import os
import sys

from .campaign import Tally, try_input
from .mutate import ProviderPick
from .surfaces import SURFACES


def main(argv: list[str]) -> int:
    try:
        import atheris
    except ImportError:
        print("atheris is not installed (pip install -e '.[fuzz]'): coverage-guided runs skipped")
        return 0
    if len(argv) < 2 or argv[1] not in SURFACES:
        print(f"usage: python -m fuzz.atheris_run SURFACE [libFuzzer flags]; surfaces: {', '.join(SURFACES)}")
        return 2
    surface, tally = SURFACES[argv[1]], Tally(argv[1])
    _instrument_package(atheris)

    def one_input(data: bytes) -> None:
        try_input(surface, surface.generate(ProviderPick(atheris.FuzzedDataProvider(data))), tally)
        if tally.new:
            signature, folder, detail = tally.new[-1]
            raise AssertionError(f"{signature}: saved in {folder}\n{detail}")

    atheris.Setup([argv[0]] + argv[2:], one_input)
    try:
        atheris.Fuzz()
    finally:
        print(tally.figures(), flush=True)
        if os.environ.get("FUZZ_FIGURES"):
            with open(os.environ["FUZZ_FIGURES"], "a", encoding="utf-8") as handle:
                handle.write(f"atheris {tally.figures()}\n")
    return 0


SKIPPED = ("funnelspec.bench", "funnelspec.editors", "funnelspec.tests")


def _instrument_package(atheris) -> None:
    """Coverage for the package's own modules only (all of them: the commands import theirs lazily)."""
    import importlib
    import pkgutil

    for name in [n for n in sys.modules if n == "funnelspec" or n.startswith("funnelspec.")]:
        del sys.modules[name]                     # imported by the surfaces: import again, instrumented
    with atheris.instrument_imports(include=["funnelspec"]):
        import funnelspec

        for module in pkgutil.walk_packages(funnelspec.__path__, "funnelspec."):
            # bench/ (benchmarks, importing each other as `bench.*`) and the editors' files take no user input
            if not module.name.endswith("__main__") and not module.name.startswith(SKIPPED):
                importlib.import_module(module.name)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
