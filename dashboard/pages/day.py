"""Day: the activity timeline of an all-day recording, sitting bouts coloured by length,
sit-stand transitions, and the alerts that would have fired at 30 min and 2 h.

The classification is :mod:`analysis.activity` (per second: lying, sitting,
standing, walking, running) and the per-day summary :mod:`analysis.days`.
The day is the one the runner lived: clock times and calendar days are in the
recording's own time zone when it names one (``extra.time_zone``, as
``backstride analyse`` uses it), else in the runner's; the page says which.
Recordings offered: the runner's own (uploads and files imported from the command
line, :func:`dashboard.data.runner_recordings`), the page opening on the one
imported last, and the sample work day, marked as such; another runner's
recordings are never listed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from dashboard import figures as F
from dashboard.data import Settings, offered_recordings, open_journal
from dashboard.pages.common import CARD_STYLE, error, table, with_query

PATH = "/day"
TITLE = "Day"
#: The page draws Plotly graphs (the app starts loading plotly.js while the server builds it).
HAS_GRAPHS = True


def _available() -> bool:
    try:
        import analysis.activity  # noqa: F401
        import analysis.days  # noqa: F401
    except ImportError:
        return False
    return True


def day_sources(settings: Settings, runner: str | None) -> dict[str, Path]:
    """The recordings the Day page offers for ``runner``: the sample work day(s), then the runner's own
    (:func:`dashboard.data.offered_recordings`, the latest last: the page opens on it).  Backstride Parquet
    recordings (the page reads them in chunks) worn where the day's activity can be read (not a shoe's)."""
    offered = offered_recordings(settings, runner, sorted(settings.samples_dir.glob("*workday*.parquet")))
    return {name: p for name, p in offered.items() if p.suffix.lower() == ".parquet" and _worn_for_the_day(p)}


def _worn_for_the_day(path: Path) -> bool:
    """Whether the all-day analysis can read the recording ``path`` by where it was worn: on the lower back or a
    thigh, not a shoe.  A file whose metadata cannot be read is kept (the page then says what is wrong with it)."""
    from analysis.activity import ACTIVITY_PLACEMENTS, iter_parquet_chunks

    try:
        meta, _ = iter_parquet_chunks(path, 60.0)  # the file's footer only
    except (ValueError, OSError):
        return True
    return meta.get("placement") in (*ACTIVITY_PLACEMENTS, None)


def day_time_zone(meta: dict, runner_tz: str | None) -> tuple[str, str]:
    """``(zone, why)``: the IANA zone the Day page shows a recording in, and whose zone it is.

    The recording's own (``extra.time_zone``: where it was recorded) when it names a valid one, else the
    runner's, else UTC."""
    from analysis.days import known_zone

    own = (meta.get("extra") or {}).get("time_zone")
    if known_zone(own):
        return known_zone(own), "the recording's time zone"
    if runner_tz:
        return runner_tz, "the runner's time zone" + (f" (the recording's {own!r} is not a time zone)" if own else
                                                      "; the recording names none")
    return "UTC", "no time zone known"


def layout(settings: Settings, runner: str | None, query: dict) -> html.Div:
    if not _available():
        return html.Div([html.H2("Day"), html.P("The all-day activity analysis (analysis.activity, analysis.days) "
                                                "is not available in this version.", id="day-unavailable")])
    sources = day_sources(settings, runner)
    own = [k for k in sources if not k.startswith("sample:")]
    # the runner's latest upload; the sample work day only for a runner who has none
    name = query.get("rec") if query.get("rec") in sources else (own[-1] if own else next(iter(sources), None))
    head = [html.H2("Day"),
            dcc.Dropdown(id="day-source", options=list(sources), value=name, clearable=False, style={"width": "26em"})]
    if name is None:
        return html.Div(head + [html.P("No all-day recording yet: upload one on the Log page.")])
    if name.startswith("sample:"):
        head.append(html.P("This is the sample work day (simulated), not " + (f"{runner}'s" if runner else "a runner's")
                           + (": pick one of your own above." if own else
                              ": upload an all-day recording on the Log page to see your own."),
                           id="day-sample-note", style={"color": "#8a6d3b"}))
    runner_tz = None
    if runner:
        with open_journal(settings) as j:
            runner_tz = j.runner(runner).timezone
    try:
        body = _day_body(sources[name], runner_tz)
    except (ValueError, OSError) as exc:
        body = [error(f"cannot analyse {name}: {exc}", id="day-error")]
    return html.Div(head + body)


def _day_body(path: Path, runner_tz: str | None) -> list:
    from analysis.activity import activity_from_parquet
    from analysis.days import day_summaries

    result, meta = activity_from_parquet(path)
    start = pd.Timestamp(meta["start_utc"]) if meta.get("start_utc") else None
    tz, why = day_time_zone(meta, runner_tz)
    zone_note = (html.P(f"Clock times and days in {tz} ({why}).", id="day-zone", style={"color": "#555"})
                 if start is not None else
                 html.P("The recording has no start time: hours are counted from its start.", id="day-zone",
                        style={"color": "#555"}))
    fig = F.day_figure(result.activities, result.transitions, result.sitting_bouts, start, tz)
    alerts = F.sitting_alerts(result.sitting_bouts)
    days = day_summaries(result, start.to_pydatetime() if start is not None else None, tz)
    rows = [{"date": d.get("date") or d.get("day_index"),
             "sitting": "–" if d.get("sitting_s") is None else f"{d['sitting_s'] / 3600:.1f} h",
             "longest": "–" if d.get("longest_sitting_s") is None else f"{d['longest_sitting_s'] / 60:.0f} min",
             "ge30": d.get("bouts_ge_30min", "–"), "ge2h": d.get("bouts_ge_2h", "–"),
             "breaks": "–" if d.get("breaks_per_sitting_h") is None else f"{d['breaks_per_sitting_h']:.1f}",
             "flags": ", ".join(d.get("flags") or [])} for d in days]
    n30 = int((alerts["threshold_s"] == F.SITTING_ALERTS_S[0]).sum())
    n2h = int((alerts["threshold_s"] == F.SITTING_ALERTS_S[1]).sum())
    return [
        zone_note,
        dcc.Graph(id="day-graph", figure=fig, config={"displaylogo": False}),
        html.P(f"Alerts that would have fired: {n30} at 30 min of sitting (time to get up and walk), {n2h} at 2 h "
               f"(a bout long enough to stiffen the lower back). {len(result.transitions)} sit-stand transitions.",
               id="day-alerts"),
        html.Div(table(rows, [("date", "day"), ("sitting", "sitting"), ("longest", "longest bout"),
                              ("ge30", "bouts ≥ 30 min"), ("ge2h", "bouts ≥ 2 h"), ("breaks", "breaks per sitting h"),
                              ("flags", "flags")], id="day-summary"), style=CARD_STYLE),
        *[html.P(f"note: {w}", style={"color": "#8a6d3b"}) for w in result.warnings],
    ]


def register(app, settings: Settings) -> None:
    @app.callback(Output("url", "search", allow_duplicate=True), Input("day-source", "value"),
                  State("url", "search"), prevent_initial_call=True)
    def _pick(name, search):
        new = with_query(search, rec=name)
        return no_update if search == new else new
