"""Lost reasons (FNL410): an automatic loss that gives no reason where the funnel has one.

The reason a deal was lost (`because "…"`) is what loss reports group by.
"The funnel has one reason" for a lost stage means: among the automatic
moves into that stage (a transition with a `when`, or a rule's `move to`),
those that give a reason all give the same text. Then a move there without
one most likely lost it by oversight, and the fix is that text. With two or
more texts there is no clear reason to suggest, and with none there is
nothing to go by: the check says nothing. A transition without `when`
(`any -> lost`) is a person's move, whose reason the person gives: left alone.
"""
from __future__ import annotations

from ..codes import check, diagnostic
from ..diagnostics import Related, Severity
from ..model import Funnel, Spec, StageKind
from ..source import Span


def quoted(text: str) -> str:
    """`text` as a string literal of the language."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def automatic_losses(funnel: Funnel) -> list[tuple[str, str | None, Span, str]]:
    """(stage, because, span of the move, what it is) for each automatic move into a lost stage."""
    lost = {s.id for s in funnel.stages if s.kind is StageKind.LOST}
    moves = [(t.target, t.because, t.span, f"transition `{t.describe()}`")
             for t in funnel.transitions if t.automatic and t.target in lost]
    moves += [(a.target, a.because, a.span, f"`move to {a.target}` of rule `{r.label}`")
              for r in funnel.rules for a in r.actions if a.kind == "move" and a.target in lost]
    return sorted(moves, key=lambda m: (m[2].file, m[2].start))


@check("FNL410", "loss-without-reason", Severity.INFO)
def loss_without_reason(funnel: Funnel, spec: Spec):
    """An automatic loss gives no reason where every other loss into that stage gives the same one.

    Loss reports group lost deals by their reason (`because`); a deal lost
    without one counts as "no reason" there. When the automatic moves into
    a lost stage (transitions with `when`, rules' `move to`) that give a
    reason all give the same text, one that gives none was most likely
    written in a hurry: the quick fix adds that text (an unsafe fix, since
    it changes what reports show). With two texts or more there is no one
    reason to suggest, and moves by hand (`any -> lost`) are left alone.

    Bad:

    ```funnel
    funnel sales {
      fields {
        paid: money = 0
      }
      stage new { start  sla 1d }
      stage proposal { sla 7d }
      stage won { won }
      stage lost { lost }
      new -> proposal when paid > 0
      proposal -> won when paid > 100
      any -> lost
      after 14d in proposal: move to lost because "no answer"
      after 30d in new: move to lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields {
        paid: money = 0
      }
      stage new { start  sla 1d }
      stage proposal { sla 7d }
      stage won { won }
      stage lost { lost }
      new -> proposal when paid > 0
      proposal -> won when paid > 100
      any -> lost
      after 14d in proposal: move to lost because "no answer"
      after 30d in new: move to lost because "no answer"
    }
    ```
    """
    moves = automatic_losses(funnel)
    for stage in sorted({m[0] for m in moves}):
        given = [m for m in moves if m[0] == stage and m[1] is not None]
        if len({m[1] for m in given}) != 1:
            continue
        reason, first = given[0][1], given[0]
        for target, because, span, what in moves:
            if target == stage and because is None:
                yield diagnostic("FNL410", f"{what} loses the deal without a reason",
                                 span, related=[Related(first[2], f"{first[3]} gives `{reason}`")],
                                 hint=f"add the reason the other losses into `{stage}` give: "
                                      f"`because {quoted(reason)}`")

