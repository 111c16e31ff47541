"""The stage graph (FNL2xx): start and terminals, reachability, dead ends, moves out of terminals, loops."""
from __future__ import annotations

from ..codes import check, diagnostic, documented
from ..diagnostics import Related, Severity
from ..graph import moves_out_of_terminals, stages_unreachable_from_start, stages_without_path_to_terminal
from ..model import Funnel, Spec, StageKind
from .loops import loop_from_its_first_line, loop_path, loop_verdicts
from .spans import funnel_name_span


@check("FNL201", "no-start-stage", Severity.ERROR)
def no_start_stage(funnel: Funnel, spec: Spec):
    """No stage is marked `start`.

    A new deal is put in the start stage; without one, nothing says where
    deals begin, and nothing can be replayed or measured.

    Bad:

    ```funnel
    funnel sales {
      stage new {}
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
    ```
    """
    if any(s.start for s in funnel.stages):
        return
    first = funnel.open_stages[0] if funnel.open_stages else None
    if first is None:
        yield diagnostic("FNL201", f"funnel `{funnel.id}` has no start stage", funnel_name_span(funnel, spec),
                         hint='add the stage deals begin in: `stage new "Новый лид" { start }`')
        return
    yield diagnostic("FNL201", f"funnel `{funnel.id}` has no start stage", first.id_span,
                     hint=f"mark the stage deals begin in with `start`, e.g. `stage {first.id} {{ start }}`")


@check("FNL202", "multiple-start-stages", Severity.ERROR)
def multiple_start_stages(funnel: Funnel, spec: Spec):
    """More than one stage is marked `start`.

    A new deal goes to the one start stage; with two, where it begins is a
    guess. Deals imported mid-funnel name their stage on `created` instead.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage inbound { start }
      stage won { won }
      stage lost { lost }
      new -> won
      inbound -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      stage new { start }
      stage inbound {}
      stage won { won }
      stage lost { lost }
      new -> inbound
      inbound -> won
      any -> lost
    }
    ```
    """
    starts = [s for s in funnel.stages if s.start]
    for extra in starts[1:]:
        yield diagnostic("FNL202", f"stage `{extra.id}` is a second start stage", extra.id_span,
                         related=[Related(starts[0].id_span, f"`{starts[0].id}` is the first start stage")],
                         hint=f"keep `start` on one stage; deals reach `{extra.id}` by a transition")


def _missing_terminal(funnel: Funnel, spec: Spec, code: str, kind: StageKind, example: str):
    if any(s.kind is kind for s in funnel.stages):
        return
    word = kind.value
    yield diagnostic(code, f"funnel `{funnel.id}` has no {word} stage", funnel_name_span(funnel, spec),
                     hint=f"add one: `{example}`, and a transition into it")


@check("FNL203", "no-won-stage", Severity.ERROR)
def no_won_stage(funnel: Funnel, spec: Spec):
    """No stage is marked `won`.

    Win rate, cycle time and the forecast all count deals that end won;
    a funnel without a won terminal cannot be measured.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage lost { lost }
      new -> lost
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
    yield from _missing_terminal(funnel, spec, "FNL203", StageKind.WON, 'stage won "Успех" { won }')


@check("FNL204", "no-lost-stage", Severity.ERROR)
def no_lost_stage(funnel: Funnel, spec: Spec):
    """No stage is marked `lost`.

    Deals are lost in every real funnel; without a lost terminal they stay
    open forever and every conversion figure is inflated.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage won { won }
      new -> won
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
    yield from _missing_terminal(funnel, spec, "FNL204", StageKind.LOST, 'stage lost "Отклонено" { lost }')


@check("FNL205", "unreachable-stage", Severity.ERROR)
def unreachable_stage(funnel: Funnel, spec: Spec):
    """No move leads to a stage from the start stage.

    Moves are transitions (by hand or automatic), `any -> …` and rules'
    `move to`. A stage none of them reaches can never hold a deal: a
    transition is missing, or the stage is left over.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage meeting {}
      stage won { won }
      stage lost { lost }
      new -> won
      meeting -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      stage new { start }
      stage meeting {}
      stage won { won }
      stage lost { lost }
      new -> meeting
      meeting -> won
      any -> lost
    }
    ```
    """
    start = next((s for s in funnel.stages if s.start), None)
    for stage in stages_unreachable_from_start(funnel):
        yield diagnostic("FNL205", f"stage `{stage.id}` cannot be reached from the start stage `{start.id}`",
                         stage.id_span,
                         hint=f"add a transition into it, e.g. `{start.id} -> {stage.id}`, or remove the stage")


@check("FNL206", "no-path-to-terminal", Severity.ERROR)
def no_path_to_terminal(funnel: Funnel, spec: Spec):
    """An open stage has no path to a won or lost stage.

    A deal that enters it can never be closed: it stays open forever and
    sits in the pipeline value. Usually `any -> lost` or a transition on is missing.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage waiting {}
      stage won { won }
      stage lost { lost }
      new -> waiting
      new -> won
      new -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      stage new { start }
      stage waiting {}
      stage won { won }
      stage lost { lost }
      new -> waiting
      waiting -> won
      any -> lost
    }
    ```
    """
    unreachable = {s.id for s in stages_unreachable_from_start(funnel)}
    lost = next((s.id for s in funnel.stages if s.kind is StageKind.LOST), "lost")
    for stage in stages_without_path_to_terminal(funnel):
        if stage.id in unreachable:
            continue      # FNL205 says it already: that stage holds no deals
        yield diagnostic("FNL206", f"no path from stage `{stage.id}` to a won or lost stage", stage.id_span,
                         hint=f"deals that enter it stay open forever; add a way out, e.g. "
                              f"`{stage.id} -> {lost}` or `any -> {lost}`")


@check("FNL207", "move-out-of-terminal", Severity.ERROR)
def move_out_of_terminal(funnel: Funnel, spec: Spec):
    """A transition or a rule moves a deal out of a won or lost stage that does not declare `reopen`.

    Won and lost are final: metrics count a deal once it ends. Reopening a
    lost deal is sometimes right (a client comes back); say so with `reopen`.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won
      any -> lost
      lost -> new
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      stage new { start }
      stage won { won }
      stage lost { lost  reopen }
      new -> won
      any -> lost
      lost -> new
    }
    ```
    """
    for stage, transition, rule, action in moves_out_of_terminals(funnel):
        what = f"transition `{transition.describe()}`" if transition else f"a rule's `move to {action.target}`"
        span = transition.span if transition else action.span
        yield diagnostic("FNL207", f"{what} moves a deal out of the {stage.kind.value} stage `{stage.id}`", span,
                         related=[Related(stage.id_span, f"`{stage.id}` is a {stage.kind.value} stage")],
                         hint=f"a {stage.kind.value} deal stays there; declare `reopen` in stage `{stage.id}` "
                              f"if it may come back")


@check("FNL208", "automatic-move-loop", Severity.ERROR)
def automatic_move_loop(funnel: Funnel, spec: Spec):
    """Automatic moves can loop forever: stage to stage and back, with nothing to stop them.

    Automatic transitions (`a -> b when …`) and `on enter` rules that
    `move to` another stage run by themselves. When they form a loop whose
    conditions can hold together, a deal would move around it endlessly (the
    replay stops such a chain and reports it, deal by deal).

    Bad:

    ```funnel
    funnel sales {
      fields {
        budget: money
      }
      stage new { start }
      stage check {}
      stage won { won }
      stage lost { lost }
      new -> check when budget > 1000
      check -> new when budget > 500
      check -> won
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
      stage check {}
      stage won { won }
      stage lost { lost }
      new -> check when budget > 1000
      check -> new when budget < 500
      check -> won
      any -> lost
    }
    ```
    """
    for loop, verdict, example in loop_verdicts(funnel):
        if verdict != "loops":
            continue
        loop = loop_from_its_first_line(loop)
        when = f"; it loops when {example}" if example else ""
        yield diagnostic("FNL208", f"automatic moves can loop forever: {loop_path(loop)}", loop[0].span,
                         related=[Related(m.span, f"then {m.describe()}") for m in loop[1:]],
                         hint=f"make one condition exclude the others, or let a person make one of the moves{when}")


@documented("FNL210", "won-and-lost", Severity.ERROR)
def won_and_lost():
    """A stage is marked both `won` and `lost`.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage done { won  lost }
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


@documented("FNL211", "side-stage-on-path-end", Severity.ERROR)
def side_stage_on_path_end():
    """The start stage, or a won or lost stage, is marked `side`.

    `side` takes an open stage off the funnel's main path (a rework or waiting
    stage a deal visits and leaves): its figures are shown apart and it does
    not count in conversion along the path. The start and the terminal stages
    are the ends of that path, so they cannot be off it.

    Bad:

    ```funnel
    funnel sales {
      stage new { start }
      stage won { won  side }
      stage lost { lost }
      new -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      stage new { start }
      stage rework "Доработка КП" { side }
      stage won { won }
      stage lost { lost }
      new -> rework
      rework -> new
      new -> won
      any -> lost
    }
    ```
    """
