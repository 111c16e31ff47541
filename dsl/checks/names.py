"""Names (FNL1xx): stages, fields, events, functions and templates that are unknown or declared twice."""
from __future__ import annotations

from ..codes import check, diagnostic, documented
from ..diagnostics import Related, Severity
from ..model import Funnel, Spec
from ..stage_names import folded
from .spans import stage_title_span


@documented("FNL101", "duplicate-stage", Severity.ERROR)
def duplicate_stage():
    """Two stages have the same id.

    Transitions and rules name stages by id, so two stages with one id make
    every reference ambiguous. In a funnel that extends a template, declaring
    a stage with the template's id replaces it; within one funnel it is an error.

    Bad:

    ```funnel
    funnel sales {
      stage new "Новый лид" { start }
      stage new "Квалификация" {}
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      stage new "Новый лид" { start }
      stage qualification "Квалификация" {}
      stage won { won }
      stage lost { lost }
      new -> qualification
      qualification -> won
      any -> lost
    }
    ```
    """


@documented("FNL102", "unknown-stage", Severity.ERROR)
def unknown_stage():
    """A transition, rule or `move to` names a stage that is not declared.

    Usually a typo; the hint names the closest stage id.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> wom
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```
    """


@documented("FNL103", "unknown-field", Severity.ERROR)
def unknown_field():
    """An expression, `set`, `on change`, `at` or `value` names a field that is not declared.

    Declare every deal field in `fields { … }` with its type, so that the
    criteria can be checked before anything runs.

    Bad:

    ```funnel
    funnel sales {
      fields {
        budget: money
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budjet > 0
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields {
        budget: money
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > 0
      any -> lost
    }
    ```
    """


@documented("FNL104", "duplicate-field", Severity.ERROR)
def duplicate_field():
    """A field is declared twice in one funnel.

    Bad:

    ```funnel
    funnel sales {
      fields {
        budget: money
        budget: number
      }
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
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > 0
      any -> lost
    }
    ```
    """


@documented("FNL106", "unknown-event", Severity.ERROR)
def unknown_event():
    """`on event` or `emit` names an event that is not declared in `events { … }`.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
      on event payment: move to won
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      events {
        payment { amount: money }
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
      on event payment: move to won
    }
    ```
    """


@documented("FNL107", "duplicate-funnel", Severity.ERROR)
def duplicate_funnel():
    """Two funnels in one file have the same id.

    Deals are routed to funnels by id, and templates are extended by id.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }

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
    funnel sales {
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }

    funnel partners {
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```
    """


@documented("FNL108", "unknown-type", Severity.ERROR)
def unknown_type():
    """A field is declared with a type the language does not have.

    The types are money, number, int, text, bool, datetime, date, duration,
    percent, and enums written as strings joined by `|`; `?` makes any optional.

    Bad:

    ```funnel
    funnel sales {
      fields {
        budget: mony
      }
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
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > 0
      any -> lost
    }
    ```
    """


@documented("FNL109", "unknown-function", Severity.ERROR)
def unknown_function():
    """An expression calls a function that is not in the standard library.

    Bad:

    ```funnel
    funnel sales {
      fields {
        name: text
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when lowercase(name) == "acme"
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields {
        name: text
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when lower(name) == "acme"
      any -> lost
    }
    ```
    """


@documented("FNL110", "duplicate-event", Severity.ERROR)
def duplicate_event():
    """An event is declared twice in one funnel.

    Bad:

    ```funnel
    funnel sales {
      events {
        payment { amount: money }
        payment { sum: money }
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
      on event payment: move to won
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      events {
        payment { amount: money }
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
      on event payment: move to won
    }
    ```
    """


@documented("FNL111", "duplicate-rule", Severity.ERROR)
def duplicate_rule():
    """Two rules have the same name.

    Rule names let a funnel that extends a template replace or drop a rule,
    so each must be unique.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
      rule stale after 30d in new: move to lost
      rule stale after 60d in new: move to lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
      rule stale after 30d in new: move to lost
    }
    ```
    """


@documented("FNL112", "nothing-to-drop", Severity.ERROR)
def nothing_to_drop():
    """`drop rule` or `drop transition` names something the template does not have.

    Bad:

    ```funnel
    funnel sales extends std.b2b_classic {
      drop rule no_such_rule
    }
    ```

    Fix:

    ```funnel
    funnel sales extends std.b2b_classic {}
    ```
    """


@documented("FNL113", "unknown-time-zone", Severity.ERROR)
def unknown_time_zone():
    """The funnel's `timezone` is not a zone of the IANA database.

    Reports cut days, weeks and months at local midnight of this zone and show
    times in it, so a misspelt zone would silently mean UTC. The hint names the
    nearest known zone.

    Bad:

    ```funnel
    funnel sales {
      timezone Europe/Mosow
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      timezone Europe/Moscow
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```
    """


@documented("FNL114", "unknown-language", Severity.ERROR)
def unknown_language():
    """The funnel's `language` is not one the reports are written in.

    `language` sets the words of the text and HTML reports (`funnel report`,
    `funnel simulate --report`) when `--lang` does not: `en` (the default) or
    `ru`. Any other name would silently fall back to English, so it is an
    error; the hint names the nearest known language.

    Bad:

    ```funnel
    funnel sales {
      language russian
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      language ru
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```
    """


@check("FNL105", "duplicate-stage-name", Severity.ERROR)
def duplicate_stage_name(funnel: Funnel, spec: Spec):
    """Two stages have display names that differ only in case, spacing, punctuation or ё/е.

    Reports, charts and the CRM show stages by their names; two that read
    the same split one stage's deals and figures in two. A stage without a
    name is shown by its id, so ids that differ only in case count too.

    Bad:

    ```funnel
    funnel sales {
      stage new "Новый лид" { start }
      stage call "Встреча/Звонок" {}
      stage meeting "встреча звонок" {}
      stage won { won }
      stage lost { lost }
      new -> call
      call -> meeting
      meeting -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      stage new "Новый лид" { start }
      stage call "Звонок" {}
      stage meeting "Встреча" {}
      stage won { won }
      stage lost { lost }
      new -> call
      call -> meeting
      meeting -> won
      any -> lost
    }
    ```
    """
    seen: dict[str, object] = {}
    for stage in funnel.stages:
        key = folded(stage.title)
        if key in seen:
            first = seen[key]
            yield diagnostic("FNL105", f"stage `{stage.id}` is named `{stage.title}`, the same as `{first.id}` "
                                       f"up to case, spacing and punctuation", stage_title_span(stage, spec),
                             related=[Related(stage_title_span(first, spec), f"`{first.id}` is named `{first.title}`")],
                             hint="give each stage a name of its own, or merge the two stages")
        else:
            seen[key] = stage
