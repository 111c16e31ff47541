"""Syntax and files (FNL0xx): codes the parser and the file loader emit."""
from __future__ import annotations

from ..codes import documented
from ..diagnostics import Severity


@documented("FNL001", "syntax-error", Severity.ERROR)
def syntax_error():
    """The text is not valid funnel syntax.

    Nothing in the file can be checked or run until it parses. The message
    names what was found and what the language expected there, and the hint
    names the usual slip (`=` for `==`, a missing `}`, a misspelled keyword).

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      new -> won when segment = "target"
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields {
        segment: text
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when segment == "target"
      any -> lost
    }
    ```
    """


@documented("FNL002", "file-not-found", Severity.ERROR)
def file_not_found():
    """An imported file does not exist or cannot be read.

    Paths in `import` are relative to the file that imports them. Templates
    of the standard library are imported as `import std.NAME`, not by path.

    Bad:

    ```funnel
    import "shared/fields.funnel"

    funnel sales {
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    import std.b2b_classic

    funnel sales {
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```
    """


@documented("FNL003", "import-cycle", Severity.ERROR)
def import_cycle():
    """Files import each other in a circle, or a funnel extends itself.

    Loading would never end, so the cycle is reported where it closes.
    Move what both files need into a third file that both import.

    Bad:

    ```funnel
    funnel sales extends sales {
      stage new { start }
    }
    ```

    Fix:

    ```funnel
    funnel sales extends std.b2b_classic {}
    ```
    """


@documented("FNL004", "unknown-template", Severity.ERROR)
def unknown_template():
    """`extends` or `import std.` names a template that does not exist.

    A funnel extends a funnel declared in the same file, in an imported file,
    or a standard template (`std.NAME`; `funnel new --list` shows them).

    Bad:

    ```funnel
    funnel sales extends std.b2b_clasic {}
    ```

    Fix:

    ```funnel
    funnel sales extends std.b2b_classic {}
    ```
    """


@documented("FNL005", "invalid-literal", Severity.ERROR)
def invalid_literal():
    """A literal has the right shape but no meaning: a 13th month, a 150% probability.

    A number, or the count of a duration, has at most 15 digits in its whole
    part (up to `999_999_999_999_999`): such numbers are exact, and sums of
    them stay finite in every result (docs/limits.md).

    Bad:

    ```funnel
    funnel sales {
      stage new { start probability 150% }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      stage new { start  probability 15% }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```
    """


@documented("FNL010", "import-not-allowed", Severity.ERROR)
def import_not_allowed():
    """An import leaves the project root, or names a file that is not a `.funnel` spec.

    A spec is often someone else's text, linted in CI: an import of
    `/proc/self/environ` or `../../../etc/passwd` would make the linter read
    that file and print it in a syntax-error snippet. So an import is opened
    only when, with its symlinks resolved, it stays inside the project root
    (the folder of the pyproject.toml whose `[tool.funnel]` applies, else the
    folder of the file named on the command line), names a regular file
    ending in `.funnel`, and is not under /proc, /sys or /dev. The finding
    names the import and the root, never what the file holds.

    Shared specs in a sibling folder are allowed by widening the root:
    `import-roots = ["../shared"]` in `[tool.funnel]` (relative to that
    pyproject.toml), or `--import-root DIR` on the command line.

    Bad:

    ```funnel
    import "/proc/self/environ"

    funnel sales extends std.b2b_classic {}
    ```

    Fix:

    ```funnel
    funnel sales extends std.b2b_classic {}
    ```
    """
