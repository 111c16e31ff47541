"""The plan of `funnel diff` as text (a terminal), markdown (a pull request comment) and JSON.

Each format says the same things in the same order: spec changes, the counts,
the deals (at most `limit`), lines one spec rejected, metric deltas, the
thresholds, and the verdict. Text and markdown are worded in the language in
use (`funnel diff --lang`); the JSON in English, whatever the language. The
records a deal's replays differ by (actions, violations, rejections) are
quoted as the engine and the spec write them.
"""
from __future__ import annotations

from ..dsl.render.safe_text import for_terminal
from ..lang import DEFAULT, N_, _, current, ngettext, pgettext, using
from .diff import Cause
from .diff_deals import DealChange, path_text
from .diff_metrics import COUNT, MONEY, RATE, SLA_EFFECTS, MetricRow
from .diff_plan import Plan
from .outcome import iso
from .report.units import DAY, NONE, count, grouped, percent, points

COUNT_LABELS = (("deals_replayed", N_("deals replayed")), ("outcome_changes", N_("outcome changes")),
                ("path_changes", N_("path changes")), ("action_changes", N_("action changes")),
                ("violations_appeared", N_("violations appearing")),
                ("violations_vanished", N_("violations vanishing")),
                ("rejected_old", N_("lines only OLD rejects")), ("rejected_new", N_("lines only NEW rejects")))

# a spec change as a person reads it: what changed and how, worded whole (Russian agrees the verb with the noun)
CHANGE_WORDS = {
    ("added", "funnel"): N_("added funnel"), ("removed", "funnel"): N_("removed funnel"),
    ("added", "stage"): N_("added stage"), ("removed", "stage"): N_("removed stage"),
    ("changed", "stage"): N_("changed stage"), ("renamed", "stage"): N_("renamed stage"),
    ("added", "field"): N_("added field"), ("removed", "field"): N_("removed field"),
    ("changed", "field"): N_("changed field"),
    ("added", "event"): N_("added event"), ("removed", "event"): N_("removed event"),
    ("changed", "event"): N_("changed event"),
    ("added", "transition"): N_("added transition"), ("removed", "transition"): N_("removed transition"),
    ("changed", "transition"): N_("changed transition"),
    ("added", "rule"): N_("added rule"), ("removed", "rule"): N_("removed rule"),
    ("changed", "rule"): N_("changed rule"),
    ("changed", "setting"): N_("changed setting"),
}


def _status(status: str) -> str:
    return {"won": pgettext("status", "won"), "lost": pgettext("status", "lost"),
            "open": pgettext("status", "open")}.get(status, status)


def _count_labels() -> list[tuple[str, str]]:
    """(count key, its label in the language in use)."""
    return [(key, _(label)) for key, label in COUNT_LABELS]


def describe_change(change) -> str:
    """A spec change in the language in use; its details are the spec's own words (`sla 2h -> 1d`)."""
    words = CHANGE_WORDS.get((change.change, change.what))
    said = _(words) if words else f"{change.change} {change.what}"
    head = f"{said} `{change.name}`"
    return head + (": " + "; ".join(change.details) if change.details else "")


def describe_cause(cause: Cause) -> str:
    """What set a record off, in the language in use."""
    if cause.kind == "timer":
        return _("timer at {time}").format(time=iso(cause.time))
    return _("line {line} ({event}) at {time}").format(line=cause.line, event=cause.event, time=iso(cause.time))


def outcome_text(outcome) -> str:
    """A deal's end in the language in use: its stage, its status unless open, the loss's reason."""
    if outcome is None:
        return _("(not replayed)")
    text = outcome.stage if outcome.status == "open" else f"{outcome.stage} ({_status(outcome.status)})"
    return text + (_(", lost: {reason}").format(reason=outcome.lost_reason) if outcome.lost_reason else "")


def describe_tripped(tripped) -> str:
    from .diff_metrics import _shown

    measured = _shown(tripped.threshold, tripped.measured)
    if tripped.funnel:
        return _("`{threshold}` tripped in funnel `{funnel}`: measured {measured}").format(
            threshold=tripped.threshold.text, funnel=tripped.funnel, measured=measured)
    return _("`{threshold}` tripped: measured {measured}").format(threshold=tripped.threshold.text, measured=measured)


def verdict(plan: Plan) -> str:
    """The plan's verdict in the language in use (the JSON's: in English, `deal(s)` as tools have read it)."""
    code = plan.exit_code()
    if plan.thresholds:
        n = len(plan.tripped)
        said = (ngettext("{count} threshold(s) tripped", "{count} threshold(s) tripped", n).format(count=n)
                if n else _("no threshold tripped"))
    elif plan.replayed is None:
        n = plan.structural_count
        said = ngettext("{count} spec change(s); no history given, outcomes not compared",
                        "{count} spec change(s); no history given, outcomes not compared", n).format(count=n)
    else:
        n = plan.replayed.counts["outcome_changes"]
        said = (ngettext("outcomes change for {count} deal(s)", "outcomes change for {count} deal(s)", n).format(count=n)
                if n else _("no outcome changes"))
    return _("{verdict} (exit {code})").format(verdict=said, code=code)


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
    return _time(round(value / size, digits), digits, unit)


def _time(number: float, digits: int, unit: str, signed: bool = False) -> str:
    """`5.0 d`, `+4.0 d`: the number in the language's form with the unit's word from the catalogue."""
    from .report.units import _decimal

    if current() == DEFAULT:
        shown = f"{number:+.{digits}f}" if signed else f"{number:.{digits}f}"
    else:
        shown = _decimal(number, digits, signed)
    if unit == "d":
        return _("{days} d").format(days=shown)
    if unit == "h":
        return _("{hours} h").format(hours=shown)
    return _("{minutes} min").format(minutes=shown)


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
        return points(delta)
    if row.unit == COUNT:
        return f"{delta:+d}"
    if row.unit == MONEY:
        return ("+" if delta > 0 else "-") + grouped(abs(delta), 0 if float(delta).is_integer() else 2)
    size, digits, unit = _time_unit(row)
    shown = round(round(row.new / size, digits) - round(row.old / size, digits), digits)
    return "0" if shown == 0 else _time(shown, digits, unit, signed=True)


def _shown_rows(plan: Plan) -> list[MetricRow]:
    """Rows with a figure; deals over an sla or stuck only where the count changes (an sla change's effect)."""
    return [r for r in plan.replayed.rows if not (r.old is None and r.new is None)
            and not (r.name.startswith(SLA_EFFECTS) and r.old == r.new)]


def _timed(record: str) -> str:
    """`notify anna: "…" at 2026-01-01T00:00:00Z` (as diff_deals words it, and the JSON keeps it) in the language
    in use: the time is the last word, after ` at `."""
    what, found, time = record.rpartition(" at ")
    return _("{record} at {time}").format(record=what, time=time) if found and " " not in time else record


def _deal_lines(d: DealChange) -> list[str]:
    lines = []
    if d.outcome_changed:
        lines.append(_("outcome: {old} -> {new}").format(old=outcome_text(d.old), new=outcome_text(d.new)))
    if d.path_changed:
        lines += [_("path old: {path}").format(path=path_text(d.old) or NONE),
                  _("path new: {path}").format(path=path_text(d.new) or NONE)]
    if d.parting is not None:
        p = d.parting
        lines.append(_("parted at {cause}").format(cause=describe_cause(p.cause)))
        for side, what, rule, cause in ((pgettext("side", "old"), p.old_what, p.old_rule, p.old_cause),
                                        (pgettext("side", "new"), p.new_what, p.new_rule, p.new_cause)):
            line = f"  {side}: {what or _('nothing more')}"
            if rule:
                line += " " + _("(rule `{rule}`)").format(rule=rule)
            if cause is not None and cause != p.cause:
                line += _(", on {cause}").format(cause=describe_cause(cause))
            lines.append(line)
    lines += [_("action added: {action}").format(action=_timed(a)) for a in d.actions_added]
    lines += [_("action removed: {action}").format(action=_timed(a)) for a in d.actions_removed]
    lines += [_("violation appears: {violation}").format(violation=_timed(v)) for v in d.violations_appeared]
    lines += [_("violation vanishes: {violation}").format(violation=_timed(v)) for v in d.violations_vanished]
    return lines


@for_terminal
def render_text(plan: Plan, limit: int) -> str:
    """The plan for a terminal, in the language in use."""
    out = [f"funnel diff {plan.old_path} -> {plan.new_path}", ""]
    out.append(_("Spec changes: {count}").format(count=plan.structural_count))
    for fid, changes in plan.changes.items():
        if changes:
            out.append("  " + _("funnel `{funnel}`").format(funnel=fid))
            out += [f"    {describe_change(c)}" for c in changes]
    replayed = plan.replayed
    if replayed is not None:
        lines = replayed.totals.lines
        out += ["", ngettext("History: {count} line(s), replayed until {until}",
                             "History: {count} line(s), replayed until {until}", lines)
                .format(count=lines, until=iso(replayed.until) or NONE)]
        counts = replayed.counts
        out += [f"  {label:<24}{counts[key]:>6}" for key, label in _count_labels()]
        shown = replayed.deals[:limit]
        if shown:
            out += ["", _("Deals (showing {shown} of {count})").format(shown=len(shown), count=len(replayed.deals))]
            for d in shown:
                out.append(f"  {d.deal} [{d.funnel}]")
                out += [f"    {line}" for line in _deal_lines(d)]
        for side, rejected in (("OLD", replayed.rejected_old), ("NEW", replayed.rejected_new)):
            if rejected:
                out += ["", _("Lines only {side} rejects ({count})").format(side=side, count=len(rejected))]
                out += ["  " + _("line {line}, deal {deal}: {reason}").format(line=line, deal=deal, reason=reason)
                        for line, deal, reason in rejected[:limit]]
        rows = _shown_rows(plan)
        funnel = None
        for row in rows:
            if row.funnel != funnel:
                funnel = row.funnel
                metric, old, new, changed = _("metric"), pgettext("side", "old"), pgettext("side", "new"), _("change")
                out += ["", _("Metrics, funnel `{funnel}`").format(funnel=funnel),
                        f"  {metric:<28}{old:>14}{new:>14}{changed:>12}"]
            out.append(f"  {row.name:<28}{figure(row, row.old):>14}{figure(row, row.new):>14}{change(row):>12}")
    if plan.thresholds:
        out += ["", _("Thresholds")]
        tripped = {t.threshold.text for t in plan.tripped}
        words = {True: _("TRIPPED"), False: _("ok")}
        out += [f"  {t.text}: {words[t.text in tripped]}" for t in plan.thresholds]
        out += [f"  {describe_tripped(t)}" for t in plan.tripped]
    out += ["", _("Result: {verdict}").format(verdict=verdict(plan))]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@for_terminal
def render_markdown(plan: Plan, limit: int) -> str:
    """The plan as a pull request comment, in the language in use."""
    out = [f"### funnel diff `{plan.old_path}` → `{plan.new_path}`", "", f"**{verdict(plan)}**", ""]
    replayed = plan.replayed
    if replayed is not None:
        out += ["| | " + _("deals") + " |", "|---|---:|"]
        out += [f"| {label} | {replayed.counts[key]} |" for key, label in _count_labels()]
        out.append("")
    changes = _("Spec changes ({count})").format(count=plan.structural_count)
    out += [f"<details><summary>{changes}</summary>", ""]
    for fid, changes in plan.changes.items():
        if changes:
            out.append("- " + _("funnel `{funnel}`").format(funnel=fid))
            out += [f"  - {_cell(describe_change(c))}" for c in changes]
    out += ["", "</details>", ""]
    if replayed is not None:
        shown = replayed.deals[:limit]
        if shown:
            deals = _("Deals ({shown} of {count})").format(shown=len(shown), count=len(replayed.deals))
            out += [f"<details><summary>{deals}</summary>", "",
                    "| " + " | ".join((_("deal"), pgettext("side", "old"), pgettext("side", "new"), _("parted at")))
                    + " |",
                    "|---|---|---|---|"]
            for d in shown:
                parted = describe_cause(d.parting.cause) if d.parting else ""
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
                title = _("Lines only {side} rejects ({count})").format(side=side, count=len(rejected))
                out += [f"<details><summary>{title}</summary>", ""]
                out += ["- " + _("line {line}, deal {deal}: {reason}").format(line=line, deal=f"`{deal}`",
                                                                                reason=_cell(reason))
                        for line, deal, reason in rejected[:limit]]
                out += ["", "</details>", ""]
        rows = _shown_rows(plan)
        totals = [r for r in rows if "." not in r.name]
        stages = [r for r in rows if "." in r.name]
        for title, part, folded in ((_("Metrics"), totals, False), (_("Metrics per stage"), stages, True)):
            if not part:
                continue
            if folded:
                out += [f"<details><summary>{title}</summary>", ""]
            out += ["| " + " | ".join((_("funnel"), _("metric"), pgettext("side", "old"), pgettext("side", "new"),
                                       _("change"))) + " |", "|---|---|---:|---:|---:|"]
            out += [f"| `{r.funnel}` | `{r.name}` | {figure(r, r.old)} | {figure(r, r.new)} | {change(r)} |"
                    for r in part]
            out += [""] + (["</details>", ""] if folded else [])
    if plan.thresholds:
        tripped = {t.threshold.text for t in plan.tripped}
        words = {True: "**" + _("tripped") + "**", False: _("ok")}
        out += [f"- `{t.text}`: {words[t.text in tripped]}" for t in plan.thresholds] + [""]
    return "\n".join(out)


def plan_json(plan: Plan, limit: int) -> dict:
    """The plan for tools: its verdict in English, whatever the language in use."""
    with using(DEFAULT):
        said = verdict(plan)
    data = {"old": plan.old_path, "new": plan.new_path, "exit": plan.exit_code(), "verdict": said,
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
