"""Figures of the dashboard, built by pure functions from journal and analysis data.

Every function here takes DataFrames or plain values and returns a Plotly
figure (or plain rows for a table); none reads a database, a file or a global.
That keeps them testable against known journal data
(``tests/test_dashboard_figures.py``) and lets the pages stay thin.

Units follow :mod:`analysis.constants`: SI inside.  For display, durations
are shown in hours or minutes and contact time in milliseconds; the axis title
always says which.  Wording follows the journal: *flag*, *pattern*, *worth
discussing with a physiotherapist*; never a diagnosis.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

#: Colours used consistently across pages.
COLOUR = {
    "load": "#4C78A8",
    "flag": "#E45756",
    "unknown": "#BBBBBB",
    "acwr": "#72B7B2",
    "sitting": "#B279A2",
    "bout": "#9D755D",
    "heel": "#F58518",
    "lean": "#54A24B",
    "sleep": "#4C78A8",
    "stress": "#EECA3B",
    "core": "#54A24B",
    "pain": "#E45756",
    "early": "#72B7B2",
    "late": "#E45756",
    "signal": "#4C78A8",
    "step": "#E45756",
}
#: Flag kinds that colour a day's load bar (sitting and pain have their own rows).
LOAD_FLAG_KINDS = ("run", "week", "intensity", "acwr")
#: Acute:chronic band often quoted as the "sweet spot" (Gabbett 2016), and the flag limit of the journal.
ACWR_BAND = (0.8, 1.3)
SITTING_TOTAL_LIMIT_H = 6.0
SITTING_BOUT_LIMIT_H = 2.0
#: Points per trace sent to the browser for long signals (display only; the analysis uses every sample).
SIGNAL_POINTS = 3000


def _num(x) -> float | None:
    """A finite float or None (for hover texts)."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _fmt(x, spec: str, unit: str = "", none: str = "–") -> str:
    f = _num(x)
    return none if f is None else f"{f:{spec}}{unit}"


# ----------------------------------------------------------------------------
# Timeline


def day_details(daily: pd.DataFrame) -> list[str]:
    """One hover text per day of a journal timeline (``Timeline.daily``): what happened that day.

    Days with nothing logged say so ("no data"), rather than showing zeros.
    """
    out = []
    for day, row in daily.iterrows():
        parts = [f"<b>{pd.Timestamp(day):%a %d %b %Y}</b>"]
        if not bool(row.get("logged", True)):
            parts.append("no data logged (unknown, not rest)")
            out.append("<br>".join(parts))
            continue
        if row.get("runs_n", 0) and _num(row.get("runs_n")):
            parts.append(f"run: {row.get('run_kinds') or 'run'}, {_fmt(row.get('duration_s', np.nan) / 60, '.0f', ' min')}, "
                         f"load {_fmt(row.get('load'), '.0f')}")
        else:
            parts.append("no run")
        if _num(row.get("acwr")) is not None:
            parts.append(f"acute:chronic {_fmt(row.get('acwr'), '.2f')}")
        if _num(row.get("sitting_s")) is not None:
            parts.append(f"sitting {_fmt(row['sitting_s'] / 3600, '.1f', ' h')}, longest bout "
                         f"{_fmt(row.get('longest_sitting_s', np.nan) / 3600, '.1f', ' h')}")
        if _num(row.get("sleep_s")) is not None or _num(row.get("stress")) is not None:
            parts.append(f"sleep {_fmt(row.get('sleep_s', np.nan) / 3600, '.1f', ' h')}, stress "
                         f"{_fmt(row.get('stress'), '.0f', '/5')}")
        ex = _num(row.get("exercise_n"))
        if ex:
            parts.append(f"core {int(row.get('core_n') or 0)}, mobility {int(row.get('mobility_n') or 0)}")
        if _num(row.get("pain_max")) is not None:
            parts.append(f"pain {_fmt(row['pain_max'], '.0f', '/10')} ({row.get('pain_where') or ''})")
        flags = row.get("flags") or []
        for f in flags:
            parts.append(f"⚑ {f}")
        out.append("<br>".join(parts))
    return out


def _flag_of(kinds, wanted=LOAD_FLAG_KINDS) -> bool:
    return any(k in wanted for k in (kinds or []))


def timeline_figure(daily: pd.DataFrame, weekly: pd.DataFrame, runs: pd.DataFrame) -> go.Figure:
    """The Timeline page: load, ratio, sitting, form, check-ins, core work and pain on one time axis.

    Parameters
    ----------
    daily, weekly, runs
        ``Timeline.daily``, ``Timeline.weekly`` and ``Timeline.runs`` of
        :meth:`journal.Journal.timeline`.

    The run markers (row "form per run") carry the run id in ``customdata``
    so that a click can open the run.
    """
    rows = ["Load per day (au)", "Load per week (au)", "Acute:chronic ratio", "Sitting (h)",
            "Form per run", "Sleep (h) · stress · core", "Pain (0–10)"]
    fig = make_subplots(rows=len(rows), cols=1, shared_xaxes=True, vertical_spacing=0.025, subplot_titles=rows,
                        specs=[[{"secondary_y": i == 4}] for i in range(len(rows))])
    x = pd.to_datetime(daily.index)
    details = day_details(daily)
    logged = daily["logged"].astype(bool).to_numpy() if "logged" in daily else np.ones(len(daily), bool)
    load = daily["load"].to_numpy(dtype=float)
    flagged = np.array([_flag_of(k) for k in daily.get("flag_kinds", pd.Series([[]] * len(daily)))], bool)

    # Row 1: daily load, flagged days in red, unknown days as grey ticks.
    fig.add_trace(go.Bar(x=x, y=np.where(np.isfinite(load), load, 0.0), name="load per day",
                         marker_color=np.where(flagged, COLOUR["flag"], COLOUR["load"]).tolist(),
                         hovertext=details, hoverinfo="text", showlegend=False), row=1, col=1)
    unknown = ~logged
    if unknown.any():
        fig.add_trace(go.Scatter(x=x[unknown], y=np.zeros(unknown.sum()), mode="markers", name="no data",
                                 marker=dict(symbol="line-ew-open", size=14, color=COLOUR["unknown"]),
                                 hoverinfo="skip"), row=1, col=1)

    # Row 2: weekly load (the 10 % rule), flagged weeks red with their change.
    if len(weekly):
        wx = pd.to_datetime(weekly.index) + pd.Timedelta(days=3)
        wflag = np.array([f is True for f in weekly["flag"]], bool)
        inc = weekly["increase"].to_numpy(dtype=float)
        text = [f"{v:+.0%}" if np.isfinite(v) else "" for v in inc]
        hover = [f"week of {pd.Timestamp(w):%d %b}: {_fmt(l, '.0f')} au ({int(k)} of 7 days known)"
                 + (f"<br>⚑ {r}" if r else "") + (f"<br>{c}" if c else "")
                 for w, l, k, r, c in zip(weekly.index, weekly["load_known"], weekly["known_days"],
                                          weekly["reason"].fillna(""), weekly["core_note"].fillna(""))]
        fig.add_trace(go.Bar(x=wx, y=weekly["load_known"].to_numpy(dtype=float), width=6 * 86400000,
                             marker_color=np.where(wflag, COLOUR["flag"], COLOUR["load"]).tolist(),
                             text=text, textposition="outside", hovertext=hover, hoverinfo="text",
                             name="load per week", showlegend=False), row=2, col=1)

    # Row 3: acute:chronic ratio with the usual band and the flag limit.
    if "acwr" in daily:
        fig.add_trace(go.Scatter(x=x, y=daily["acwr"].to_numpy(dtype=float), mode="lines", name="acute:chronic",
                                 line=dict(color=COLOUR["acwr"]), hoverinfo="skip", showlegend=False), row=3, col=1)
        fig.add_hrect(y0=ACWR_BAND[0], y1=ACWR_BAND[1], fillcolor=COLOUR["acwr"], opacity=0.12, line_width=0,
                      row=3, col=1)
        fig.add_hline(y=1.5, line=dict(color=COLOUR["flag"], dash="dot", width=1), row=3, col=1)

    # Row 4: sitting per day (6 h line) and the longest bout (2 h line).
    sit_h = daily.get("sitting_s", pd.Series(np.nan, index=daily.index)).to_numpy(dtype=float) / 3600
    bout_h = daily.get("longest_sitting_s", pd.Series(np.nan, index=daily.index)).to_numpy(dtype=float) / 3600
    sit_flag = (sit_h >= SITTING_TOTAL_LIMIT_H) | (bout_h >= SITTING_BOUT_LIMIT_H)
    fig.add_trace(go.Bar(x=x, y=sit_h, name="sitting", showlegend=False, hoverinfo="skip",
                         marker_color=np.where(sit_flag, COLOUR["flag"], COLOUR["sitting"]).tolist()), row=4, col=1)
    fig.add_trace(go.Scatter(x=x, y=bout_h, mode="markers", name="longest sitting bout", showlegend=False,
                             hoverinfo="skip", marker=dict(color=COLOUR["bout"], symbol="diamond", size=6)),
                  row=4, col=1)
    fig.add_hline(y=SITTING_TOTAL_LIMIT_H, line=dict(color=COLOUR["flag"], dash="dot", width=1), row=4, col=1)
    fig.add_hline(y=SITTING_BOUT_LIMIT_H, line=dict(color=COLOUR["bout"], dash="dot", width=1), row=4, col=1)

    # Row 5: heel-strike share and trunk lean per run (clickable).
    if len(runs):
        rx = pd.to_datetime(runs["local_date"])
        ids = runs["id"].to_numpy()
        hover = [f"run {i}: {k if isinstance(k, str) else 'run'}, {_fmt(d / 60, '.0f', ' min')}<br>"
                 f"heel strike {_fmt(h * 100 if _num(h) is not None else None, '.0f', ' %')}, trunk lean "
                 f"{_fmt(l, '.1f', '°')} (drift {_fmt(dr, '+.1f', '°')})<br>click to open"
                 for i, k, d, h, l, dr in zip(ids, runs["kind"], runs["duration_s"], runs["heel_strike_share"],
                                              runs["trunk_lean_fwd_deg"], runs["trunk_lean_fwd_drift_deg"])]
        fig.add_trace(go.Scatter(x=rx, y=runs["heel_strike_share"].to_numpy(dtype=float) * 100, mode="markers",
                                 name="heel strike (%)", marker=dict(color=COLOUR["heel"], size=9),
                                 customdata=ids, hovertext=hover, hoverinfo="text"), row=5, col=1)
        fig.add_trace(go.Scatter(x=rx, y=runs["trunk_lean_fwd_deg"].to_numpy(dtype=float), mode="markers",
                                 name="trunk lean (°)", marker=dict(color=COLOUR["lean"], size=9, symbol="square"),
                                 customdata=ids, hovertext=hover, hoverinfo="text"), row=5, col=1, secondary_y=True)

    # Row 6: sleep, stress, core sessions.
    if "sleep_s" in daily:
        fig.add_trace(go.Scatter(x=x, y=daily["sleep_s"].to_numpy(dtype=float) / 3600, mode="lines+markers",
                                 name="sleep (h)", line=dict(color=COLOUR["sleep"]), marker=dict(size=4),
                                 hoverinfo="skip"), row=6, col=1)
    if "stress" in daily:
        fig.add_trace(go.Scatter(x=x, y=daily["stress"].to_numpy(dtype=float), mode="markers", name="stress (1–5)",
                                 marker=dict(color=COLOUR["stress"], size=6), hoverinfo="skip"), row=6, col=1)
    if "core_n" in daily:
        core = daily["core_n"].to_numpy(dtype=float)
        fig.add_trace(go.Bar(x=x, y=np.where(core > 0, core, np.nan), name="core sessions",
                             marker_color=COLOUR["core"], opacity=0.6, hoverinfo="skip"), row=6, col=1)

    # Row 7: pain.
    if "pain_max" in daily:
        fig.add_trace(go.Scatter(x=x, y=daily["pain_max"].to_numpy(dtype=float), mode="lines+markers",
                                 connectgaps=False, name="pain", line=dict(color=COLOUR["pain"]), showlegend=False,
                                 hoverinfo="skip"), row=7, col=1)
        pflag = np.array(["pain" in (k or []) for k in daily.get("flag_kinds", [[]] * len(daily))], bool)
        if pflag.any():
            fig.add_trace(go.Scatter(x=x[pflag], y=np.full(pflag.sum(), 10.5), mode="markers", name="pain flag",
                                     marker=dict(symbol="triangle-down", color=COLOUR["flag"], size=8),
                                     hovertext=[", ".join(f) for f in daily["flags"][pflag]], hoverinfo="text"),
                          row=7, col=1)
        fig.update_yaxes(range=[-0.5, 11], row=7, col=1)

    fig.update_layout(height=1350, margin=dict(l=60, r=30, t=70, b=30), bargap=0.15, hovermode="closest",
                      legend=dict(orientation="h", yanchor="bottom", y=1.03, x=0), template="plotly_white")
    fig.update_yaxes(title_text="%", row=5, col=1, secondary_y=False)
    fig.update_yaxes(title_text="°", row=5, col=1, secondary_y=True)
    fig.update_xaxes(showspikes=True, spikemode="across", spikethickness=1)
    return fig


def association_lines(assoc: pd.DataFrame, *, min_abs_rho: float = 0.3, min_n: int = 10, limit: int = 5) -> list[str]:
    """The strongest lagged associations of pain with a factor, in careful words.

    ``assoc`` is :meth:`journal.Timeline.associations`.  Only pairs with
    ``|rho| >= min_abs_rho`` over at least ``min_n`` days are listed, strongest
    first; each line names the lag, ρ and n and says it is a pattern, not a cause.
    """
    if assoc is None or len(assoc) == 0:
        return []
    a = assoc.dropna(subset=["rho"])
    a = a[(a["rho"].abs() >= min_abs_rho) & (a["n"] >= min_n)]
    a = a.reindex(a["rho"].abs().sort_values(ascending=False).index).head(limit)
    out = []
    for _, r in a.iterrows():
        when = "the same day as" if r["lag_days"] == 0 else f"{int(r['lag_days'])} day(s) after"
        direction = "more" if r["rho"] > 0 else "less"
        out.append(f"Pain tended to be higher {when} days with {direction} {r['description']} "
                   f"(Spearman ρ = {r['rho']:+.2f}, {int(r['n'])} days; {r['caution']}).")
    return out


# ----------------------------------------------------------------------------
# Run


def downsample(t_s: np.ndarray, y: np.ndarray, *, n_out: int = SIGNAL_POINTS,
               x_range: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The points of ``(t_s, y)`` to draw: MinMaxLTTB (plotly-resampler) within ``x_range``.

    Display only: the shape (peaks included) is kept with at most ``n_out``
    points, whatever the length of the signal.
    """
    t_s = np.asarray(t_s, dtype=float)
    y = np.asarray(y, dtype=float)
    if x_range is not None:
        lo, hi = np.searchsorted(t_s, x_range[0], "left"), np.searchsorted(t_s, x_range[1], "right")
        lo, hi = max(lo - 1, 0), min(hi + 1, len(t_s))
        t_s, y = t_s[lo:hi], y[lo:hi]
    if len(t_s) <= n_out:
        return t_s, y
    from plotly_resampler.aggregation import MinMaxLTTB

    idx = MinMaxLTTB().arg_downsample(t_s, y, n_out=n_out)
    return t_s[idx], y[idx]


def signal_figure(t_s: np.ndarray, acc_norm_m_s2: np.ndarray, ic_s: np.ndarray, *,
                  x_range: tuple[float, float] | None = None, n_out: int = SIGNAL_POINTS,
                  title: str = "Acceleration magnitude with detected steps") -> go.Figure:
    """The raw signal (|acceleration|, m/s², orientation-free) with the detected steps (IC) marked.

    Long signals are downsampled for display (:func:`downsample`); zooming
    re-draws the visible range at full detail (the page calls this again with
    ``x_range``).
    """
    tx, ty = downsample(t_s, acc_norm_m_s2, n_out=n_out, x_range=x_range)
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=tx, y=ty, mode="lines", name="|acc| (m/s²)", line=dict(color=COLOUR["signal"], width=1)))
    ic = np.asarray(ic_s, dtype=float)
    ic = ic[np.isfinite(ic)]
    if x_range is not None:
        ic = ic[(ic >= x_range[0]) & (ic <= x_range[1])]
    if len(ic) > n_out:  # too many to see one by one: keep every k-th for display
        ic = ic[:: int(math.ceil(len(ic) / n_out))]
    if len(ic):
        yi = np.interp(ic, np.asarray(t_s, float), np.asarray(acc_norm_m_s2, float))
        fig.add_trace(go.Scattergl(x=ic, y=yi, mode="markers", name="step (IC)",
                                   marker=dict(color=COLOUR["step"], size=5, symbol="triangle-up")))
    fig.update_layout(title=title, height=320, margin=dict(l=60, r=20, t=40, b=40), template="plotly_white",
                      xaxis_title="time from start (s)", yaxis_title="m/s²", legend=dict(orientation="h", y=1.1),
                      uirevision="signal")
    if x_range is not None:
        fig.update_xaxes(range=list(x_range))
    return fig


#: Per-step metrics of the Run page: column, axis title, display factor.
STEP_PANELS = {
    "cadence_spm": ("cadence (steps/min)", 1.0),
    "contact_time_s": ("contact time (ms)", 1000.0),
    "strike_angle_deg": ("foot-strike angle (°)", 1.0),
    "impact_index": ("impact index (g/s)", 1.0),
    "trunk_lean_fwd_deg": ("trunk lean forward (°)", 1.0),
}


def step_panels(steps: pd.DataFrame) -> list[str]:
    """The per-step metrics that have at least one value in ``steps``."""
    return [c for c in STEP_PANELS if c in steps and steps[c].notna().any()]


def per_step_figure(steps: pd.DataFrame, fatigue: list[dict] | None = None) -> go.Figure:
    """Per-step metrics across the run, with the early and late fifths of each running bout shaded.

    ``steps`` is ``Report.steps`` (times in s from the start); ``fatigue`` the
    summary's ``fatigue`` list (bouts with ``start_s``, ``end_s``,
    ``steps_per_fifth``).
    """
    panels = step_panels(steps)
    if not panels:
        fig = go.Figure()
        fig.update_layout(title="No per-step values in this run", height=200, template="plotly_white")
        return fig
    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[STEP_PANELS[c][0] for c in panels])
    t_min = steps["ic_s"].to_numpy(dtype=float) / 60
    running = (steps["activity"] == "running").to_numpy()
    for i, c in enumerate(panels, start=1):
        y = steps[c].to_numpy(dtype=float) * STEP_PANELS[c][1]
        fig.add_trace(go.Scattergl(x=t_min, y=np.where(running, y, np.nan), mode="markers", name=c,
                                   marker=dict(size=3, color=COLOUR["signal"]), showlegend=False), row=i, col=1)
        fig.add_trace(go.Scattergl(x=t_min, y=np.where(running, np.nan, y), mode="markers", name=c + " (walking)",
                                   marker=dict(size=3, color=COLOUR["unknown"]), showlegend=False), row=i, col=1)
    shapes = []  # one list set once: fig.add_vrect per bout and row is very slow for long runs
    for b in fatigue or []:
        g = steps[(steps["bout"] == b.get("bout")) & running]
        k = int(b.get("steps_per_fifth", 0))
        if len(g) < 2 or k < 1:
            continue
        for part, colour in ((g.iloc[:k], COLOUR["early"]), (g.iloc[-k:], COLOUR["late"])):
            shapes.append(dict(type="rect", xref="x", yref="paper", x0=part["ic_s"].iloc[0] / 60,
                               x1=part["ic_s"].iloc[-1] / 60, y0=0, y1=1, fillcolor=colour, opacity=0.12,
                               line_width=0, layer="below"))
    fig.update_layout(shapes=shapes)
    fig.update_layout(height=170 * len(panels) + 60, margin=dict(l=60, r=20, t=40, b=40), template="plotly_white")
    fig.update_xaxes(title_text="minutes from start", row=len(panels), col=1)
    return fig


def fatigue_rows(fatigue: list[dict]) -> list[dict]:
    """Early-versus-late rows for a table: one per bout and metric, flagged ones marked.

    ``fatigue`` is the ``summary.fatigue`` list of :func:`analysis.pipeline.fatigue`.
    """
    rows = []
    for b in fatigue or []:
        for m, v in b.get("metrics", {}).items():
            label, factor = STEP_PANELS.get(m, (m, 1.0))
            rows.append({
                "bout": int(b.get("bout", 0)), "metric": label,
                "early": v["early"] * factor, "late": v["late"] * factor, "change": v["change"] * factor,
                "threshold": None if v.get("threshold") is None else (
                    v["threshold"] * (1.0 if m == "impact_index" else factor)),
                "flagged": bool(v.get("flagged")),
            })
    return rows


def strike_figure(steps: pd.DataFrame, placement: str) -> go.Figure:
    """Foot-strike distribution (shoe: classes; lower back: impact-index histogram)."""
    fig = go.Figure()
    run = steps[steps["activity"] == "running"] if "activity" in steps else steps
    if placement.startswith("foot"):
        order = ["rearfoot", "midfoot", "forefoot", "indeterminate"]
        counts = run["strike"].value_counts().reindex(order, fill_value=0) if len(run) else pd.Series(0, index=order)
        total = max(int(counts.sum()), 1)
        fig.add_trace(go.Bar(x=order, y=counts.to_numpy(), text=[f"{c / total:.0%}" for c in counts],
                             textposition="outside", marker_color=[COLOUR["heel"], COLOUR["lean"], COLOUR["acwr"],
                                                                   COLOUR["unknown"]]))
        fig.update_layout(title="Foot strike (running steps)", yaxis_title="steps")
    else:
        vals = run["impact_index"].dropna().to_numpy(dtype=float) if "impact_index" in run else np.array([])
        fig.add_trace(go.Histogram(x=vals, nbinsx=30, marker_color=COLOUR["heel"]))
        fig.update_layout(title="Impact index per step (an indicator, not a foot-strike class)",
                          xaxis_title="impact index (g/s)", yaxis_title="steps")
    fig.update_layout(height=300, margin=dict(l=60, r=20, t=50, b=40), template="plotly_white")
    return fig


def compare_figure(steps_a: pd.DataFrame, steps_b: pd.DataFrame, labels: tuple[str, str]) -> go.Figure:
    """Two runs side by side: each per-step metric against the share of the run (0–100 %), rolling median of 15 steps."""
    panels = [c for c in STEP_PANELS if c in step_panels(steps_a) or c in step_panels(steps_b)]
    fig = make_subplots(rows=max(len(panels), 1), cols=1, shared_xaxes=True, vertical_spacing=0.05,
                        subplot_titles=[STEP_PANELS[c][0] for c in panels] or ["no per-step values"])
    for steps, label, colour in ((steps_a, labels[0], COLOUR["signal"]), (steps_b, labels[1], COLOUR["heel"])):
        run = steps[steps["activity"] == "running"]
        if len(run) < 2:
            continue
        t = run["ic_s"].to_numpy(dtype=float)
        share = 100 * (t - t[0]) / max(t[-1] - t[0], 1e-9)
        for i, c in enumerate(panels, start=1):
            if c not in run:
                continue
            y = run[c].astype(float).rolling(15, center=True, min_periods=3).median().to_numpy() * STEP_PANELS[c][1]
            fig.add_trace(go.Scattergl(x=share, y=y, mode="lines", name=label, legendgroup=label,
                                       showlegend=i == 1, line=dict(color=colour)), row=i, col=1)
    fig.update_layout(height=160 * max(len(panels), 1) + 80, margin=dict(l=60, r=20, t=50, b=40),
                      template="plotly_white", legend=dict(orientation="h", y=1.06))
    fig.update_xaxes(title_text="share of the run (%)", row=max(len(panels), 1), col=1)
    return fig


# ----------------------------------------------------------------------------
# Runners and live


def pain_trend(pains: pd.DataFrame, as_of: date, *, window_days: int = 7) -> dict:
    """Mean daily-highest pain in the last ``window_days`` against the window before, with a word.

    ``pains``: pain reports (``local_date``, ``rating``).  Returns
    ``{"recent", "before", "word"}``; missing windows are None.
    """
    if pains is None or len(pains) == 0:
        return {"recent": None, "before": None, "word": "no pain reports"}
    daily = pains.groupby(pd.to_datetime(pains["local_date"]))["rating"].max().astype(float)
    end = pd.Timestamp(as_of)
    recent = daily[(daily.index > end - pd.Timedelta(days=window_days)) & (daily.index <= end)]
    before = daily[(daily.index > end - pd.Timedelta(days=2 * window_days))
                   & (daily.index <= end - pd.Timedelta(days=window_days))]
    r = float(recent.mean()) if len(recent) else None
    b = float(before.mean()) if len(before) else None
    if r is None:
        word = "no recent reports"
    elif b is None:
        word = f"{r:.1f}/10 (nothing to compare with)"
    elif r > b + 0.5:
        word = f"rising ({b:.1f} → {r:.1f}/10)"
    elif r < b - 0.5:
        word = f"easing ({b:.1f} → {r:.1f}/10)"
    else:
        word = f"about level ({r:.1f}/10)"
    return {"recent": r, "before": b, "word": word}


def live_figure(window_s: float = 10.0) -> go.Figure:
    """The empty live trace that the Live page extends (``extendData``) with new samples."""
    fig = go.Figure(go.Scattergl(x=[], y=[], mode="lines", name="vertical acceleration",
                                 line=dict(color=COLOUR["signal"], width=1)))
    fig.update_layout(height=300, margin=dict(l=60, r=20, t=30, b=40), template="plotly_white",
                      xaxis_title="time (s)", yaxis_title="vertical acceleration (m/s²)", uirevision="live",
                      title=f"Last {window_s:g} s")
    return fig


# ----------------------------------------------------------------------------
# Day (all-day recording)

#: Alerts a sitting bout would have fired (DOMAIN.md: get up about every 30 min; 2 h in one go stiffens the back).
SITTING_ALERTS_S = (30 * 60.0, 2 * 3600.0)
ACTIVITY_COLOURS = {"lying": "#9D755D", "sitting": "#B279A2", "standing": "#72B7B2", "walking": "#54A24B",
                    "running": "#F58518", "unknown": "#DDDDDD"}


def sitting_alerts(bouts: pd.DataFrame, thresholds_s: tuple[float, ...] = SITTING_ALERTS_S) -> pd.DataFrame:
    """The alerts that would have fired: one row per sitting bout and threshold it outlasted.

    ``bouts``: ``start_s``, ``end_s`` (s from the recording start).  Returns
    ``t_s`` (when the alert fires: bout start + threshold), ``threshold_s``, ``bout_start_s``.
    """
    rows = []
    for b in bouts.itertuples():
        for th in thresholds_s:
            if b.end_s - b.start_s >= th:
                rows.append({"t_s": float(b.start_s + th), "threshold_s": float(th), "bout_start_s": float(b.start_s)})
    return pd.DataFrame(rows, columns=["t_s", "threshold_s", "bout_start_s"])


def bout_colour(duration_s: float) -> str:
    """Sitting bouts by length: under 30 min, 30 min to 2 h, 2 h or more."""
    if duration_s >= SITTING_ALERTS_S[1]:
        return COLOUR["flag"]
    if duration_s >= SITTING_ALERTS_S[0]:
        return COLOUR["heel"]
    return COLOUR["lean"]


def day_figure(activities: pd.DataFrame, transitions: pd.DataFrame, bouts: pd.DataFrame,
               start_utc: pd.Timestamp | None = None, tz: str = "UTC") -> go.Figure:
    """Activity timeline of an all-day recording, sitting bouts coloured by length, transitions and alerts.

    Times are s from the recording start; with ``start_utc`` the axis shows local clock time in ``tz``.
    """
    def x_of(s):
        s = np.asarray(s, dtype=float)
        if start_utc is None:
            return s / 3600.0
        return (pd.Timestamp(start_utc) + pd.to_timedelta(s, unit="s")).tz_convert(tz).tz_localize(None)

    def width(s0, s1):
        d = np.asarray(s1, float) - np.asarray(s0, float)
        return d / 3600.0 if start_utc is None else d * 1000.0  # hours, or ms on a date axis

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.6, 0.4],
                        subplot_titles=["Activity", "Sitting bouts (green < 30 min, orange 30 min–2 h, red ≥ 2 h)"])
    for act, g in activities.groupby("activity", sort=False):
        fig.add_trace(go.Bar(base=x_of(g["start_s"]), x=width(g["start_s"], g["end_s"]), y=[act] * len(g),
                             orientation="h", name=act, marker_color=ACTIVITY_COLOURS.get(act, "#999"),
                             hovertext=[f"{act}: {(e - s) / 60:.0f} min" for s, e in zip(g["start_s"], g["end_s"])],
                             hoverinfo="text"), row=1, col=1)
    if len(transitions):
        fig.add_trace(go.Scatter(x=x_of(transitions["t_s"]), y=["transitions"] * len(transitions), mode="markers",
                                 name="sit-stand transitions", marker=dict(symbol="line-ns-open", size=14, color="#333"),
                                 hovertext=list(transitions["kind"]), hoverinfo="text"), row=1, col=1)
    if len(bouts):
        dur = (bouts["end_s"] - bouts["start_s"]).to_numpy(dtype=float)
        fig.add_trace(go.Bar(base=x_of(bouts["start_s"]), x=width(bouts["start_s"], bouts["end_s"]),
                             y=["sitting"] * len(bouts), orientation="h", showlegend=False,
                             marker_color=[bout_colour(d) for d in dur],
                             hovertext=[f"sitting {d / 60:.0f} min" for d in dur], hoverinfo="text"), row=2, col=1)
        alerts = sitting_alerts(bouts)
        for th, symbol in zip(SITTING_ALERTS_S, ("circle", "x")):
            a = alerts[alerts["threshold_s"] == th]
            if len(a):
                fig.add_trace(go.Scatter(x=x_of(a["t_s"]), y=[f"alert {th / 60:.0f} min" if th < 3600 else
                                                                 f"alert {th / 3600:.0f} h"] * len(a),
                                         mode="markers", name=f"alert at {th / 60:.0f} min",
                                         marker=dict(symbol=symbol, size=10, color=COLOUR["flag"])), row=2, col=1)
    fig.update_layout(height=520, barmode="overlay", margin=dict(l=110, r=20, t=50, b=40), template="plotly_white",
                      legend=dict(orientation="h", y=-0.12))
    if start_utc is None:
        fig.update_xaxes(title_text="hours from the recording start", row=2, col=1)
    else:
        fig.update_xaxes(type="date", row=1, col=1)
        fig.update_xaxes(type="date", title_text=f"local time ({tz})", row=2, col=1)
    return fig
