"""Advice (FNL4xx): findings from how good funnels are built.

Advice that is a matter of taste and fires on most funnels (FNL402 stage
count, FNL404 no sla) is at the info level: `funnel lint` shows it on request
(`--show-advice`, or `show-advice = true` in [tool.funnel]), and a
`severity` setting makes it a warning again where a team wants that.
"""
from __future__ import annotations

from ..codes import check, diagnostic
from ..diagnostics import Related, Severity
from ..graph import stages_left_only_by_hand
from ..loader import STD_PREFIX
from ..model import Funnel, Spec
from ..stage_names import first_near_names
from .spans import funnel_name_span, stage_title_span

# Guides disagree on how many stages a funnel should have: 3-5 open stages (InsightSquared, "How to choose
# your pipeline stages"), 4-6 (baseportal, "Sales pipeline"), 5-7 (Gangly, "CRM pipeline stages"; Salesforce's
# pipeline stages guide as Stamina cites it), 6-8 (Pine X Systems, "How to build a sales pipeline"), at
# least 7 (another CRM guide, cited in issue 23). The check speaks only outside all of them.
GOOD_STAGE_COUNT = range(4, 10)


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
      stage approval "Согласование" {}
      stage signing "Согласования" {}
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
      stage approval "Согласование" {}
      stage signing "Подписание договора" {}
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


@check("FNL402", "stage-count", Severity.INFO)
def stage_count(funnel: Funnel, spec: Spec):
    """The funnel has fewer than 4 or more than 9 stages from the new lead to the won and lost ends.

    A handful of named stages is what a team can keep in mind and what gives
    conversion figures meaning: fewer hide where deals stall, more split the
    work into steps that are not real decisions (each needs its criterion and
    sla). Stages grouped in a `block` count as one step, as the overview shows
    them. Advice, at the info level: shown with `funnel lint --show-advice`.

    Where the thresholds come from: guides disagree, so the check speaks only
    outside all of them, won and lost included. InsightSquared ("How to
    choose your pipeline stages") asks for 3-5 open stages; baseportal
    ("Sales pipeline: how to configure stages") 4-6; Gangly ("CRM pipeline
    stages", citing Salesforce's guide) 5-7 and warns above 9; Pine X Systems
    ("How to build a sales pipeline") 6-8; another CRM guide at least 7.

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
      stage qualification "Квалификация" {}
      stage proposal "Коммерческое предложение" {}
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
    yield diagnostic("FNL402", f"funnel `{funnel.id}` has {count} {what}; guides ask for 4–9, "
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
      fields {
        proposal_sent: bool = false
      }
      stage new { start }
      stage proposal {}
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
      fields {
        proposal_sent: bool = false
        paid:          bool = false
      }
      stage new { start }
      stage proposal {}
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


@check("FNL404", "no-sla", Severity.INFO)
def no_sla(funnel: Funnel, spec: Spec):
    """An open stage has no `sla`: nothing says how long a deal may stay in it.

    The sla is what makes a deal "stuck" in reports and what a manager is
    reminded of. Without it, deals can wait in the stage unnoticed. Advice,
    at the info level (many stages have no natural deadline): shown with
    `funnel lint --show-advice`, or made a warning with
    `severity = { FNL404 = "warning" }` in [tool.funnel].

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
      fields {
        budget: money
        region: text
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
    used = set(funnel.field_uses) | ({funnel.value_field} if funnel.value_field else set())
    for declared in funnel.fields:
        if declared.name not in used:
            yield diagnostic("FNL405", f"field `{declared.name}` is declared but never used", declared.span,
                             hint="remove it, or suppress with the reason it is kept "
                                  f"(e.g. reports by it: `funnel simulate --by {declared.name}`)")


@check("FNL409", "unused-event", Severity.WARNING)
def unused_event(funnel: Funnel, spec: Spec):
    """An event type is declared but no rule handles it (`on event NAME`) and no action emits it.

    Events from the CRM arrive whatever the spec says; one declared and never
    handled is usually a rule that was meant and not written, or a typo in
    the rule's trigger. A template's events are left to the template.

    Bad:

    ```funnel
    funnel sales {
      fields {
        paid: money = 0
      }
      events {
        payment { amount: money }
        refund { amount: money }
      }
      stage new { start  sla 1d }
      stage won { won }
      stage lost { lost }
      new -> won when paid > 0
      any -> lost
      on event payment: set paid = paid + event.amount
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields {
        paid: money = 0
      }
      events {
        payment { amount: money }
        refund { amount: money }
      }
      stage new { start  sla 1d }
      stage won { won }
      stage lost { lost }
      new -> won when paid > 0
      any -> lost
      on event payment: set paid = paid + event.amount
      on event refund: set paid = paid - event.amount
    }
    ```
    """
    used = {r.subject for r in funnel.rules if r.kind == "event"}
    used |= {a.event for r in funnel.rules for a in r.actions if a.kind == "emit"}
    for declared in funnel.events:
        if declared.name not in used and not declared.span.file.startswith(STD_PREFIX):
            yield diagnostic("FNL409", f"event `{declared.name}` is declared but no rule handles it",
                             declared.span,
                             hint=f"handle it (`on event {declared.name}: …`), or remove it from `events`")
