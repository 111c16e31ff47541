"""`funnel simulate --format text`: what the replay did, in a few lines a person reads.

The metrics (conversion, time in stage, forecast...) are engine/report's;
this is the replay's own account: where the deals are, what the rules did,
which moves broke the spec, what failed, and that every line was counted.
"""
from __future__ import annotations

from collections import Counter

from ..dsl.render.safe_text import for_terminal
from .outcome import ReplayResult, iso

SHOWN = 20


@for_terminal
def render_summary(result: ReplayResult, source: str, action_kinds: Counter | None = None,
                   action_rules: Counter | None = None) -> str:
    """The summary of a replay; counters (kind -> n, (rule, kind) -> n) spare a pass over the actions."""
    if action_kinds is None or action_rules is None:
        action_kinds, action_rules = Counter(), Counter()
        for a in result.actions:
            action_kinds[a.kind] += 1
            action_rules[(a.rule, a.kind)] += 1
    out = [f"replayed {source} against {result.spec} until {iso(result.until) or '-'} (moves: {result.moves})", ""]
    counts = standing_counts(result.outcomes)
    for funnel in result.funnels:
        out.extend(_funnel_lines(funnel, *counts.get(funnel["id"], (Counter(), Counter()))))
    total = sum(action_kinds.values())
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(action_kinds.items()))
    out.append(f"actions: {total}" + (f" ({kinds})" if kinds else ""))
    ranked = sorted(action_rules.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(rule) for (rule, _), _ in ranked[:SHOWN]), default=0)
    for (rule, kind), n in ranked[:SHOWN]:
        out.append(f"  {rule:<{width}}  {n:>7} {kind}")
    if len(ranked) > SHOWN:
        out.append(f"  … and {len(ranked) - SHOWN} more rules")
    out.append(f"violations: {len(result.violations)}")
    out.extend(_listed((f"{v.deal} line {v.line} at {iso(v.time)}: {v.kind}: {v.message}"
                        f" ({'applied' if v.applied else 'refused'})" for v in result.violations),
                       len(result.violations)))
    out.append(f"problems: {len(result.problems)}")
    out.extend(_listed((f"{p.deal} at {iso(p.time)}: {p.kind}: {p.message}" for p in result.problems),
                       len(result.problems)))
    t = result.totals
    after = f" + {t.after_until} after --until" if t.after_until else ""
    out.append(f"lines: {t.lines} = {t.applied} applied + {t.rejected} rejected + {t.blank} blank{after}; "
               f"{t.deals} deal{'s' if t.deals != 1 else ''}")
    return "\n".join(out) + "\n"


def standing_counts(outcomes) -> dict[str, tuple[Counter, Counter]]:
    """funnel id -> (deals by status, deals by stage); from the deals' states when the outcomes are a replay's own
    (engine/simulate.py DealOutcomes), without building their records."""
    if hasattr(outcomes, "standing_counts"):
        return outcomes.standing_counts()
    counts: dict[str, tuple[Counter, Counter]] = {}
    for o in outcomes:
        status, stages = counts.setdefault(o.funnel, (Counter(), Counter()))
        status[o.status] += 1
        stages[o.stage] += 1
    return counts


def _funnel_lines(funnel: dict, status: Counter, at: Counter) -> list[str]:
    deals = sum(status.values())
    lines = [f"funnel {funnel['id']} \"{funnel['title']}\": {deals} deal{'s' if deals != 1 else ''}"
             f" ({status['won']} won, {status['lost']} lost, {status['open']} open)"]
    stages = funnel["stages"]
    width = max((len(s["id"]) for s in stages), default=0)
    for s in stages:
        lines.append(f"  {s['id']:<{width}}  {at[s['id']]:>7}  {s['kind']}")
    lines.append("")
    return lines


def _listed(lines, count: int) -> list[str]:
    out = []
    for i, line in enumerate(lines):
        if i == SHOWN:
            out.append(f"  … and {count - SHOWN} more (--format json lists them all)")
            break
        out.append("  " + line)
    return out
