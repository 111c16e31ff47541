"""Text for people: a fitted model's summary, a forecast's figures, a backtest's calibration."""
from __future__ import annotations

from ...dsl.render.safe_text import one_line
from ...lang import DEFAULT, _, current, ngettext
from ..outcome import iso
from ..report import units
from .notes import note_text


def _n(x: float) -> str:
    """A count or value: whole, or to a tenth under 1000; English groups with commas, other languages as CLDR."""
    digits = 0 if abs(x - round(x)) < 1e-9 or abs(x) >= 1000 else 1
    return f"{x:,.{digits}f}" if current() == DEFAULT else units.grouped(x, digits)


def _int(x: int) -> str:
    return f"{x:,}" if current() == DEFAULT else units.grouped(x)


def _share(x: float) -> str:
    return f"{x:.0%}" if current() == DEFAULT else units.percent(x, 0)


def _factor_text(x: float) -> str:
    return f"×{x:.2f}" if current() == DEFAULT else "×" + units.grouped(x, 2)


def _days(seconds: float) -> str:
    days = round(seconds / 86400, 1)
    return f"{days:g} day" + ("" if days == 1 else "s")


def render_fit_text(model) -> str:
    out = [f"fitted on the history to {iso(model.end)}" + (f", by {model.by}" if model.by else "")]
    for fid, fit in model.funnels.items():
        out.append(f"funnel {one_line(fid)}: {fit.whole.deals:,} deals")
        for sid, stage in fit.whole.stages.items():
            if not stage.visits:
                continue
            shares = ", ".join(f"{one_line(s)} {c / stage.exits:.0%}" for s, c in stage.next) or "no exits seen"
            median = _median(stage.times, stage.survival)
            stay = f"median stay {_days(median)}" if median is not None else "median stay beyond the history"
            out.append(f"  {one_line(sid)}: {stage.visits:,} stays, {stage.exits:,} exits, {stage.censored:,} censored; "
                       f"{stay}; next: {shares}")
        for group, behaviour in fit.groups.items():
            out.append(f"  {model.by} = {one_line(group)}: {behaviour.deals:,} deals"
                       + (f" (whole history's figures for {', '.join(behaviour.fallback)})" if behaviour.fallback else ""))
    out.extend(f"note: {one_line(n)}" for n in model.notes)
    return "\n".join(out) + "\n"


def _factor(drift: dict | None) -> str:
    return "-" if drift is None or not drift["earlier_cuts_used"] else f"×{drift['factor']:.2f}"


def _median(times, survival) -> float | None:
    for t, s in zip(times, survival):
        if s <= 0.5:
            return t
    return None


def _row(label: str, spread: dict, extra: str = "") -> str:
    return f"  {label:<28}{_n(spread['p10']):>14}{_n(spread['p50']):>14}{_n(spread['p90']):>14}{extra}"


def render_forecast_text(data: dict) -> str:
    """The JSON form of a Forecast (engine/forecast/runs.py), as a person reads it, in the language in use."""
    typed = data["typed_probabilities"]
    p10, p50, p90 = _("P10"), _("P50"), _("P90")
    won, typed_word, open_word, typed_p = _("won by the horizon"), _("typed"), _("open"), _("typed p")
    by_stage, by_group, by_month = _("by stage at the cut (deals)"), _("by group (deals)"), _("by month (deals won in it)")
    out = [_("forecast from {start}, {days} days ahead: {open} open deals worth {value}; {runs} runs, seed {seed}")
           .format(start=data["history_end"], days=units.short(data["horizon_days"]), open=_int(data["open_deals"]),
                   value=_n(data["open_value"]), runs=_int(data["runs"]), seed=data["seed"]), "",
           f"  {won:<28}{p10:>14}{p50:>14}{p90:>14}{typed_word:>14}",
           _row(_("deals"), data["won"]["count"], f"{_n(typed['count']):>14}"),
           _row(_("value"), data["won"]["value"], f"{_n(typed['value']):>14}")]
    out.append("  " + _("interval: {sources}").format(sources=uncertainty_text(data["uncertainty"])))
    if typed["deals_without_probability"]:
        out.append("  " + _("(typed: {count} open deals in stages without a probability count as 0)")
                   .format(count=_int(typed["deals_without_probability"])))
    out += ["", f"  {by_stage:<28}{p10:>14}{p50:>14}{p90:>14}{open_word:>8}{typed_p:>9}"]
    for row in data["by_stage"]:
        p = "-" if row["typed_probability"] is None else _share(row["typed_probability"])
        out.append(_row(one_line(row["stage"]), row["won_count"], f"{_int(row['open_deals']):>8}{p:>9}"))
    if data["by_group"]:
        out += ["", f"  {by_group:<28}{p10:>14}{p50:>14}{p90:>14}{open_word:>8}"]
        for row in data["by_group"]:
            out.append(_row(one_line(row["group"]) or '""', row["won_count"], f"{_int(row['open_deals']):>8}"))
    out += ["", f"  {by_month:<28}{p10:>14}{p50:>14}{p90:>14}"]
    out += [_row(row["month"], row["won_count"]) for row in data["by_month"]]
    out += [_("note: {note}").format(note=one_line(note_text(n))) for n in data["notes"]]
    return "\n".join(out) + "\n"


def uncertainty_text(data: dict) -> str:
    """What the P10-P90 interval carries, in a line, in the language in use."""
    parts = [_("the runs' chance")]
    if data["behaviour_draws"]:
        parts.append(_("the fitted behaviour's uncertainty ({draws} resampled behaviours)")
                     .format(draws=_int(data["behaviour_draws"])))
    drift = data["drift"]
    if drift is not None:
        points = drift["earlier_cuts_used"]
        parts.append(ngettext("drift ({factor}, spread {spread}, from {count} earlier cut)",
                              "drift ({factor}, spread {spread}, from {count} earlier cuts)", points)
                     .format(factor=_factor_text(drift["factor"]), spread=_share(drift["spread"]), count=points)
                     if points else _("drift (none estimated)"))
    if len(parts) == 1:
        return _("{source} alone").format(source=parts[0])
    return _("{sources} and {last}").format(sources=", ".join(parts[:-1]), last=parts[-1])


def render_backtest_text(data: dict) -> str:
    """The JSON form of a Backtest (engine/forecast/backtest.py), as a person reads it."""
    out = [f"backtest: {len(data['cuts'])} cut date(s), {data['horizon_days']:g} days ahead, {data['runs']:,} runs each",
           "", f"  {'cut':<12}{'open':>7}{'P10':>9}{'P50':>9}{'P90':>9}{'actual':>9}{'typed':>9}{'drift':>7}  held"]
    for cut in data["cuts"]:
        f = cut["forecast"]["count"]
        out.append(f"  {cut['at'][:10]:<12}{cut['open_deals']:>7,}{_n(f['p10']):>9}{_n(f['p50']):>9}{_n(f['p90']):>9}"
                   f"{cut['actual']['count']:>9,}{_n(cut['typed_probabilities']['count']):>9}"
                   f"{_factor(cut.get('drift')):>7}  {'yes' if cut['held']['count'] else 'no'}")
    cal, err, typed = data["calibration"], data["median_error"], data["typed_error"]

    def pct(x):
        return "-" if x is None else f"{x:.0%}"
    kinds = data.get("uncertainty", {})
    carried = ["the runs' chance"] + (["the behaviour's uncertainty"] if kinds.get("behaviour") else []) \
        + (["drift (the factor above, from earlier cuts)"] if kinds.get("drift") else [])
    out += ["", "  the interval carries " + ", ".join(carried),
            f"  P10-P90 held: deals {pct(cal['count'])}, value {pct(cal['value'])} of the cuts (80% if honest)",
            f"  error of the median: deals {pct(err['count'])}, value {pct(err['value'])}; "
            f"typed probabilities: deals {pct(typed['count'])}, value {pct(typed['value'])}"]
    return "\n".join(out) + "\n"
