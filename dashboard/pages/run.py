"""Run: the signal with the detected steps, per-step form across the run, form under fatigue,
foot-strike distribution, and a second run side by side.

The per-step values come from the run's recording (analysed once, then cached
in the data directory with the signal to draw, see :mod:`dashboard.data`).
Long signals are downsampled for display only (MinMaxLTTB from
plotly-resampler, a few thousand points) and a long run's per-step values are
drawn as median and range per time window; zooming either chart redraws the
visible range at full detail, step by step.  Runs without a recording (typed
in, FIT only) show their summary.
"""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from analysis.constants import FATIGUE_MIN_FLAG_BOUT_S
from dashboard import figures as F
from dashboard.data import (Settings, analysed_steps, cached, display_signal, journal_version, open_journal,
                            recording_key, resolve_recording)
from dashboard.pages.common import CARD_STYLE, error, no_runner, run_start, ok, table, with_query
from journal.db import kind_text

PATH = "/run"
TITLE = "Run"
#: The page draws Plotly graphs (the app starts loading plotly.js while the server builds it).
HAS_GRAPHS = True


def _label(r) -> str:
    kind = kind_text(r["kind"])
    return f"{pd.Timestamp(r['local_date']):%Y-%m-%d} {kind} {r['duration_s'] / 60:.0f} min (#{int(r['id'])})"


def summary_rows(run: dict, tz: str) -> list[tuple[str, str]]:
    """The run's figures as (label, text) pairs; its start as clock time in ``tz`` (the runner's time zone,
    in which the journal dates the run), the zone named."""
    return [
        ("start", run_start(run, tz)),
        ("kind", kind_text(run["kind"], "–")),
        ("duration", F.number_text(run["duration_s"], ".1f", " min", 1 / 60)),
        ("distance", F.number_text(run["distance_m"], ".2f", " km", 1e-3)),
        ("session RPE", F.number_text(run["rpe"], ".0f", "/10")),
        ("session load", F.number_text(run["session_load_au"], ".0f", " au")),
        ("cadence", F.number_text(run["cadence_spm"], ".0f", " steps/min")),
        ("heel-strike share", F.number_text(run["heel_strike_share"], ".0f", " %", 100)),
        ("trunk lean forward", F.number_text(run["trunk_lean_fwd_deg"], ".1f", "°")),
        ("trunk-lean drift (early → late)", F.number_text(run["trunk_lean_fwd_drift_deg"], "+.1f", "°")),
        ("impact index (mean)", F.number_text(run["impact_index_mean"], ".2f", " g/s")),
    ]


def stale_rows(run: dict, run_fields: dict | None, tz: str) -> list[tuple[str, str, str]]:
    """(label, journal's text, current analysis's text) for each summary figure that the analysis of the run's
    recording by this version (``run_fields``, see :func:`dashboard.data.cache_report`) shows differently from
    the journal, whose figures were made when the run was imported (perhaps by an older version).  Only what
    :meth:`journal.Journal.refresh_analysis` would replace is compared (a FIT file's cadence, a typed duration
    are the run's own)."""
    from journal.load import session_load_au
    from journal.store import analysed_columns

    if not run_fields or not run.get("analysis_summary"):
        return []
    cadence = run.get("cadence_spm")
    fit_cadence = isinstance(run.get("fit_path"), str) and cadence is not None and math.isfinite(cadence)
    cols = analysed_columns(run.get("source"), fit_cadence, run.get("other_sensor_fields") or ())
    now = dict(run) | {k: run_fields.get(k) for k in cols if not (k == "duration_s" and run_fields.get(k) is None)}
    if now["duration_s"] != run["duration_s"]:
        now["session_load_au"] = session_load_au(now["duration_s"], run.get("rpe"))
    return [(k, was, is_) for (k, was), (_, is_) in zip(summary_rows(run, tz), summary_rows(now, tz)) if was != is_]


def summary_card(run: dict, tz: str, stale: list[tuple[str, str, str]] = ()) -> list:
    """The run's summary table and flags, and, when the journal's figures are not what the current analysis of the
    recording gives, what differs, with a button that puts the current figures into the journal."""
    flags = [t for t in (run.get("message"), run.get("intensity_reason") if run.get("intensity_flag") is True else None,
                         run.get("form_reason")) if isinstance(t, str) and t]
    out = [table([{"k": k, "v": v} for k, v in summary_rows(run, tz)], [("k", ""), ("v", "")], id="run-summary"),
           html.Ul([html.Li(f"⚑ {f}") for f in flags]) if flags else None, ten_percent_note(run)]
    if stale:
        out.append(html.Div([
            html.P("This summary was made when the run was imported; this version of backstride analyses the "
                   "recording (the charts below) differently:"),
            html.Ul([html.Li(f"{k}: {is_} now, {was} in the journal") for k, was, is_ in stale]),
            html.Button("Update the journal from the current analysis", id="run-refresh", n_clicks=0),
        ], id="run-stale", style={"color": "#8a6d3b"}))
    return out


def ten_percent_note(run: dict) -> html.P | None:
    """What the 10 % rule said of this run when it raised no flag: within it, or why it could not be checked (a first
    run of its kind, or one earlier: "fine" would be a guess)."""
    from journal.rules import RUN_LOOKBACK_DAYS, RUN_MIN_COMPARABLE

    flag, n = run.get("ten_pct_flag"), run.get("comparable_n")
    if flag is True or n is None or (isinstance(n, float) and math.isnan(n)):
        return None
    kind = run.get("kind") if isinstance(run.get("kind"), str) else None
    than = f"recent {kind} runs" if kind else "recent runs"
    if flag is False:
        text = f"10 % rule: within 10 % of the longest and heaviest of the {int(n)} {than} before it."
    else:
        if n < RUN_MIN_COMPARABLE:
            text = (f"10 % rule not checked: {int(n)} earlier {kind + ' ' if kind else ''}run{'' if n == 1 else 's'} "
                    f"in the {RUN_LOOKBACK_DAYS} days before (it compares with at least {RUN_MIN_COMPARABLE}).")
        else:
            text = "10 % rule not checked: the duration or session load of this run or of those before it is not known."
    return html.P(text, id="run-ten-percent", style={"color": "#555"})


def _runs(settings: Settings, runner: str) -> pd.DataFrame:
    """The runner's runs with their 10 % check message (journal.rules.check_runs on session load) and their
    form-under-fatigue flag (journal.rules.check_form)."""
    from journal.rules import check_form, check_runs

    with open_journal(settings) as j:
        runs = j.runs(runner=runner)
    if len(runs):
        checks = check_runs(runs, load_col="session_load_au")[["message", "flag", "comparable_n"]]
        runs = runs.join(checks.rename(columns={"flag": "ten_pct_flag"}), on="id")
        runs = runs.join(check_form(runs), on="id")
    return runs


def runner_timezone(settings: Settings, runner: str) -> str:
    """The runner's time zone (IANA), in which the journal dates their runs and the pages show clock times."""
    def read():
        with open_journal(settings) as j:
            return j.runner(runner).timezone
    return cached(("timezone", journal_version(settings), runner), read)


def run_data(settings: Settings, run: dict) -> tuple[pd.DataFrame | None, dict | None, str]:
    """(steps, meta, message) of a run: the analysed recording, or why there is none."""
    stored = run.get("recording_path")
    path = resolve_recording(settings, stored)
    if path is None:
        why = (f"the recording {stored} is not in the data directory" if isinstance(stored, str) and stored else
               "no recording stored with this run")
        return None, None, why + ": only the run's summary is shown."
    try:
        steps, meta = cached(("steps", recording_key(path)), lambda: analysed_steps(settings, path))
    except (ValueError, OSError) as exc:
        return None, None, f"cannot analyse {path.name}: {exc}"
    return steps, meta, ""


def run_view(settings: Settings, path: Path, steps: pd.DataFrame, meta: dict) -> dict:
    """The figures of an analysed recording (pure: the page caches them by the recording's cache key)."""
    t_s, acc = display_signal(settings, path)
    fatigue = (meta.get("summary") or {}).get("fatigue") or []
    # an all-day recording with a run in it opens on the run (a double-click shows the whole recording)
    view = F.running_view(steps, float(t_s[-1]) if len(t_s) else 0.0)
    return {"fatigue": fatigue, "n_samples": len(t_s), "view_s": view, "duration_s": float(t_s[-1]) if len(t_s) else 0.0,
            "signal": F.signal_figure(t_s, acc, steps["ic_s"].to_numpy(dtype=float), x_range=view),
            "per_step": F.per_step_figure(steps, fatigue,
                                          x_range_min=None if view is None else (view[0] / 60, view[1] / 60)),
            "strike": F.strike_figure(steps, meta["placement"], meta.get("sampling_rate_hz"))}


def layout(settings: Settings, runner: str | None, query: dict) -> html.Div:
    if not runner:
        return no_runner()
    runs = cached(("runs", journal_version(settings), runner), lambda: _runs(settings, runner))
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
    options = [{"label": _label(r), "value": int(r["id"])} for r in runs.iloc[::-1].to_dict("records")]
    run = runs.set_index("id").loc[rid].to_dict() | {"id": rid}
    cmp_id = query.get("compare")
    cmp_id = int(cmp_id) if cmp_id and cmp_id.isdigit() and int(cmp_id) in ids and int(cmp_id) != rid else None

    tz = runner_timezone(settings, runner)
    steps, meta, why = run_data(settings, run)
    # the clinic report of the 8 weeks ending with this run, with this session
    report_q = urlencode({"runner": runner, "run": rid, "end": str(run["local_date"])})
    head = [
        html.H2(f"Run · {_label(run)}"),
        html.Div([
            html.Div(["run ", dcc.Dropdown(id="run-select", options=options, value=rid, clearable=False,
                                           style={"width": "26em"})]),
            html.Div(["compare with ", dcc.Dropdown(id="run-compare", options=options, value=cmp_id,
                                                    placeholder="another run…", style={"width": "26em"})]),
            html.A("clinic report with this session", id="run-report", href=f"/report.html?{report_q}",
                   target="_blank", style={"alignSelf": "flex-end"}),
        ], style={"display": "flex", "gap": "2em"}),
        html.Div(summary_card(run, tz, stale_rows(run, (meta or {}).get("run_fields"), tz)), id="run-summary-card",
                 style=CARD_STYLE),
        html.Div(id="run-refresh-message"),
        dcc.Store(id="run-id", data=rid),
        dcc.Store(id="run-runner", data=runner),  # the refresh and the zooms read the runner this page shows
    ]
    body: list = []
    if steps is None:
        body.append(html.P(why, id="run-no-steps", style={"color": "#555"}))
        fat = (run.get("analysis_summary") or {}).get("fatigue")
        if isinstance(fat, dict):  # a summary-only document: {"metric": {"change": …}}
            body.append(html.P("Early → late change stored with the run: " + ", ".join(
                f"{label} {v.get('change') * factor:+.3g}" for m, v in fat.items()
                if isinstance(v, dict) and "change" in v
                for label, factor in [F.STEP_METRICS.get(m, (m, 1.0))])))
    else:
        path = resolve_recording(settings, run.get("recording_path"))
        view = cached(("run-view", recording_key(path)), lambda: run_view(settings, path, steps, meta))
        fatigue = view["fatigue"]
        body += [
            dcc.Graph(id="run-signal", figure=view["signal"], config={"displaylogo": False}),
            html.P(f"{view['n_samples']:,} samples at {meta['sampling_rate_hz']:g} Hz, {len(steps):,} steps, sensor on the "
                   f"{meta['placement']}; the chart shows at most {F.SIGNAL_POINTS:,} points per view (zoom in for "
                   "full detail).", style={"color": "#555"}),
            *([html.P(f"The charts open on the running, minutes {view['view_s'][0] / 60:.0f} to "
                      f"{view['view_s'][1] / 60:.0f} of this {view['duration_s'] / 3600:.1f} h "
                      "recording; double-click a chart to see all of it.", id="run-view-note",
                      style={"color": "#555"})] if view.get("view_s") else []),
            *[html.P(f"note: {w}", style={"color": "#8a6d3b"}) for w in meta.get("warnings", [])],
            dcc.Graph(id="run-steps", figure=view["per_step"], config={"displaylogo": False}),
            html.Div([html.B("Form under fatigue: first against last fifth of each running bout"),
                      fatigue_table(fatigue)], style=CARD_STYLE),
            dcc.Graph(id="run-strike", figure=view["strike"], config={"displaylogo": False}),
        ]
    if cmp_id is not None:
        other = runs.set_index("id").loc[cmp_id].to_dict() | {"id": cmp_id}
        o_steps, _, o_why = run_data(settings, other)
        pairs = zip(summary_rows(run, tz), summary_rows(other, tz))
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


def fatigue_table(fatigue: list[dict]) -> html.Table | html.P:
    """Early → late (change) per running bout (rows) and metric (columns); flagged changes in red with ⚑.

    One row per bout keeps a 2-hour run's table short (20 rows rather than 160) and quick to build.
    """
    rows = F.fatigue_rows(fatigue)
    if not rows:
        return html.P("No running bout long enough (20 steps) to compare early and late.")
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    by_bout: dict[int, dict] = {}
    for r in rows:
        by_bout.setdefault(r["bout"], {})[r["metric"]] = r
    head = html.Thead(html.Tr([html.Th("bout")] + [html.Th(m) for m in metrics]))
    body = []
    for bout, cells in by_bout.items():
        short = any(r["too_short_to_flag"] for r in cells.values())
        tds = [html.Td(f"{bout} (under {FATIGUE_MIN_FLAG_BOUT_S:.0f} s: a start and a stop, not flagged)" if short
                       else str(bout))]
        for m in metrics:
            r = cells.get(m)
            if r is None:
                tds.append(html.Td("–"))
                continue
            text = F.fatigue_text(r)
            tds.append(html.Td(text + " ⚑ flagged", className="flagged", style=FLAGGED_STYLE) if r["flagged"]
                       else html.Td(text))
        body.append(html.Tr(tds))
    return html.Table([head, html.Tbody(body)], id="run-fatigue", className="fatigue",
                      style={"borderCollapse": "collapse", "fontSize": "0.85em"})


FLAGGED_STYLE = {"color": "#b00020", "fontWeight": "bold"}


def _x_range(relayout: dict | None) -> tuple[float, float] | None | bool:
    """The x range a zoom asked for: ``(lo, hi)``, None for "all" (autorange), False for no x change.

    The per-step panels share one x axis, so the zoom of any of them (``xaxis3.range[0]``…) counts.
    """
    for key, val in (relayout or {}).items():
        axis, _, prop = key.partition(".")
        if not axis.startswith("xaxis"):
            continue
        if prop == "range[0]" and f"{axis}.range[1]" in relayout:
            return float(val), float(relayout[f"{axis}.range[1]"])
        if prop == "range" and isinstance(val, list) and len(val) == 2:
            return float(val[0]), float(val[1])
        if prop == "autorange" and val:
            return None
    return False


def _recording_of(settings: Settings, runner: str | None, rid) -> Path | None:
    runs = cached(("runs", journal_version(settings), runner), lambda: _runs(settings, runner))
    row = runs[runs["id"] == rid]
    return None if row.empty else resolve_recording(settings, row.iloc[0]["recording_path"])


def register(app, settings: Settings) -> None:
    @app.callback(Output("url", "search", allow_duplicate=True), Input("run-select", "value"),
                  Input("run-compare", "value"), State("url", "search"), prevent_initial_call=True)
    def _select(rid, cmp_id, search):
        new = with_query(search, id=rid, compare=cmp_id if cmp_id and cmp_id != rid else None)
        return no_update if search == new else new

    @app.callback(Output("run-summary-card", "children"), Output("run-refresh-message", "children"),
                  Input("run-refresh", "n_clicks"), State("run-id", "data"), State("run-runner", "data"),
                  prevent_initial_call=True)
    def _refresh(n_clicks, rid, runner):
        """Put the current analysis's figures into the journal and show the run's summary as it now stands."""
        from dashboard.data import current_settings, refresh_run_analysis
        from journal.store import ANALYSED_RUN_COLUMNS

        if not n_clicks:
            return no_update, no_update
        s = current_settings()
        try:
            changed = refresh_run_analysis(s, int(rid), runner)
        except (ValueError, OSError) as exc:
            return no_update, error(f"The journal was not changed: {exc}")
        run = _runs(s, runner).set_index("id").loc[int(rid)].to_dict() | {"id": int(rid)}
        what = ", ".join(ANALYSED_RUN_COLUMNS[k] for k in changed) or "nothing"
        return summary_card(run, runner_timezone(s, runner)), ok(
            f"Journal updated from the current analysis of the recording: {what}.")

    def _zoomed(relayout, rid, runner):
        """(settings, recording path, steps, meta, x range) for a zoom, or None when nothing is to redraw.

        The run is looked up again: the browser sends only its id."""
        from dashboard.data import current_settings

        x_range = _x_range(relayout)
        if x_range is False:
            return None
        s = current_settings()
        path = _recording_of(s, runner, rid)
        if path is None:
            return None
        steps, meta = cached(("steps", recording_key(path)), lambda: analysed_steps(s, path))
        return s, path, steps, meta, x_range

    @app.callback(Output("run-signal", "figure"), Input("run-signal", "relayoutData"), State("run-id", "data"),
                  State("run-runner", "data"), prevent_initial_call=True)
    def _zoom(relayout, rid, runner):
        """Redraw the visible range at full detail."""
        z = _zoomed(relayout, rid, runner)
        if z is None:
            return no_update
        s, path, steps, _, x_range = z
        t_s, acc = display_signal(s, path)
        return F.signal_figure(t_s, acc, steps["ic_s"].to_numpy(dtype=float), x_range=x_range)

    @app.callback(Output("run-steps", "figure"), Input("run-steps", "relayoutData"), State("run-id", "data"),
                  State("run-runner", "data"), prevent_initial_call=True)
    def _zoom_steps(relayout, rid, runner):
        """Per-step values of the visible range: each step once few enough are in view."""
        z = _zoomed(relayout, rid, runner)
        if z is None:
            return no_update
        _, _, steps, meta, x_range = z
        return F.per_step_figure(steps, (meta.get("summary") or {}).get("fatigue") or [], x_range_min=x_range)
