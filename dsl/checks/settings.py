"""Suppressions and settings (FNL006–FNL009): inline `# funnel: ignore[…]` comments and `[tool.funnel]`.

dsl/suppress.py and dsl/config.py emit these codes; their docs live here.
"""
from __future__ import annotations

from ..codes import documented
from ..diagnostics import Severity


@documented("FNL006", "invalid-suppression", Severity.WARNING)
def invalid_suppression():
    """A `# funnel: ignore[…]` comment has no reason, no codes, or is not written as one.

    A suppression says why a finding is right to ignore, for the next person
    who reads the funnel: `# funnel: ignore[FNL405] kept for reports by region`.
    A suppression without a reason still applies, and this warning asks for the reason.

    Bad:

    ```funnel
    funnel sales {
      fields {
        budget: money
        region: text                       # funnel: ignore[FNL405]
      }
      value budget
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > 0
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields {
        budget: money
        region: text                       # funnel: ignore[FNL405] kept to group reports by region
      }
      value budget
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > 0
      any -> lost
    }
    ```
    """


@documented("FNL007", "unknown-code", Severity.ERROR)
def unknown_code():
    """A suppression or `[tool.funnel]` names a code that does not exist.

    Codes are written `FNL405` or by name, `unused-field`; in settings a
    prefix such as `FNL4` names a whole family. `funnel explain --list` lists them.
    A misspelled code suppresses nothing, so the finding it meant stays.

    Bad:

    ```funnel
    funnel sales {
      fields {
        budget: money
        region: text                       # funnel: ignore[FNL450] kept to group reports by region
      }
      value budget
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > 0
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields {
        budget: money
        region: text                       # funnel: ignore[FNL405] kept to group reports by region
      }
      value budget
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > 0
      any -> lost
    }
    ```
    """


@documented("FNL008", "unused-suppression", Severity.WARNING)
def unused_suppression():
    """A `# funnel: ignore[…]` comment suppresses nothing: the finding it names is not there.

    The funnel was fixed and the comment stayed; it would silently hide the
    next real finding on that line. Only codes that ran are judged, so
    `--select` does not make other suppressions look unused.

    Bad:

    ```funnel
    funnel sales {
      fields {
        budget: money
      }
      value budget
      stage new { start }                  # funnel: ignore[FNL201] the start is set elsewhere
      stage won { won }
      stage lost { lost }
      new -> won when budget > 0
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields {
        budget: money
      }
      value budget
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > 0
      any -> lost
    }
    ```
    """


@documented("FNL009", "invalid-config", Severity.ERROR)
def invalid_config():
    """The `[tool.funnel]` table of pyproject.toml has an unknown key or a value of the wrong kind.

    The keys are `select` and `ignore` (lists of codes, names or prefixes),
    `fail-on` (`"error"` or `"warning"`) and a `severity` table that changes a
    code's severity (`"error"`, `"warning"` or `"info"`). The table is found
    in the nearest pyproject.toml above the linted file that has one.

    Bad:

    ```toml
    [tool.funnel]
    fail_on = "warnings"
    ```

    Fix:

    ```toml
    [tool.funnel]
    fail-on = "warning"
    ```
    """
