"""Run: the signal with the detected steps, per-step form across the run, form under fatigue,
foot-strike distribution, and a second run side by side.

The per-step values come from the run's recording (analysed once, then cached
in the data directory, see :mod:`dashboard.data`).  Long signals are
downsampled for display only (MinMaxLTTB from plotly-resampler, a few
thousand points); zooming redraws the visible range at full detail.  Runs
without a recording (typed in, FIT only) show their summary.
"""

from __future__ import annotations

import math

import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from dashboard import figures as F
from dashboard.data import Settings, analysed_steps, open_journal, resolve_recording, signal_arrays
from dashboard.pages.common import CARD_STYLE, error, no_runner, table

PATH = "/run"
TITLE = "Run"


def _label(r) -> str:
    kind = r["kind"] if isinstance(r["kind"], str) else "run"
    return f"{pd.Timestamp(r['local_date']):%Y-%m-%d} {kind} {r['duration_s'] / 60:.0f} min (#{int(r['id'])})"


def _val(x, spec, unit="", scale=1.0):
    try:
        f = float(x) * scale
    except (TypeError, ValueError):
        return "–"
    return "–" if not math.isfinite(f) else f"{f:{spec}}{unit}"


def summary_rows(run: dict) -> list[tuple[str, str]]:
    """The run's figures as (label, text) pairs."""
    return [
        ("date", f"{pd.Timestamp(run['start_utc']):%Y-%m-%d %H:%M} UTC"),
        ("kind", run["kind"] if isinstance(run["kind"], str) else "–"),
        ("duration", _val(run["duration_s"], ".1f", " min", 1 / 60)),
        ("distance", _val(run["distance_m"], ".2f", " km", 1e-3)),
        ("session RPE", _val(run["rpe"], ".0f", "/10")),
        ("session load", _val(run["session_load_au"], ".0f", " au")),
        ("cadence", _val(run["cadence_spm"], ".0f", " steps/min")),
        ("heel-strike share", _val(run["heel_strike_share"], ".0f", " %", 100)),
        ("trunk lean forward", _val(run["trunk_lean_fwd_deg"], ".1f", "°")),
        ("trunk-lean drift (early → late)", _val(run["trunk_lean_fwd_drift_deg"], "+.1f", "°")),
        ("impact index (mean)", _val(run["impact_index_mean"], ".2f", " g/s")),
    ]


def _runs(settings: Settings, runner: str) -> pd.DataFrame:
    """The runner's runs with their 10 % check message (journal.rules.check_runs on session load)."""
    from journal.rules import check_runs

    with open_journal(settings) as j:
        runs = j.runs(runner=runner)
    if len(runs):
        runs = runs.join(check_runs(runs, load_col="session_load_au")[["message"]], on="id")
    return runs


def run_data(settings: Settings, run: dict) -> tuple[pd.DataFrame | None, dict | None, str]:
    """(steps, meta, message) of a run: the analysed recording, or why there is none."""
    path = resolve_recording(settings, run.get("recording_path"))
    if path is None:
        why = ("no recording stored with this run" if not run.get("recording_path") else
               f"the recording {run['recording_path']} is not in the data directory")
        return None, None, why + ": only the run's summary is shown."
    try:
        steps, meta = analysed_steps(settings, path)
    except (ValueError, OSError) as exc:
        return None, None, f"cannot analyse {path.name}: {exc}"
    return steps, meta, ""


def layout(settings: Settings, runner: str | None, query: dict) -> html.Div:
    if not runner:
        return no_runner()
    runs = _runs(settings, runner)
    if runs.empty:
        return html.Div([html.H2("Run"), html.P("No runs yet: add one on the Log page.")])
    ids = [int(i) for i in runs["id"]]
    try:
        rid = int(query.get("id", ids[-1]))
    except ValueError:
        rid = ids[-1]
    if rid not in ids:
        return html.Div([html.H2("Run"), error(f"run {rid} is not one of {runner}'s runs"),
                         dcc.Link("latest run", href="/run")])
    options = [{"label": _label(r), "value": int(r["id"])} for _, r in runs.iloc[::-1].iterrows()]
    run = runs.set_index("id").loc[rid].to_dict() | {"id": rid}
    cmp_id = query.get("compare")
    cmp_id = int(cmp_id) if cmp_id and cmp_id.isdigit() and int(cmp_id) in ids and int(cmp_id) != rid else None

    steps, meta, why = run_data(settings, run)
    flags = [t for t in (run.get("message"), run.get("intensity_reason") if run.get("intensity_flag") is True else None)
             if isinstance(t, str) and t]
    head = [
        html.H2(f"Run · {_label(run)}"),
        html.Div([
            html.Div(["run ", dcc.Dropdown(id="run-select", options=options, value=rid, clearable=False,
                                           style={"width": "26em"})]),
            html.Div(["compare with ", dcc.Dropdown(id="run-compare", options=options, value=cmp_id,
                                                    placeholder="another run…", style={"width": "26em"})]),
        ], style={"display": "flex", "gap": "2em"}),
        html.Div([table([{"k": k, "v": v} for k, v in summary_rows(run)], [("k", ""), ("v", "")], id="run-summary"),
                  html.Ul([html.Li(f"⚑ {f}") for f in flags]) if flags else None], style=CARD_STYLE),
        dcc.Store(id="run-id", data=rid),
    ]
    body: list = []
    if steps is None:
        body.append(html.P(why, id="run-no-steps", style={"color": "#555"}))
        fat = (run.get("analysis_summary") or {}).get("fatigue")
        if isinstance(fat, dict):  # a summary-only document: {"metric": {"change": …}}
            body.append(html.P("Early → late change stored with the run: " + ", ".join(
                f"{m} {v.get('change'):+.2f}" for m, v in fat.items() if isinstance(v, dict) and "change" in v)))
    else:
        path = resolve_recording(settings, run.get("recording_path"))
        t_s, acc = signal_arrays(path)
        fatigue = (meta.get("summary") or {}).get("fatigue") or []
        rows = F.fatigue_rows(fatigue)
        body += [
            dcc.Graph(id="run-signal", figure=F.signal_figure(t_s, acc, steps["ic_s"].to_numpy(dtype=float)),
                      config={"displaylogo": False}),
            html.P(f"{len(t_s):,} samples at {meta['sampling_rate_hz']:g} Hz, {len(steps):,} steps, sensor on the "
                   f"{meta['placement']}; the chart shows at most {F.SIGNAL_POINTS:,} points per view (zoom in for "
                   "full detail).", style={"color": "#555"}),
            *[html.P(f"note: {w}", style={"color": "#8a6d3b"}) for w in meta.get("warnings", [])],
            dcc.Graph(id="run-steps", figure=F.per_step_figure(steps, fatigue), config={"displaylogo": False}),
            html.Div([html.B("Form under fatigue: first against last fifth of each running bout"),
                      table([{**r, "early": f"{r['early']:.3g}", "late": f"{r['late']:.3g}",
                              "change": f"{r['change']:+.3g}", "flagged": "⚑ flagged" if r["flagged"] else ""}
                             for r in rows],
                            [("bout", "bout"), ("metric", "metric"), ("early", "early"), ("late", "late"),
                             ("change", "change"), ("flagged", "")], id="run-fatigue",
                            row_style=lambda r: {"color": "#b00020"} if r["flagged"] else None)
                      if rows else html.P("No running bout long enough (20 steps) to compare early and late.")],
                     style=CARD_STYLE),
            dcc.Graph(id="run-strike", figure=F.strike_figure(steps, meta["placement"]),
                      config={"displaylogo": False}),
        ]
    if cmp_id is not None:
        other = runs.set_index("id").loc[cmp_id].to_dict() | {"id": cmp_id}
        o_steps, _, o_why = run_data(settings, other)
        pairs = zip(summary_rows(run), summary_rows(other))
        body.append(html.Div([html.H3(f"Side by side: #{rid} and #{cmp_id}"),
                              table([{"k": a[0], "a": a[1], "b": b[1]} for a, b in pairs],
                                    [("k", ""), ("a", _label(run)), ("b", _label(other))], id="run-compare-table")],
                             style=CARD_STYLE))
        if steps is not None and o_steps is not None:
            body.append(dcc.Graph(id="run-compare-graph",
                                  figure=F.compare_figure(steps, o_steps, (f"#{rid}", f"#{cmp_id}"))))
        else:
            body.append(html.P("Per-step comparison needs both runs' recordings. " + (why or o_why),
                               style={"color": "#555"}))
    return html.Div(head + body)


def register(app, settings: Settings) -> None:
    @app.callback(Output("url", "search", allow_duplicate=True), Input("run-select", "value"),
                  Input("run-compare", "value"), State("url", "search"), prevent_initial_call=True)
    def _select(rid, cmp_id, search):
        new = f"?id={rid}" + (f"&compare={cmp_id}" if cmp_id and cmp_id != rid else "")
        return no_update if search == new else new

    @app.callback(Output("run-signal", "figure"), Input("run-signal", "relayoutData"), State("run-id", "data"),
                  State("runner", "value"), prevent_initial_call=True)
    def _zoom(relayout, rid, runner):
        """Redraw the visible range at full detail (the run is looked up again: the browser sends only its id)."""
        from dashboard.data import current_settings

        relayout = relayout or {}
        if "xaxis.range[0]" in relayout:
            x_range = (float(relayout["xaxis.range[0]"]), float(relayout["xaxis.range[1]"]))
        elif "xaxis.range" in relayout:
            x_range = tuple(map(float, relayout["xaxis.range"]))
        elif relayout.get("xaxis.autorange"):
            x_range = None
        else:
            return no_update
        s = current_settings()
        with open_journal(s) as j:
            runs = j.runs(runner=runner)
        row = runs[runs["id"] == rid]
        if row.empty:
            return no_update
        path = resolve_recording(s, row.iloc[0]["recording_path"])
        if path is None:
            return no_update
        steps, _ = analysed_steps(s, path)
        t_s, acc = signal_arrays(path)
        return F.signal_figure(t_s, acc, steps["ic_s"].to_numpy(dtype=float), x_range=x_range)
