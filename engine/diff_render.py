"""The plan of `funnel diff` as text (a terminal), markdown (a pull request comment) and JSON.

Each format says the same things in the same order: spec changes, the counts,
the deals (at most `limit`), lines one spec rejected, metric deltas, the
thresholds, and the verdict.
"""
from __future__ import annotations

from ..dsl.render.safe_text import for_terminal
from .diff_deals import DealChange, outcome_text, path_text
from .diff_metrics import COUNT, MONEY, RATE, SLA_EFFECTS, MetricRow
from .diff_plan import Plan
from .outcome import iso
from .report.units import DAY, NONE, count, grouped, percent

COUNT_LABELS = (("deals_replayed", "deals replayed"), ("outcome_changes", "outcome changes"),
                ("path_changes", "path changes"), ("action_changes", "action changes"),
                ("violations_appeared", "violations appearing"), ("violations_vanished", "violations vanishing"),
                ("rejected_old", "lines only OLD rejects"), ("rejected_new", "lines only NEW rejects"))


def verdict(plan: Plan) -> str:
    if plan.thresholds:
        return (f"{len(plan.tripped)} threshold(s) tripped" if plan.tripped else "no threshold tripped") + \
            f" (exit {plan.exit_code()})"
    if plan.replayed is None:
        return f"{plan.structural_count} spec change(s); no history given, outcomes not compared (exit 0)"
    n = plan.replayed.counts["outcome_changes"]
    return (f"outcomes change for {n} deal(s)" if n else "no outcome changes") + f" (exit {plan.exit_code()})"


def figure(row: MetricRow, value: float | None) -> str:
    if value is None:
        return NONE
    if row.unit == RATE:
        return percent(value)
    if row.unit == COUNT:
        return count(value)
    if row.unit == MONEY:
        return grouped(value, 0 if float(value).is_integer() else 2)
    size, digits, unit = _time_unit(row)
    return f"{round(value / size, digits):.{digits}f} {unit}"


def _time_unit(row: MetricRow) -> tuple[float, int, str]:
    """One unit for a time row's old, new and change, so that the change shown is the difference of the
    figures shown (`5.0 d → 9.0 d, +4.0 d`, not `+3.9 d`): days past a day, else hours, else minutes."""
    largest = max(abs(v) for v in (row.old, row.new) if v is not None)
    if largest >= DAY:
        return DAY, 1, "d"
    if largest >= 3600:
        return 3600.0, 1, "h"
    return 60.0, 0, "min"


def change(row: MetricRow) -> str:
    delta = row.delta
    if delta is None:
        return NONE if row.old != row.new else ""
    if delta == 0:
        return "0"
    if row.unit == RATE:
        return f"{delta * 100:+.1f} pp"
    if row.unit == COUNT:
        return f"{delta:+d}"
    if row.unit == MONEY:
        return ("+" if delta > 0 else "-") + grouped(abs(delta), 0 if float(delta).is_integer() else 2)
    size, digits, unit = _time_unit(row)
    shown = round(round(row.new / size, digits) - round(row.old / size, digits), digits)
    return "0" if shown == 0 else f"{shown:+.{digits}f} {unit}"


def _shown_rows(plan: Plan) -> list[MetricRow]:
    """Rows with a figure; deals over an sla or stuck only where the count changes (an sla change's effect)."""
    return [r for r in plan.replayed.rows if not (r.old is None and r.new is None)
            and not (r.name.startswith(SLA_EFFECTS) and r.old == r.new)]


def _deal_lines(d: DealChange) -> list[str]:
    lines = []
    if d.outcome_changed:
        lines.append(f"outcome: {outcome_text(d.old)} -> {outcome_text(d.new)}")
    if d.path_changed:
        lines += [f"path old: {path_text(d.old) or NONE}", f"path new: {path_text(d.new) or NONE}"]
    if d.parting is not None:
        p = d.parting
        lines.append(f"parted at {p.cause.describe()}")
        for side, what, rule, cause in (("old", p.old_what, p.old_rule, p.old_cause),
                                        ("new", p.new_what, p.new_rule, p.new_cause)):
            later = f", on {cause.describe()}" if cause is not None and cause != p.cause else ""
            lines.append(f"  {side}: {what or 'nothing more'}" + (f" (rule `{rule}`)" if rule else "") + later)
    lines += [f"action added: {a}" for a in d.actions_added]
    lines += [f"action removed: {a}" for a in d.actions_removed]
    lines += [f"violation appears: {v}" for v in d.violations_appeared]
    lines += [f"violation vanishes: {v}" for v in d.violations_vanished]
    return lines


@for_terminal
def render_text(plan: Plan, limit: int) -> str:
    out = [f"funnel diff {plan.old_path} -> {plan.new_path}", ""]
    out.append(f"Spec changes: {plan.structural_count}")
    for fid, changes in plan.changes.items():
        if changes:
            out.append(f"  funnel `{fid}`")
            out += [f"    {c.describe()}" for c in changes]
    replayed = plan.replayed
    if replayed is not None:
        out += ["", f"History: {replayed.totals.lines} line(s), replayed until {iso(replayed.until) or NONE}"]
        counts = replayed.counts
        out += [f"  {label:<24}{counts[key]:>6}" for key, label in COUNT_LABELS]
        shown = replayed.deals[:limit]
        if shown:
            out += ["", f"Deals (showing {len(shown)} of {len(replayed.deals)})"]
            for d in shown:
                out.append(f"  {d.deal} [{d.funnel}]")
                out += [f"    {line}" for line in _deal_lines(d)]
        for side, rejected in (("OLD", replayed.rejected_old), ("NEW", replayed.rejected_new)):
            if rejected:
                out += ["", f"Lines only {side} rejects ({len(rejected)})"]
                out += [f"  line {line}, deal {deal}: {reason}" for line, deal, reason in rejected[:limit]]
        rows = _shown_rows(plan)
        funnel = None
        for row in rows:
            if row.funnel != funnel:
                funnel = row.funnel
                out += ["", f"Metrics, funnel `{funnel}`", f"  {'metric':<28}{'old':>14}{'new':>14}{'change':>12}"]
            out.append(f"  {row.name:<28}{figure(row, row.old):>14}{figure(row, row.new):>14}{change(row):>12}")
    if plan.thresholds:
        out += ["", "Thresholds"]
        tripped = {t.threshold.text for t in plan.tripped}
        out += [f"  {t.text}: {'TRIPPED' if t.text in tripped else 'ok'}" for t in plan.thresholds]
        out += [f"  {t.describe()}" for t in plan.tripped]
    out += ["", "Result: " + verdict(plan)]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@for_terminal
def render_markdown(plan: Plan, limit: int) -> str:
    out = [f"### funnel diff `{plan.old_path}` → `{plan.new_path}`", "", f"**{verdict(plan)}**", ""]
    replayed = plan.replayed
    if replayed is not None:
        out += ["| | deals |", "|---|---:|"]
        out += [f"| {label} | {replayed.counts[key]} |" for key, label in COUNT_LABELS]
        out.append("")
    out += [f"<details><summary>Spec changes ({plan.structural_count})</summary>", ""]
    for fid, changes in plan.changes.items():
        if changes:
            out.append(f"- funnel `{fid}`")
            out += [f"  - {_cell(c.describe())}" for c in changes]
    out += ["", "</details>", ""]
    if replayed is not None:
        shown = replayed.deals[:limit]
        if shown:
            out += [f"<details><summary>Deals ({len(shown)} of {len(replayed.deals)})</summary>", "",
                    "| deal | old | new | parted at |", "|---|---|---|---|"]
            for d in shown:
                parted = d.parting.cause.describe() if d.parting else ""
                out.append(f"| `{_cell(d.deal)}` | {_cell(outcome_text(d.old))} | {_cell(outcome_text(d.new))} "
                           f"| {_cell(parted)} |")
            out.append("")
            for d in shown:
                out += [f"**`{d.deal}`**", ""]
                out += [("  " if line.startswith("  ") else "") + f"- {_cell(line.strip())}" for line in _deal_lines(d)]
                out.append("")
            out += ["</details>", ""]
        for side, rejected in (("OLD", replayed.rejected_old), ("NEW", replayed.rejected_new)):
            if rejected:
                out += [f"<details><summary>Lines only {side} rejects ({len(rejected)})</summary>", ""]
                out += [f"- line {line}, deal `{deal}`: {_cell(reason)}" for line, deal, reason in rejected[:limit]]
                out += ["", "</details>", ""]
        rows = _shown_rows(plan)
        totals = [r for r in rows if "." not in r.name]
        stages = [r for r in rows if "." in r.name]
        for title, part, folded in (("Metrics", totals, False), ("Metrics per stage", stages, True)):
            if not part:
                continue
            if folded:
                out += [f"<details><summary>{title}</summary>", ""]
            out += ["| funnel | metric | old | new | change |", "|---|---|---:|---:|---:|"]
            out += [f"| `{r.funnel}` | `{r.name}` | {figure(r, r.old)} | {figure(r, r.new)} | {change(r)} |"
                    for r in part]
            out += [""] + (["</details>", ""] if folded else [])
    if plan.thresholds:
        tripped = {t.threshold.text for t in plan.tripped}
        out += [f"- `{t.text}`: {'**tripped**' if t.text in tripped else 'ok'}" for t in plan.thresholds] + [""]
    return "\n".join(out)


def plan_json(plan: Plan, limit: int) -> dict:
    data = {"old": plan.old_path, "new": plan.new_path, "exit": plan.exit_code(), "verdict": verdict(plan),
            "changes": {fid: [c.to_json() for c in changes] for fid, changes in plan.changes.items()},
            "renames": plan.renames, "replay": None,
            "thresholds": [t.to_json() for t in plan.thresholds], "tripped": [t.to_json() for t in plan.tripped]}
    replayed = plan.replayed
    if replayed is not None:
        reject = lambda r: {"line": r[0], "deal": r[1], "reason": r[2]}  # noqa: E731
        data["replay"] = {"totals": replayed.totals.to_json(), "until": iso(replayed.until),
                          "counts": replayed.counts, "deals_shown": min(limit, len(replayed.deals)),
                          "deals": [d.to_json() for d in replayed.deals[:limit]],
                          "rejected_old": [reject(r) for r in replayed.rejected_old],
                          "rejected_new": [reject(r) for r in replayed.rejected_new],
                          "metrics": [r.to_json() for r in replayed.rows]}
    return data
