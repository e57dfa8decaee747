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
import re
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.constants import IMPACT_MIN_RATE_HZ, METRIC_DISPLAY
from journal.db import kind_text
from journal.link import week_change_text
from journal.rules import daily_max_pain

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


def number_text(x, spec: str, unit: str = "", scale: float = 1.0, none: str = "–") -> str:
    """``x`` (times ``scale``) formatted by ``spec`` with ``unit``; ``none`` when it is missing or not finite; a
    value that rounds to zero is never "-0.0" (a drift of -0.04° is "+0.0°" or "0.0°")."""
    f = _num(x)
    if f is None:
        return none
    text = f"{f * scale:{spec}}"
    if text.startswith("-") and not re.search(r"[1-9]", text):
        text = ("+" if "+" in spec else "") + text[1:]
    return text + unit



# ----------------------------------------------------------------------------
# Building figures quickly
#
# Figures are assembled from plain dicts and wrapped with ``go.Figure(..., _validate=False)``: plotly's
# per-property validation (and ``make_subplots``) cost 0.3 s for the Timeline of a year, more than
# everything else on the page.  tests/test_dashboard_figures.py re-validates every figure through
# ``go.Figure(fig.to_dict())`` so that a misspelt property still fails a test.


def _template() -> dict:
    """The look of plotly's ``plotly_white`` in a few keys (the full template adds ~10 kB to each figure).

    No ``automargin``: with it Plotly measures the tick labels and then lays
    the whole graph out again (a third of the Run page's drawing time in the
    browser, bench/RESULTS.md); each figure sets margins wide enough for its
    labels and titles instead.
    """
    axis = {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "zerolinewidth": 2,
            "ticks": "", "title": {"standoff": 15}}
    return {"layout": {"paper_bgcolor": "white", "plot_bgcolor": "white", "font": {"color": "#2a3f5f"},
                       "hoverlabel": {"align": "left"}, "xaxis": dict(axis), "yaxis": dict(axis),
                       "title": {"x": 0.05}}}


def _figure(traces: list[dict], layout: dict) -> go.Figure:
    """A Plotly figure from plain trace and layout dicts, without plotly's (slow) validation."""
    return go.Figure(data=traces, layout={"template": _template(), **layout}, _validate=False)


def _stack(titles: list[str], *, spacing: float, secondary: tuple[int, ...] = ()) -> tuple[dict, list, dict]:
    """Layout of ``len(titles)`` rows sharing one x axis (what ``make_subplots(shared_xaxes=True)`` gives).

    Returns ``(layout, refs, secondary_refs)``: ``refs[i]`` is the ``{"xaxis", "yaxis"}`` of row ``i + 1``;
    ``secondary_refs[row]`` the same with a second y axis on the right for the rows in ``secondary``.
    """
    n = len(titles)
    h = (1.0 - spacing * (n - 1)) / n
    x_hi = 0.94 if secondary else 1.0
    layout: dict = {"annotations": []}
    refs, second = [], {}
    for i in range(n):
        top = 1.0 - i * (h + spacing)
        k = "" if i == 0 else str(i + 1)
        layout[f"xaxis{k}"] = {"anchor": f"y{k}", "domain": [0.0, x_hi]}
        if i < n - 1:
            layout[f"xaxis{k}"].update(matches=f"x{n}", showticklabels=False)
        layout[f"yaxis{k}"] = {"anchor": f"x{k}", "domain": [max(top - h, 0.0), top]}
        layout["annotations"].append({"text": titles[i], "x": x_hi / 2, "xref": "paper", "xanchor": "center",
                                      "y": top, "yref": "paper", "yanchor": "bottom", "showarrow": False,
                                      "font": {"size": 14}})
        refs.append({"xaxis": f"x{k}", "yaxis": f"y{k}"})
    for j, row in enumerate(secondary, start=n + 1):
        layout[f"yaxis{j}"] = {"anchor": refs[row - 1]["xaxis"], "overlaying": refs[row - 1]["yaxis"],
                               "side": "right"}
        second[row] = {"xaxis": refs[row - 1]["xaxis"], "yaxis": f"y{j}"}
    return layout, refs, second


def _hline(y: float, ref: dict, **line) -> dict:
    """A horizontal line across one row (``fig.add_hline`` without its cost)."""
    return {"type": "line", "xref": f"{ref['xaxis']} domain", "x0": 0, "x1": 1, "yref": ref["yaxis"], "y0": y,
            "y1": y, "line": line}


def _axis_key(ref: str) -> str:
    """``"x3"`` → ``"xaxis3"``, ``"y"`` → ``"yaxis"``."""
    return f"{ref[0]}axis{ref[1:]}"


# ----------------------------------------------------------------------------
# Timeline


def day_details(daily: pd.DataFrame) -> list[str]:
    """One hover text per day of a journal timeline (``Timeline.daily``): what happened that day.

    Days with nothing logged say so ("no data"), rather than showing zeros.
    """
    n = len(daily)

    def col(name, default=np.nan):
        return daily[name].tolist() if name in daily else [default] * n

    out = []
    for (day, logged, runs_n, kinds, dur, load, acwr, sit, longest, work_sit, sleep, stress, ex, core, mob, pain,
         where, flags) in zip(daily.index, col("logged", True), col("runs_n", 0), col("run_kinds", ""),
                              col("duration_s"), col("load"), col("acwr"), col("sitting_s"), col("longest_sitting_s"),
                              col("work_sitting_s"), col("sleep_s"), col("stress"), col("exercise_n"), col("core_n", 0),
                              col("mobility_n", 0), col("pain_max"), col("pain_where", ""), col("flags", [])):
        parts = [f"<b>{pd.Timestamp(day):%a %d %b %Y}</b>"]
        if not bool(logged):
            parts.append("no data logged (unknown, not rest)")
            out.append("<br>".join(parts))
            continue
        if runs_n and _num(runs_n):
            parts.append(f"run: {kinds or 'run'}, {number_text(dur / 60, '.0f', ' min')}, load {number_text(load, '.0f')}")
        else:
            parts.append("no run")
        if _num(acwr) is not None:
            parts.append(f"acute:chronic {number_text(acwr, '.2f')}")
        if _num(sit) is not None:
            parts.append(f"sitting {number_text(sit / 3600, '.1f', ' h')}, longest bout {number_text(longest / 3600, '.1f', ' h')}")
        if _num(work_sit) is not None:
            parts.append(f"sitting at work {number_text(work_sit / 3600, '.1f', ' h')} (reported at the check-in)")
        if _num(sleep) is not None or _num(stress) is not None:
            parts.append(f"sleep {number_text(sleep / 3600, '.1f', ' h')}, stress {number_text(stress, '.0f', '/5')}")
        if _num(ex):
            parts.append(f"core {int(core or 0)}, mobility {int(mob or 0)}")
        if _num(pain) is not None:
            parts.append(f"pain {number_text(pain, '.0f', '/10')} ({where or ''})")
        for f in flags or []:
            parts.append(f"⚑ {f}")
        out.append("<br>".join(parts))
    return out


def _flag_of(kinds, wanted=LOAD_FLAG_KINDS) -> bool:
    return any(k in wanted for k in (kinds or []))


TIMELINE_ROWS = ["Load per day (au)", "Load per week (au)", "Acute:chronic ratio", "Sitting (h)",
                 "Form per run", "Sleep (h) · stress · core", "Pain (0–10)"]


def timeline_figure(daily: pd.DataFrame, weekly: pd.DataFrame, runs: pd.DataFrame) -> go.Figure:
    """The Timeline page: load, ratio, sitting, form, check-ins, core work and pain on one time axis.

    Parameters
    ----------
    daily, weekly, runs
        ``Timeline.daily``, ``Timeline.weekly`` and ``Timeline.runs`` of
        :meth:`journal.Journal.timeline`.

    The run markers (row "form per run") carry the run id in ``customdata``
    so that a click can open the run.  Every day is drawn (a year is 365 bars
    per row, cheap for the browser); over more than half a year, sleep, stress
    and the longest sitting bout are drawn as lines rather than one marker per
    day, which keeps the page quick to draw.
    """
    layout, ax, ax2 = _stack(TIMELINE_ROWS, spacing=0.025, secondary=(5,))
    traces: list[dict] = []
    shapes: list[dict] = []
    x = pd.to_datetime(daily.index)
    dense = len(daily) > 183
    details = day_details(daily)
    logged = daily["logged"].astype(bool).to_numpy() if "logged" in daily else np.ones(len(daily), bool)
    load = daily["load"].to_numpy(dtype=float)
    flagged = np.array([_flag_of(k) for k in daily.get("flag_kinds", pd.Series([[]] * len(daily)))], bool)

    # Row 1: daily load, flagged days in red, unknown days as grey ticks.
    traces.append(dict(type="bar", x=x, y=np.where(np.isfinite(load), load, 0.0), name="load per day",
                       marker={"color": np.where(flagged, COLOUR["flag"], COLOUR["load"]).tolist()},
                       hovertext=details, hoverinfo="text", showlegend=False, **ax[0]))
    unknown = ~logged
    if unknown.any():
        traces.append(dict(type="scatter", x=x[unknown], y=np.zeros(unknown.sum()), mode="markers", name="no data",
                           marker={"symbol": "line-ew-open", "size": 14, "color": COLOUR["unknown"]},
                           hoverinfo="skip", **ax[0]))

    # Row 2: weekly load (the 10 % rule), flagged weeks red with their change.
    if len(weekly):
        wx = pd.to_datetime(weekly.index) + pd.Timedelta(days=3)
        wflag = np.array([f is True for f in weekly["flag"]], bool)
        inc = weekly["increase"].to_numpy(dtype=float)
        text = [week_change_text(*args) for args in
                zip(inc, weekly["flag"], weekly["unknown_days"], weekly["prev_unknown_days"])]
        hover = [f"week of {pd.Timestamp(w):%d %b}: {number_text(l, '.0f')} au ({int(k)} of 7 days known)"
                 + (f", {t} on the week before" if t else "")
                 + (f"<br>{'⚑ ' if f is True else '? '}{r}" if r else "") + (f"<br>{c}" if c else "")
                 for w, l, k, t, f, r, c in zip(weekly.index, weekly["load_known"], weekly["known_days"], text,
                                                weekly["flag"], weekly["reason"].fillna(""),
                                                weekly["core_note"].fillna(""))]
        traces.append(dict(type="bar", x=wx, y=weekly["load_known"].to_numpy(dtype=float), width=6 * 86400000,
                           marker={"color": np.where(wflag, COLOUR["flag"], COLOUR["load"]).tolist()},
                           # over half a year the change is in the hover text only: 26+ labels are unreadable
                           # and each costs the browser a text measurement
                           **({} if dense else {"text": text, "textposition": "outside"}),
                           hovertext=hover, hoverinfo="text",
                           name="load per week", showlegend=False, **ax[1]))

    # Row 3: acute:chronic ratio with the usual band and the flag limit.
    if "acwr" in daily:
        traces.append(dict(type="scatter", x=x, y=daily["acwr"].to_numpy(dtype=float), mode="lines",
                           name="acute:chronic", line={"color": COLOUR["acwr"]}, hoverinfo="skip", showlegend=False,
                           **ax[2]))
        shapes.append({"type": "rect", "xref": f"{ax[2]['xaxis']} domain", "x0": 0, "x1": 1, "yref": ax[2]["yaxis"],
                       "y0": ACWR_BAND[0], "y1": ACWR_BAND[1], "fillcolor": COLOUR["acwr"], "opacity": 0.12,
                       "line": {"width": 0}, "layer": "below"})
        shapes.append(_hline(1.5, ax[2], color=COLOUR["flag"], dash="dot", width=1))

    # Row 4: sitting per day (6 h line) and the longest bout (2 h line).
    sit_h = daily.get("sitting_s", pd.Series(np.nan, index=daily.index)).to_numpy(dtype=float) / 3600
    bout_h = daily.get("longest_sitting_s", pd.Series(np.nan, index=daily.index)).to_numpy(dtype=float) / 3600
    sit_flag = (sit_h >= SITTING_TOTAL_LIMIT_H) | (bout_h >= SITTING_BOUT_LIMIT_H)
    traces.append(dict(type="bar", x=x, y=sit_h, name="sitting per day (h)", hovertext=details, hoverinfo="text",
                       marker={"color": np.where(sit_flag, COLOUR["flag"], COLOUR["sitting"]).tolist()}, **ax[3]))
    traces.append(dict(type="scatter", x=x, y=bout_h, mode="lines" if dense else "markers",
                       name="longest sitting bout (h)", hovertext=details, hoverinfo="text",
                       line={"color": COLOUR["bout"], "width": 1},
                       marker={"color": COLOUR["bout"], "symbol": "diamond", "size": 6}, **ax[3]))
    work_h = daily.get("work_sitting_s", pd.Series(np.nan, index=daily.index)).to_numpy(dtype=float) / 3600
    if np.isfinite(work_h).any():  # what the check-ins say, beside (or instead of) what a sensor measured
        # red where the journal flagged it (6 h or more on a day no sensor measured: journal.rules)
        work_flag = (work_h >= SITTING_TOTAL_LIMIT_H) & ~np.isfinite(sit_h)
        traces.append(dict(type="scatter", x=x, y=work_h, mode="markers", name="sitting at work, reported (h)",
                           hovertext=details, hoverinfo="text",
                           marker={"color": np.where(work_flag, COLOUR["flag"], COLOUR["sitting"]).tolist(),
                                   "symbol": "circle-open", "size": 7, "line": {"width": 1.5}}, **ax[3]))
    shapes.append(_hline(SITTING_TOTAL_LIMIT_H, ax[3], color=COLOUR["flag"], dash="dot", width=1))
    shapes.append(_hline(SITTING_BOUT_LIMIT_H, ax[3], color=COLOUR["bout"], dash="dot", width=1))
    for y, text, colour in ((SITTING_TOTAL_LIMIT_H, f"{SITTING_TOTAL_LIMIT_H:g} h a day", COLOUR["flag"]),
                            (SITTING_BOUT_LIMIT_H, f"{SITTING_BOUT_LIMIT_H:g} h in one go", COLOUR["bout"])):
        layout["annotations"].append({"text": text, "xref": f"{ax[3]['xaxis']} domain", "x": 1, "xanchor": "left",
                                      "yref": ax[3]["yaxis"], "y": y, "yanchor": "middle", "showarrow": False,
                                      "font": {"size": 10, "color": colour}})

    # Row 5: heel-strike share and trunk lean per run (clickable).
    if len(runs):
        rx = pd.to_datetime(runs["local_date"])
        # a list, not an array: plotly.py 6 sends an array as packed binary, whose points Dash's clickData leaves
        # without their customdata (the click opened nothing)
        ids = [int(i) for i in runs["id"]]
        form_flag = np.array([f is True for f in runs.get("form_flag", pd.Series([None] * len(runs)))], bool)
        form_reason = runs.get("form_reason", pd.Series([""] * len(runs))).fillna("").tolist()
        hover = [f"run {i}: {kind_text(k)}, {number_text(d / 60, '.0f', ' min')}<br>"
                 f"heel strike {number_text(h * 100 if _num(h) is not None else None, '.0f', ' %')}, trunk lean "
                 f"{number_text(l, '.1f', '°')} (drift {number_text(dr, '+.1f', '°')})<br>" + (f"⚑ {fr}<br>" if fr else "")
                 + "click to open"
                 for i, k, d, h, l, dr, fr in zip(ids, runs["kind"], runs["duration_s"], runs["heel_strike_share"],
                                                  runs["trunk_lean_fwd_deg"], runs["trunk_lean_fwd_drift_deg"],
                                                  form_reason)]
        # a run whose form drifted under fatigue (journal.rules.check_form) gets a red ring on both markers
        ring = {"color": np.where(form_flag, COLOUR["flag"], "rgba(0,0,0,0)").tolist(), "width": 2.5}
        traces.append(dict(type="scatter", x=rx, y=runs["heel_strike_share"].to_numpy(dtype=float) * 100,
                           mode="markers", name="heel strike (%)",
                           marker={"color": COLOUR["heel"], "size": 9, "line": ring},
                           customdata=ids, hovertext=hover, hoverinfo="text", **ax[4]))
        traces.append(dict(type="scatter", x=rx, y=runs["trunk_lean_fwd_deg"].to_numpy(dtype=float),
                           mode="markers", name="trunk lean (°)",
                           marker={"color": COLOUR["lean"], "size": 9, "symbol": "square", "line": ring},
                           customdata=ids, hovertext=hover, hoverinfo="text", **ax2[5]))

    # Row 6: sleep, stress, core sessions.
    if "sleep_s" in daily:
        traces.append(dict(type="scatter", x=x, y=daily["sleep_s"].to_numpy(dtype=float) / 3600,
                           mode="lines" if dense else "lines+markers", name="sleep (h)",
                           line={"color": COLOUR["sleep"]}, marker={"size": 4}, hoverinfo="skip", **ax[5]))
    if "stress" in daily:
        traces.append(dict(type="scatter", x=x, y=daily["stress"].to_numpy(dtype=float),
                           mode="lines" if dense else "markers", name="stress (1–5)",
                           line={"color": COLOUR["stress"], "width": 1}, marker={"color": COLOUR["stress"], "size": 6},
                           hoverinfo="skip", **ax[5]))
    if "core_n" in daily:
        core = daily["core_n"].to_numpy(dtype=float)
        traces.append(dict(type="bar", x=x, y=np.where(core > 0, core, np.nan), name="core sessions",
                           marker={"color": COLOUR["core"]}, opacity=0.6, hoverinfo="skip", **ax[5]))

    # Row 7: pain (markers only on days with a report when the span is long).
    if "pain_max" in daily:
        pain = daily["pain_max"].to_numpy(dtype=float)
        # hover gives the day's details here too: a rest day with pain has no load bar to hover
        traces.append(dict(type="scatter", x=x, y=pain, mode="lines+markers", connectgaps=False, name="pain",
                           line={"color": COLOUR["pain"]}, marker={"size": 6 if not dense else 4},
                           showlegend=False, hovertext=details, hoverinfo="text", **ax[6]))
        pflag = np.array(["pain" in (k or []) for k in daily.get("flag_kinds", [[]] * len(daily))], bool)
        if pflag.any():
            traces.append(dict(type="scatter", x=x[pflag], y=np.full(pflag.sum(), 10.5), mode="markers",
                               name="pain flag", marker={"symbol": "triangle-down", "color": COLOUR["flag"], "size": 8},
                               hovertext=[", ".join(f) for f in daily["flags"][pflag]], hoverinfo="text", **ax[6]))
        layout[_axis_key(ax[6]["yaxis"])]["range"] = [-0.5, 11]

    layout[_axis_key(ax[4]["yaxis"])]["title"] = {"text": "%"}
    layout[_axis_key(ax2[5]["yaxis"])]["title"] = {"text": "°"}
    for k in layout:
        if k.startswith("xaxis"):
            layout[k].update(showspikes=True, spikemode="across", spikethickness=1)
        elif k.startswith("yaxis"):
            layout[k]["nticks"] = 4  # rows are short: a few labels read better and measure faster
    layout.update(height=1350, margin={"l": 60, "r": 50, "t": 70, "b": 30}, bargap=0.15, hovermode="closest",
                  legend={"orientation": "h", "yanchor": "bottom", "y": 1.03, "x": 0}, shapes=shapes)
    return _figure(traces, layout)


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


#: Detected steps are marked one by one when at most this many are in view (zoom in to see them).
STEP_MARKERS_MAX = 1500


def signal_figure(t_s: np.ndarray, acc_norm_m_s2: np.ndarray, ic_s: np.ndarray, *,
                  x_range: tuple[float, float] | None = None, n_out: int = SIGNAL_POINTS,
                  title: str = "Acceleration magnitude with detected steps") -> go.Figure:
    """The raw signal (|acceleration|, m/s², orientation-free) with the detected steps (IC) marked.

    Long signals are downsampled for display (:func:`downsample`); zooming
    re-draws the visible range at full detail (the page calls this again with
    ``x_range``).  Every detected step in view is marked when there are at
    most :data:`STEP_MARKERS_MAX`; with more (a long run seen whole), the
    figure says how many there are and to zoom in, rather than showing a
    misleading subset.  SVG traces, not WebGL: a few thousand points draw
    faster that way, and software-rendered WebGL (no GPU) is slow to start.
    """
    tx, ty = downsample(t_s, acc_norm_m_s2, n_out=n_out, x_range=x_range)
    traces = [dict(type="scatter", x=tx, y=ty, mode="lines", name="|acc| (m/s²)",
                   line={"color": COLOUR["signal"], "width": 1}, hoverinfo="x+y")]
    ic = np.asarray(ic_s, dtype=float)
    ic = ic[np.isfinite(ic)]
    if x_range is not None:
        ic = ic[(ic >= x_range[0]) & (ic <= x_range[1])]
    annotations = []
    if 0 < len(ic) <= STEP_MARKERS_MAX:
        yi = np.interp(ic, np.asarray(t_s, float), np.asarray(acc_norm_m_s2, float))
        traces.append(dict(type="scatter", x=ic, y=yi, mode="markers", name="step (IC)",
                           marker={"color": COLOUR["step"], "size": 6, "symbol": "triangle-up"}, hoverinfo="x"))
    elif len(ic):
        annotations.append({"text": f"{len(ic):,} detected steps in view: zoom in (under {STEP_MARKERS_MAX:,}) to see "
                                    "each one marked", "xref": "paper", "yref": "paper", "x": 1, "y": 1.02,
                            "xanchor": "right", "yanchor": "bottom", "showarrow": False,
                            "font": {"color": COLOUR["step"], "size": 12}})
    xaxis = {"title": {"text": "time from start (s)"}}
    if x_range is not None:
        xaxis["range"] = list(x_range)
    # (the legend, when there is one, sits between the title and the plot: a taller top margin for it)
    return _figure(traces, {"title": {"text": title}, "height": 320,
                            "margin": {"l": 60, "r": 20, "t": 60 if len(traces) > 1 else 40, "b": 55},
                            "xaxis": xaxis, "yaxis": {"title": {"text": "m/s²"}}, "annotations": annotations,
                            "showlegend": len(traces) > 1,
                            "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
                            "uirevision": "signal"})


#: Per-step metrics (:data:`analysis.pipeline.PER_STEP_METRICS`) as the dashboard shows them: column, label with
#: the unit shown, factor from the column's unit to that unit (from :data:`analysis.constants.METRIC_DISPLAY`).
STEP_METRICS = {c: (f"{name} ({unit})", scale) for c, (name, unit, scale, _) in METRIC_DISPLAY.items()}
#: Per-step metrics of the Run page's panels, in order: column, axis title, display factor.
STEP_PANELS = {c: STEP_METRICS[c] for c in
               ("cadence_spm", "contact_time_s", "strike_angle_deg", "impact_index", "trunk_lean_fwd_deg")}
#: Time windows across the view when there are too many steps to draw one by one.
STEP_WINDOWS = 300


def step_panels(steps: pd.DataFrame) -> list[str]:
    """The per-step metrics that have at least one value in ``steps``."""
    return [c for c in STEP_PANELS if c in steps and steps[c].notna().any()]


def window_stats(t: np.ndarray, y: np.ndarray, lo: float, hi: float, n_windows: int) -> pd.DataFrame:
    """Per time window of ``[lo, hi]`` (``n_windows`` equal windows): centre, min, median, max and n of ``y``.

    Windows without a finite value are left out.  For display only.
    """
    ok = np.isfinite(y)
    t, y = t[ok], y[ok]
    width = max(hi - lo, 1e-9) / n_windows
    k = np.clip(((t - lo) // width).astype(int), 0, n_windows - 1)
    g = pd.Series(y).groupby(k)
    out = pd.DataFrame({"min": g.min(), "median": g.median(), "max": g.max(), "n": g.size()})
    out.insert(0, "t", lo + (out.index.to_numpy() + 0.5) * width)
    return out.reset_index(drop=True)


def _band(w: pd.DataFrame, width: float) -> tuple[list, list]:
    """The min-to-max band of windows ``w`` (:func:`window_stats`) as closed polygons for ``fill="toself"``.

    One polygon per run of consecutive windows (``None`` between them), each window its full width.
    """
    xs: list = []
    ys: list = []
    t = w["t"].to_numpy()
    if not len(t):
        return xs, ys
    lo_all, hi_all = w["min"].to_numpy(), w["max"].to_numpy()
    for seg in np.split(np.arange(len(t)), np.flatnonzero(np.diff(t) > 1.5 * width) + 1):
        left, right = t[seg] - width / 2, t[seg] + width / 2
        upper_x = np.column_stack([left, right]).ravel()
        upper_y = np.repeat(hi_all[seg], 2)
        lower_y = np.repeat(lo_all[seg], 2)
        xs += upper_x.tolist() + upper_x[::-1].tolist() + [None]
        ys += upper_y.tolist() + lower_y[::-1].tolist() + [None]
    return xs, ys


def _gapped(w: pd.DataFrame, width: float, column: str) -> tuple[np.ndarray, np.ndarray]:
    """``w[column]`` against window centre with NaN where windows are missing (a line breaks there)."""
    t = w["t"].to_numpy()
    y = w[column].to_numpy(dtype=float)
    if len(t) < 2:
        return t, y
    gap = np.flatnonzero(np.diff(t) > 1.5 * width) + 1
    return np.insert(t, gap, t[gap - 1] + width), np.insert(y, gap, np.nan)


def per_step_figure(steps: pd.DataFrame, fatigue: list[dict] | None = None, *,
                    x_range_min: tuple[float, float] | None = None, markers_max: int = STEP_MARKERS_MAX,
                    n_windows: int = STEP_WINDOWS) -> go.Figure:
    """Per-step metrics across the run, with the early and late fifths of each running bout shaded.

    ``steps`` is ``Report.steps`` (times in s from the start); ``fatigue`` the
    summary's ``fatigue`` list (bouts with ``start_s``, ``end_s``,
    ``steps_per_fifth``).  ``x_range_min``: the view (minutes from the start).

    Display only: with at most ``markers_max`` steps in view every step is a
    marker (running blue, walking grey); with more (a long run seen whole) the
    view is cut into ``n_windows`` time windows and each shows the median of
    its steps (line) and their range, min to max (band), so that no step's
    value is hidden (a class with few steps in view, say 20 walking steps,
    keeps its markers).  Zooming in redraws the view step by step (the page calls
    this again with ``x_range_min``).
    """
    panels = step_panels(steps)
    if not panels:
        return _figure([], {"title": {"text": "No per-step values in this run"}, "height": 200})
    layout, ax, _ = _stack([STEP_PANELS[c][0] for c in panels], spacing=0.04)
    t_all = steps["ic_s"].to_numpy(dtype=float) / 60
    running_all = (steps["activity"] == "running").to_numpy(dtype=bool) if "activity" in steps else np.ones(len(t_all), bool)
    in_view = np.isfinite(t_all)
    if x_range_min is not None:
        in_view &= (t_all >= x_range_min[0]) & (t_all <= x_range_min[1])
    lo, hi = (x_range_min if x_range_min is not None else
              (float(np.nanmin(t_all)), float(np.nanmax(t_all))) if in_view.any() else (0.0, 1.0))
    per_step = int(in_view.sum()) <= markers_max
    width = max(hi - lo, 1e-9) / n_windows
    few = {r: int((in_view & (running_all == r)).sum()) <= markers_max for r in (True, False)}
    traces: list[dict] = []
    for i, c in enumerate(panels):
        y_all = steps[c].to_numpy(dtype=float) * STEP_PANELS[c][1]
        for running, colour, suffix in ((True, COLOUR["signal"], ""), (False, COLOUR["unknown"], " (walking)")):
            sel = in_view & (running_all == running) & np.isfinite(y_all)
            if not sel.any():
                continue
            t, y = t_all[sel], y_all[sel]
            if per_step or few[running]:  # (a few walking steps among many running ones: each shown)
                traces.append(dict(type="scatter", x=t, y=y, mode="markers", name=c + suffix, showlegend=False,
                                   marker={"size": 4, "color": colour}, hoverinfo="x+y", **ax[i]))
                continue
            w = window_stats(t, y, lo, hi, n_windows)
            bx, by = _band(w, width)
            traces.append(dict(type="scatter", x=bx, y=by, mode="lines", fill="toself", line={"width": 0},
                               fillcolor=colour, opacity=0.3, name=c + suffix + " (range)", showlegend=False,
                               hoverinfo="skip", **ax[i]))
            mx, my = _gapped(w, width, "median")
            _, mn = _gapped(w, width, "min")
            _, mxx = _gapped(w, width, "max")
            _, nn = _gapped(w, width, "n")
            traces.append(dict(type="scatter", x=mx, y=my, mode="lines", connectgaps=False,
                               name=c + suffix, showlegend=False, line={"color": colour, "width": 1.5},
                               customdata=np.column_stack([mn, mxx, nn]),
                               hovertemplate="%{x:.1f} min: median %{y:.3g} of %{customdata[2]} steps"
                                             "<br>range %{customdata[0]:.3g} – %{customdata[1]:.3g}<extra></extra>",
                               **ax[i]))
    shapes = []
    for b in fatigue or []:
        g = steps[(steps["bout"] == b.get("bout")) & running_all]
        k = int(b.get("steps_per_fifth", 0))
        if len(g) < 2 or k < 1:
            continue
        for part, colour in ((g.iloc[:k], COLOUR["early"]), (g.iloc[-k:], COLOUR["late"])):
            shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": part["ic_s"].iloc[0] / 60,
                           "x1": part["ic_s"].iloc[-1] / 60, "y0": 0, "y1": 1, "fillcolor": colour, "opacity": 0.12,
                           "line": {"width": 0}, "layer": "below"})
    for r in ax:
        layout[_axis_key(r["yaxis"])]["nticks"] = 5
    bottom = _axis_key(ax[-1]["xaxis"])
    layout[bottom]["title"] = {"text": "minutes from start"}
    if x_range_min is not None:
        layout[bottom]["range"] = list(x_range_min)
    note = ("each step" if per_step else
            f"{int(in_view.sum()):,} steps in view: median (line) and range (band) per {width * 60:.0f} s window; "
            f"zoom in (under {markers_max:,} steps) for each step")
    layout["annotations"].append({"text": note, "xref": "paper", "yref": "paper", "x": 0, "y": 1.0, "yanchor": "bottom",
                                  "xanchor": "left", "showarrow": False, "font": {"size": 11, "color": "#555"},
                                  "yshift": 18})  # (left: the mode bar is on the right)
    layout.update(height=170 * len(panels) + 60, margin={"l": 60, "r": 20, "t": 50, "b": 55}, shapes=shapes,
                  uirevision="steps")
    return _figure(traces, layout)


#: A recording whose running takes less than this share of it (an all-day recording with a run in it) opens on the
#: running, with this margin each side; the rest is a double-click away.
RUN_VIEW_SHARE_MAX = 0.5
RUN_VIEW_MARGIN_S = 60.0


def running_view(steps: pd.DataFrame, duration_s: float) -> tuple[float, float] | None:
    """The span (s from the start) a Run page opens on: the running steps with a minute each side, when they take
    less than half of the recording (a work day with a run in it); None (the whole recording) otherwise."""
    if "activity" not in steps or not len(steps):
        return None
    t = steps.loc[steps["activity"] == "running", "ic_s"].to_numpy(dtype=float)
    t = t[np.isfinite(t)]
    if len(t) < 2 or not duration_s or (t.max() - t.min()) >= RUN_VIEW_SHARE_MAX * duration_s:
        return None
    return max(0.0, float(t.min()) - RUN_VIEW_MARGIN_S), min(float(duration_s), float(t.max()) + RUN_VIEW_MARGIN_S)


def fatigue_rows(fatigue: list[dict]) -> list[dict]:
    """Early-versus-late rows for a table: one per bout and metric, flagged ones marked.

    ``fatigue`` is the ``summary.fatigue`` list of :func:`analysis.pipeline.fatigue`.  Metrics are named and
    scaled as in :data:`STEP_METRICS` (``step_time_s`` 0.36 is "step time (ms)" 360), with the digits they are
    shown with (:func:`fatigue_text`).
    """
    rows = []
    for b in fatigue or []:
        for m, v in b.get("metrics", {}).items():
            label, factor = STEP_METRICS.get(m, (m, 1.0))
            rows.append({
                # bouts counted from 1 for people (the analysis' index is 0-based)
                "bout": int(b.get("bout", 0)) + 1, "metric": label, "digits": METRIC_DISPLAY.get(m, (m, "", 1, 3))[3],
                "early": v["early"] * factor, "late": v["late"] * factor, "change": v["change"] * factor,
                "threshold": None if v.get("threshold") is None else (
                    v["threshold"] * (1.0 if m == "impact_index" else factor)),
                "flagged": bool(v.get("flagged")), "too_short_to_flag": bool(b.get("too_short_to_flag")),
            })
    return rows


def fatigue_numbers(row: dict) -> tuple[str, str, str]:
    """One :func:`fatigue_rows` row's early, late and change as texts ("353", "361", "+8"), with the digits the
    metric is shown with everywhere (:data:`analysis.constants.METRIC_DISPLAY`) and no "-0"."""
    d = row["digits"]

    def num(x, sign=""):
        return f"{round(x, d) + 0.0:{sign}.{d}f}"  # (+ 0.0: -0.0 prints as 0.0)

    return num(row["early"]), num(row["late"]), num(row["change"], "+")


def fatigue_text(row: dict) -> str:
    """"353 → 361 (+8)" (:func:`fatigue_numbers`)."""
    early, late, change = fatigue_numbers(row)
    return f"{early} → {late} ({change})"


def strike_figure(steps: pd.DataFrame, placement: str, sampling_rate_hz: float | None = None) -> go.Figure:
    """Foot-strike distribution (shoe: classes; lower back: impact-index histogram).

    The histogram is counted here (30 equal bins over the running steps'
    range, every step counted) and sent as bars, not as 20 000 values for the
    browser to bin.
    """
    run = steps[steps["activity"] == "running"] if "activity" in steps else steps
    layout = {"height": 300, "margin": {"l": 60, "r": 20, "t": 50, "b": 55}}
    if placement.startswith("foot"):
        order = ["rearfoot", "midfoot", "forefoot", "indeterminate"]
        counts = run["strike"].value_counts().reindex(order, fill_value=0) if len(run) else pd.Series(0, index=order)
        total = max(int(counts.sum()), 1)
        traces = [dict(type="bar", x=order, y=counts.to_numpy(), text=[f"{c / total:.0%}" for c in counts],
                       textposition="outside", marker={"color": [COLOUR["heel"], COLOUR["lean"], COLOUR["acwr"],
                                                                 COLOUR["unknown"]]})]
        layout.update(title={"text": "Foot strike (running steps)"}, yaxis={"title": {"text": "steps"}})
    else:
        vals = run["impact_index"].to_numpy(dtype=float) if "impact_index" in run else np.array([])
        vals = vals[np.isfinite(vals)]
        if len(vals):
            counts, edges = np.histogram(vals, bins=30)
            centres, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
        else:
            counts, centres, widths = np.array([]), np.array([]), np.array([])
        traces = [dict(type="bar", x=centres, y=counts, width=widths, name="impact index",
                       marker={"color": COLOUR["heel"], "line": {"color": "white", "width": 0.5}},
                       hovertemplate="%{x:.3g} g/s: %{y} steps<extra></extra>")]
        layout.update(title={"text": "Impact index per step (an indicator, not a foot-strike class)"},
                      xaxis={"title": {"text": "impact index (g/s)"}}, yaxis={"title": {"text": "steps"}},
                      bargap=0)
        if not len(vals):  # say why the chart is empty rather than show empty axes
            why = ("no running steps in this recording" if not len(run) else
                   f"no impact index for these steps: it needs a recording of {IMPACT_MIN_RATE_HZ:g} Hz or more, "
                   f"this one has {sampling_rate_hz:g} Hz"
                   if sampling_rate_hz is not None and sampling_rate_hz < IMPACT_MIN_RATE_HZ else
                   "no impact index for these steps (see the notes above)")
            layout["annotations"] = [{"text": why, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5,
                                      "showarrow": False, "font": {"size": 13, "color": "#555"}}]
    return _figure(traces, layout)


#: Points per line of the run comparison (display only).
COMPARE_POINTS = 1000


def compare_figure(steps_a: pd.DataFrame, steps_b: pd.DataFrame, labels: tuple[str, str]) -> go.Figure:
    """Two runs side by side: each per-step metric against the share of the run (0–100 %), rolling median of 15 steps.

    Lines longer than :data:`COMPARE_POINTS` are downsampled for display (MinMaxLTTB).
    """
    panels = [c for c in STEP_PANELS if c in step_panels(steps_a) or c in step_panels(steps_b)]
    layout, ax, _ = _stack([STEP_PANELS[c][0] for c in panels] or ["no per-step values"], spacing=0.05)
    traces: list[dict] = []
    for steps, label, colour in ((steps_a, labels[0], COLOUR["signal"]), (steps_b, labels[1], COLOUR["heel"])):
        run = steps[steps["activity"] == "running"]
        if len(run) < 2:
            continue
        t = run["ic_s"].to_numpy(dtype=float)
        share = 100 * (t - t[0]) / max(t[-1] - t[0], 1e-9)
        first = True
        for i, c in enumerate(panels):
            if c not in run:
                continue
            y = run[c].astype(float).rolling(15, center=True, min_periods=3).median().to_numpy() * STEP_PANELS[c][1]
            ok = np.isfinite(y)
            if not ok.any():  # a metric this sensor does not measure (all missing): no empty line
                continue
            x_d, y_d = downsample(share[ok], y[ok], n_out=COMPARE_POINTS)
            traces.append(dict(type="scatter", x=x_d, y=y_d, mode="lines", name=label, legendgroup=label,
                               showlegend=first, line={"color": colour}, **ax[i]))
            first = False
    layout[_axis_key(ax[-1]["xaxis"])]["title"] = {"text": "share of the run (%)"}
    layout.update(height=160 * max(len(panels), 1) + 80, margin={"l": 60, "r": 20, "t": 50, "b": 55},
                  legend={"orientation": "h", "y": 1.06})
    return _figure(traces, layout)


# ----------------------------------------------------------------------------
# Runners and live


def pain_trend(pains: pd.DataFrame, as_of: date, *, window_days: int = 7) -> dict:
    """Mean daily-highest pain in the last ``window_days`` against the window before, with a word.

    ``pains``: pain reports (``local_date``, ``rating``); the means are over the days with a report, as in the
    journal's pain flags (:func:`journal.rules.check_pain`).  Returns
    ``{"recent", "before", "word"}``; missing windows are None.  The word says
    which days it compares ("the 7 days to 02 Mar 2025 against the 7 before"),
    so that it is not read as the journal's pain flags, which look at other
    windows (three 7-day windows up to the day of the flag, 3 weeks of reports).
    """
    if pains is None or len(pains) == 0:
        return {"recent": None, "before": None, "word": "no pain reports"}
    daily = daily_max_pain(pains)
    end = pd.Timestamp(as_of)
    recent = daily[(daily.index > end - pd.Timedelta(days=window_days)) & (daily.index <= end)]
    before = daily[(daily.index > end - pd.Timedelta(days=2 * window_days))
                   & (daily.index <= end - pd.Timedelta(days=window_days))]
    r = float(recent.mean()) if len(recent) else None
    b = float(before.mean()) if len(before) else None
    last = f"the {window_days} days to {end:%d %b %Y}"
    if r is None:
        word = f"no reports in {last}"
    elif b is None:
        word = f"{r:.1f}/10 in {last} (none in the {window_days} before to compare with)"
    elif r > b + 0.5:
        word = f"rising ({b:.1f} → {r:.1f}/10: {last} against the {window_days} before)"
    elif r < b - 0.5:
        word = f"easing ({b:.1f} → {r:.1f}/10: {last} against the {window_days} before)"
    else:
        word = f"about level ({b:.1f} → {r:.1f}/10: {last} against the {window_days} before)"
    return {"recent": r, "before": b, "word": word}


def live_figure(window_s: float = 10.0) -> go.Figure:
    """The empty live trace that the Live page extends (``extendData``) with new samples."""
    fig = go.Figure(go.Scatter(x=[], y=[], mode="lines", name="vertical acceleration",
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


#: Sitting bouts by length, in the sitting colour's shades and the flag's red (not the activities' colours, which the
#: panel above uses for walking and running): under 30 min, 30 min to 2 h, 2 h or more.
BOUT_CLASSES = (("sitting < 30 min", "#DCC3D6"), ("sitting 30 min – 2 h", "#8C4F7E"), ("sitting ≥ 2 h", COLOUR["flag"]))


def bout_class(duration_s: float) -> int:
    """The index in :data:`BOUT_CLASSES` of a sitting bout ``duration_s`` long."""
    return 2 if duration_s >= SITTING_ALERTS_S[1] else 1 if duration_s >= SITTING_ALERTS_S[0] else 0


def bout_colour(duration_s: float) -> str:
    """Sitting bouts by length: under 30 min, 30 min to 2 h, 2 h or more."""
    return BOUT_CLASSES[bout_class(duration_s)][1]


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
                        subplot_titles=["Activity", "Sitting bouts by length, and the alerts they would have raised"])
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
        cls = np.array([bout_class(d) for d in dur])
        for k, (label, colour) in enumerate(BOUT_CLASSES):  # one legend entry per length class
            b, d = bouts[cls == k], dur[cls == k]
            if len(b):
                fig.add_trace(go.Bar(base=x_of(b["start_s"]), x=width(b["start_s"], b["end_s"]),
                                     y=["sitting"] * len(b), orientation="h", name=label, marker_color=colour,
                                     hovertext=[f"sitting {x / 60:.0f} min" for x in d], hoverinfo="text"), row=2, col=1)
        alerts = sitting_alerts(bouts)
        for th, symbol in zip(SITTING_ALERTS_S, ("circle", "x")):
            a = alerts[alerts["threshold_s"] == th]
            if len(a):
                fig.add_trace(go.Scatter(x=x_of(a["t_s"]), y=[f"alert {th / 60:.0f} min" if th < 3600 else
                                                                 f"alert {th / 3600:.0f} h"] * len(a),
                                         mode="markers", name=f"alert at {th / 60:.0f} min" if th < 3600 else
                                         f"alert at {th / 3600:.0f} h",
                                         marker=dict(symbol=symbol, size=10, color=COLOUR["flag"])), row=2, col=1)
    # the legend above the panels: below them it ran into the time axis' title
    fig.update_layout(height=540, barmode="overlay", margin=dict(l=110, r=20, t=90, b=40), template="plotly_white",
                      legend=dict(orientation="h", x=0, y=1.04, yanchor="bottom"))
    if start_utc is None:
        fig.update_xaxes(title_text="hours from the recording start", row=2, col=1)
    else:
        fig.update_xaxes(type="date", row=1, col=1)
        fig.update_xaxes(type="date", title_text=f"local time ({tz})", row=2, col=1)
    return fig
