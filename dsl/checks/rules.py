"""Expressions and rules (FNL3xx): types, event data, and rules that conflict or never fire."""
from __future__ import annotations

from ..codes import check, diagnostic, documented
from ..diagnostics import Related, Severity
from ..model import Funnel, Spec
from ..render.expr import expr_text, short
from ..satisfy import Answer, Decisions, condition, funnel_decisions
from ..terms import example_text, funnel_terms
from .loops import UNDECIDED, loop_from_its_first_line, loop_path, loop_verdicts
from .overlaps import grouped_overlaps


@documented("FNL301", "type-mismatch", Severity.ERROR)
def type_mismatch():
    """An expression mixes types that do not go together, or a condition is not true/false.

    Criteria are checked against the declared fields before any deal is
    replayed, so that a typo in a comparison cannot silently never match.

    Bad:

    ```funnel
    funnel sales {
      fields {
        budget: money
      }
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
      fields {
        budget: money
      }
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
      fields {
        name: text
      }
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
      fields {
        name: text
      }
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
      fields {
        paid: money = 0
      }
      events {
        payment { amount: money }
      }
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
      fields {
        paid: money = 0
      }
      events {
        payment { amount: money }
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when paid > 0
      any -> lost
      on event payment: set paid = paid + event.amount
    }
    ```
    """


@documented("FNL307", "expression-too-deep", Severity.ERROR)
def expression_too_deep():
    """An expression nests more than 64 levels deep.

    Each operator in a chain (`a and b and c`, `x + y + z`), each `not` or
    sign and each call inside another adds a level. Every command refuses a
    deeper expression where it passes the limit, so that what lint accepts
    the replay can compile and run (docs/limits.md). Split a long condition
    into fields set by rules, or use `in [...]` for a long list of `or ==`.

    Bad:

    ```funnel
    funnel sales {
      fields { paid: money = 0 }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when not not not not not not not not not not not not not not not not not
        not not not not not not not not not not not not not not not not not
        not not not not not not not not not not not not not not not not not
        not not not not not not not not not not not not not not (paid > 0)
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields {
        paid: money = 0
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when not paid > 0
      any -> lost
    }
    ```
    """


@check("FNL304", "conflicting-transitions", Severity.WARNING)
def conflicting_transitions(funnel: Funnel, spec: Spec):
    """Two automatic transitions leave one stage and their criteria can both hold.

    Automatic transitions are tried in order and the first whose criterion
    holds wins, so for the deals where both hold the second never fires,
    silently. Make the criteria exclude each other, so that the order does not matter.

    Bad:

    ```funnel
    funnel sales {
      fields {
        budget: money
      }
      stage new { start }
      stage big {}
      stage won { won }
      stage lost { lost }
      new -> big when budget > 100_000
      new -> won when budget > 50_000
      big -> won
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
      stage big {}
      stage won { won }
      stage lost { lost }
      new -> big when budget > 100_000
      new -> won when budget > 50_000 and budget <= 100_000
      big -> won
      any -> lost
    }
    ```
    """
    terms = funnel_terms(funnel)
    for shared, group in grouped_overlaps(funnel, Answer.YES):
        example = example_text(group[0].verdict, terms)
        if shared is None or len(group) == 1:
            first, second = group[0].first, group[0].second
            leaving = f" leaving `{group[0].stage}`" if shared is not None else ""
            when = f"both hold when {example}; " if example else ""
            yield diagnostic("FNL304", f"automatic transitions `{first.describe()}` and `{second.describe()}`"
                                       f"{leaving} can both fire", second.span,
                             related=[Related(first.span, f"`{first.describe()}` is tried first and wins")],
                             hint=f"{when}make the criteria exclude each other")
            continue
        others = [o.first if o.second is shared else o.second for o in group]
        when = f"on `{group[0].stage}` both hold when {example}; " if example else ""
        yield diagnostic("FNL304", f"automatic transition `{shared.describe()}` can fire together with "
                                   f"{len(others)} other automatic transitions, on the stages they leave",
                         shared.span,
                         related=[_order(other, shared) for other in others],
                         hint=f"{when}make the criteria exclude each other")


def _order(other, shared) -> Related:
    if other.index < shared.index:
        return Related(other.span, f"`{other.describe()}` is tried first and wins")
    return Related(other.span, f"`{other.describe()}` is tried after it")


@check("FNL305", "never-fires", Severity.WARNING)
def never_fires(funnel: Funnel, spec: Spec):
    """A criterion or condition can never hold, so its transition or rule never fires.

    It folds to false (`when 1 > 2`), contradicts itself on one field
    (`budget > 10 and budget < 5`), or contradicts the `require` of the
    stage it moves to. Usually a `<` that should be `>`, or `and` for `or`.

    Bad:

    ```funnel
    funnel sales {
      fields {
        budget: money
      }
      stage new { start }
      stage won { won }
      stage lost { lost }
      new -> won when budget > 10 and budget < 5
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
      new -> won when budget > 10 or budget < 5
      any -> lost
    }
    ```
    """
    decide = funnel_decisions(funnel)
    for t in funnel.transitions:
        if t.automatic:
            yield from _transition_never_fires(funnel, t, decide)
    for stage in funnel.stages:
        if stage.requires and decide([condition(r) for r in stage.requires]).answer is Answer.NO:
            yield diagnostic("FNL305", f"the `require` of stage `{stage.id}` can never hold: no deal can enter it",
                             stage.requires[0].span, hint="check the comparisons: one of them excludes another")
    for rule in funnel.rules:
        if rule.condition is None:
            continue
        at = {"stage": rule.stage} if rule.stage is not None and rule.kind != "exit" else {}
        decide_rule = funnel_decisions(funnel, rule.subject) if rule.kind == "event" else decide
        if decide_rule([condition(rule.condition, **at)]).answer is Answer.NO:
            yield diagnostic("FNL305", f"the condition of `{rule.describe()}` can never hold: the rule never fires",
                             rule.condition.span, hint="check the comparisons: one of them excludes another")
    if funnel.route is not None and decide([condition(funnel.route)]).answer is Answer.NO:
        yield diagnostic("FNL305", f"the route of funnel `{funnel.id}` can never hold: no deal is routed to it",
                         funnel.route.span)


def _transition_never_fires(funnel: Funnel, t, decide: Decisions):
    sources = [t.source] if t.source is not None else [s.id for s in funnel.open_stages if s.id != t.target]
    text = short(expr_text(t.criterion), 48)
    if not sources:
        return
    if all(decide([condition(t.criterion, stage=s)]).answer is Answer.NO for s in sources):
        yield diagnostic("FNL305", f"the criterion of `{t.describe()}` can never hold: `{text}`", t.criterion.span,
                         hint="no deal satisfies it, so the transition never fires; check each comparison")
        return
    requires = funnel.stage_by_id[t.target].requires
    if requires and all(decide([condition(t.criterion, stage=s), *(condition(r, stage=s) for r in requires)]
                               ).answer is Answer.NO for s in sources):
        yield diagnostic("FNL305", f"`{t.describe()}` can never fire: its criterion contradicts the `require` "
                                   f"of stage `{t.target}`", t.criterion.span,
                         related=[Related(r.span, f"`{t.target}` requires this") for r in requires],
                         hint="a deal moves only when the target's `require` holds too")


@check("FNL306", "conflict-undecided", Severity.INFO)
def conflict_undecided(funnel: Funnel, spec: Spec):
    """Whether two automatic transitions can both fire, or a loop of automatic moves can go round, cannot be decided.

    The linter decides comparisons of one field with constants, enums, `in`
    lists, `is set` and true/false, combined with and/or/not. Criteria that
    compute (`paid >= budget * 0.5`, function calls) are beyond it: rather than
    guess, it names what it could not reason about so that a person can check.

    Bad:

    ```funnel
    funnel sales {
      fields {
        name:   text
        budget: money
      }
      stage new { start }
      stage vip {}
      stage won { won }
      stage lost { lost }
      new -> vip when length(name) > 20
      new -> won when budget > 1000
      vip -> won
      any -> lost
    }
    ```

    Fix:

    ```funnel
    funnel sales {
      fields {
        budget: money
        is_vip: bool = false
      }
      stage new { start }
      stage vip {}
      stage won { won }
      stage lost { lost }
      new -> vip when is_vip
      new -> won when budget > 1000 and not is_vip
      vip -> won
      any -> lost
    }
    ```
    """
    for shared, group in grouped_overlaps(funnel, Answer.UNKNOWN):
        parts = ", ".join(f"`{p}`" for p in sorted({p for o in group for p in o.verdict.undecided}))
        hint = f"it depends on {parts}; check by hand that they exclude each other"
        if shared is None or len(group) == 1:
            first, second = group[0].first, group[0].second
            yield diagnostic("FNL306", f"cannot decide whether `{first.describe()}` and `{second.describe()}` "
                                       f"can both fire", second.span,
                             related=[Related(first.span, f"`{first.describe()}` is tried first")], hint=hint)
            continue
        others = [o.first if o.second is shared else o.second for o in group]
        yield diagnostic("FNL306", f"cannot decide whether automatic transition `{shared.describe()}` can fire "
                                   f"together with {len(others)} other automatic transitions, on the stages "
                                   f"they leave", shared.span,
                         related=[_order(other, shared) for other in others], hint=hint)
    for loop, verdict, detail in loop_verdicts(funnel):
        if verdict == UNDECIDED:
            loop = loop_from_its_first_line(loop)
            yield diagnostic("FNL306", f"cannot decide whether automatic moves {loop_path(loop)} can loop forever",
                             loop[0].span, related=[Related(m.span, f"then {m.describe()}") for m in loop[1:]],
                             hint=f"it depends on {detail}; check by hand that the loop stops")
