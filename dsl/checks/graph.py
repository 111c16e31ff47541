"""The stage graph (FNL2xx): start and terminals, reachability, dead ends, loops."""
from __future__ import annotations

from ..codes import documented
from ..diagnostics import Severity


@documented("FNL210", "won-and-lost", Severity.ERROR)
def won_and_lost():
    """A stage is marked both `won` and `lost`.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage done { won lost }
      new -> done
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
