"""Expressions and rules (FNL3xx): types, event data, and rules that conflict or never fire."""
from __future__ import annotations

from ..codes import documented
from ..diagnostics import Severity


@documented("FNL301", "type-mismatch", Severity.ERROR)
def type_mismatch():
    """An expression mixes types that do not go together, or a condition is not true/false.

    Criteria are checked against the declared fields before any deal is
    replayed, so that a typo in a comparison cannot silently never match.

    Bad:

    ```funnel
    funnel sales {
      fields { budget: money }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > "big"
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields { budget: money }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > 100_000
      any -> lost
    }
    ```
    """


@documented("FNL302", "wrong-arguments", Severity.ERROR)
def wrong_arguments():
    """A function is called with the wrong number or types of arguments.

    The error points at the argument that does not fit; the hint shows the signature.

    Bad:

    ```funnel
    funnel sales {
      fields { name: text }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when length(42) > 3
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields { name: text }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when length(name) > 3
      any -> lost
    }
    ```
    """


@documented("FNL303", "event-data-outside-event", Severity.ERROR)
def event_data_outside_event():
    """`event.X` is used where no event started the rule.

    Event data exists only in a rule started by `on event NAME`.

    Bad:

    ```funnel
    funnel sales {
      fields { paid: money = 0 }
      events { payment { amount: money } }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when event.amount > 0
      any -> lost
      on event payment: set paid = paid + event.amount
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields { paid: money = 0 }
      events { payment { amount: money } }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when paid > 0
      any -> lost
      on event payment: set paid = paid + event.amount
    }
    ```
    """
