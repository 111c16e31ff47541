"""Text for people: a fitted model's summary, a forecast's figures, a backtest's calibration."""
from __future__ import annotations

from ...dsl.render.safe_text import one_line
from ..outcome import iso


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 or abs(x) >= 1000 else f"{x:,.1f}"


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
    """The JSON form of a Forecast (engine/forecast/runs.py), as a person reads it."""
    typed = data["typed_probabilities"]
    out = [f"forecast from {data['history_end']}, {data['horizon_days']:g} days ahead: {data['open_deals']:,} open "
           f"deals worth {_n(data['open_value'])}; {data['runs']:,} runs, seed {data['seed']}", "",
           f"  {'won by the horizon':<28}{'P10':>14}{'P50':>14}{'P90':>14}{'typed':>14}",
           _row("deals", data["won"]["count"], f"{_n(typed['count']):>14}"),
           _row("value", data["won"]["value"], f"{_n(typed['value']):>14}")]
    out.append(f"  interval: {uncertainty_text(data['uncertainty'])}")
    if typed["deals_without_probability"]:
        out.append(f"  (typed: {typed['deals_without_probability']:,} open deals in stages without a probability "
                   "count as 0)")
    out += ["", f"  {'by stage at the cut (deals)':<28}{'P10':>14}{'P50':>14}{'P90':>14}{'open':>8}{'typed p':>9}"]
    for row in data["by_stage"]:
        p = "-" if row["typed_probability"] is None else f"{row['typed_probability']:.0%}"
        out.append(_row(one_line(row["stage"]), row["won_count"], f"{row['open_deals']:>8,}{p:>9}"))
    if data["by_group"]:
        out += ["", f"  {'by group (deals)':<28}{'P10':>14}{'P50':>14}{'P90':>14}{'open':>8}"]
        for row in data["by_group"]:
            out.append(_row(one_line(row["group"]) or '""', row["won_count"], f"{row['open_deals']:>8,}"))
    out += ["", f"  {'by month (deals won in it)':<28}{'P10':>14}{'P50':>14}{'P90':>14}"]
    out += [_row(row["month"], row["won_count"]) for row in data["by_month"]]
    out += [f"note: {one_line(n)}" for n in data["notes"]]
    return "\n".join(out) + "\n"


def uncertainty_text(data: dict) -> str:
    """What the P10-P90 interval carries, in a line."""
    parts = ["the runs' chance"]
    if data["behaviour_draws"]:
        parts.append(f"the fitted behaviour's uncertainty ({data['behaviour_draws']:,} resampled behaviours)")
    drift = data["drift"]
    if drift is not None:
        points = drift["earlier_cuts_used"]
        parts.append(f"drift (×{drift['factor']:.2f}, spread {drift['spread']:.0%}, from {points} earlier cut"
                     + ("" if points == 1 else "s") + ")" if points else "drift (none estimated)")
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0] + " alone"


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
