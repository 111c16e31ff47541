"""Advice (FNL4xx): warnings from how good funnels are built."""
from __future__ import annotations

from ..codes import check, diagnostic
from ..diagnostics import Related, Severity
from ..graph import stages_left_only_by_hand
from ..model import Funnel, Spec
from ..stage_names import first_near_names
from .spans import funnel_name_span, stage_title_span

GOOD_STAGE_COUNT = range(5, 8)


@check("FNL401", "similar-stage-names", Severity.WARNING)
def similar_stage_names(funnel: Funnel, spec: Spec):
    """Two stage names are nearly the same: one letter apart, or the same words in another form.

    "Согласование" and "Согласования" are one stage spelled twice, or two
    stages whose names nobody can tell apart in a report. Names that differ
    in a number ("Звонок 1", "Звонок 2") are taken as meant.

    Bad:

    ```funnel
    funnel sales {
      stage new "Новый лид" { start }
      stage approval "Согласование" { }
      stage signing "Согласования" { }
      stage won { won }
      stage lost { lost }
      new -> approval
      approval -> signing
      signing -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      stage new "Новый лид" { start }
      stage approval "Согласование" { }
      stage signing "Подписание договора" { }
      stage won { won }
      stage lost { lost }
      new -> approval
      approval -> signing
      signing -> won
      any -> lost
    }
    ```
    """
    stages = funnel.stages
    for i, j, why in first_near_names([stage.title for stage in stages]):     # the same name: FNL105
        stage, first = stages[i], stages[j]
        yield diagnostic("FNL401", f"stage names `{first.title}` and `{stage.title}` are nearly the same ({why})",
                         stage_title_span(stage, spec),
                         related=[Related(stage_title_span(first, spec), f"`{first.id}` is named `{first.title}`")],
                         hint="rename one so that both read differently in reports, or merge the two stages")


@check("FNL402", "stage-count", Severity.WARNING)
def stage_count(funnel: Funnel, spec: Spec):
    """The funnel has fewer than 5 or more than 7 stages from the new lead to the won and lost ends.

    Five to seven named stages, the won and lost ones included, is what a
    team can keep in mind and what gives conversion figures meaning: fewer
    hide where deals stall, more split the work into steps that are not real
    decisions (each needs its criterion and sla). Stages grouped in a `block`
    count as one step, as the overview shows them.

    Bad:

    ```funnel
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
      stage new "Новый лид" { start }
      stage qualification "Квалификация" { }
      stage proposal "Коммерческое предложение" { }
      stage won "Успех" { won }
      stage lost "Отклонено" { lost }
      new -> qualification
      qualification -> proposal
      proposal -> won
      any -> lost
    }
    ```
    """
    steps = list(dict.fromkeys(("block", s.block) if s.block else ("stage", s.id) for s in funnel.stages))
    count = len(steps)
    if count in GOOD_STAGE_COUNT:
        return
    blocks = any(kind == "block" for kind, _ in steps)
    what = "steps (blocks and stages)" if blocks else "stages"
    advice = "merge stages that are not real decisions, or group them in blocks" \
        if count > GOOD_STAGE_COUNT[-1] else "name the steps where deals wait or drop out"
    yield diagnostic("FNL402", f"funnel `{funnel.id}` has {count} {what}; a clear funnel has 5–7, "
                               f"won and lost included", funnel_name_span(funnel, spec),
                     hint=advice)


@check("FNL403", "no-exit-criterion", Severity.WARNING)
def no_exit_criterion(funnel: Funnel, spec: Spec):
    """An open stage has no criterion to move a deal on: deals leave it only by hand ("by eye").

    Every move forward should have a measurable criterion ("the client got
    the proposal"), written as an automatic transition `a -> b when …` or a
    rule that `move`s the deal. A timer that only loses the deal does not count.
    When a stage is moved on by a person on purpose, suppress this with the reason.

    Bad:

    ```funnel
    funnel sales {
      fields { proposal_sent: bool = false }
      stage new { start }
      stage proposal { }
      stage won { won }
      stage lost { lost }
      new -> proposal when proposal_sent
      proposal -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields { proposal_sent: bool = false  paid: bool = false }
      stage new { start }
      stage proposal { }
      stage won { won }
      stage lost { lost }
      new -> proposal when proposal_sent
      proposal -> won when paid
      any -> lost
    }
    ```
    """
    for stage in stages_left_only_by_hand(funnel):
        yield diagnostic("FNL403", f"stage `{stage.id}` has no criterion to move a deal on: deals move on only by hand",
                         stage.id_span,
                         hint=f"write the criterion as `{stage.id} -> NEXT when …`, or suppress with the reason "
                              f"the move is a person's call")


@check("FNL404", "no-sla", Severity.WARNING)
def no_sla(funnel: Funnel, spec: Spec):
    """An open stage has no `sla`: nothing says how long a deal may stay in it.

    The sla is what makes a deal "stuck" in reports and what a manager is
    reminded of. Without it, deals can wait in the stage unnoticed.

    Bad:

    ```funnel
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
      stage new { start  sla 2d }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```
    """
    for stage in funnel.open_stages:
        if stage.sla is None:
            yield diagnostic("FNL404", f"stage `{stage.id}` has no sla", stage.id_span,
                             hint=f"say how long a deal may stay, e.g. `stage {stage.id} {{ sla 7d }}`; "
                                  f"longer stays are reported as stuck")


@check("FNL405", "unused-field", Severity.WARNING)
def unused_field(funnel: Funnel, spec: Spec):
    """A field is declared but no criterion, rule, action or `value` uses it.

    Usually a leftover or a typo elsewhere. A field kept only to group
    reports by (`funnel simulate --by source`) is fine: suppress this with that reason.

    Bad:

    ```funnel
    funnel sales {
      fields { budget: money  region: text }
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
      fields { budget: money }
      value budget
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > 0
      any -> lost
    }
    ```
    """
    used = set(funnel.field_uses) | ({funnel.value_field} if funnel.value_field else set())
    for declared in funnel.fields:
        if declared.name not in used:
            yield diagnostic("FNL405", f"field `{declared.name}` is declared but never used", declared.span,
                             hint="remove it, or suppress with the reason it is kept "
                                  f"(e.g. reports by it: `funnel simulate --by {declared.name}`)")
