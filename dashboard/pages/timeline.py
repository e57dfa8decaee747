"""Timeline (home): load, ratios, sitting, form, check-ins, core work and pain on one time axis.

Hovering a day shows its details; clicking a run marker opens the run.  The
journal's pain prompts ("worth discussing with a physiotherapist") and the
lagged associations are shown below, worded as patterns, never as causes.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html, no_update

from dashboard import figures as F
from dashboard.data import Settings, cached, journal_version, open_journal
from dashboard.pages.common import CARD_STYLE, no_runner, query_of, with_query

PATH = "/"
TITLE = "Timeline"
#: The page draws Plotly graphs (the app starts loading plotly.js while the server builds it).
HAS_GRAPHS = True
WEEK_CHOICES = [("4", "4 weeks"), ("8", "8 weeks"), ("26", "6 months"), ("52", "1 year"), ("all", "all")]
LOAD_CHOICES = [("session", "session RPE × min"), ("duration", "running time"), ("trimp", "TRIMP (heart rate)"),
                ("mechanical", "steps × impact")]
DEFAULT_WEEKS, DEFAULT_LOAD = "8", "session"


def layout(settings: Settings, runner: str | None, query: dict) -> html.Div:
    if not runner:
        return no_runner()
    weeks = query.get("weeks", DEFAULT_WEEKS)
    weeks = weeks if weeks in {v for v, _ in WEEK_CHOICES} else DEFAULT_WEEKS
    load = query.get("load", DEFAULT_LOAD)
    load = load if load in {v for v, _ in LOAD_CHOICES} else DEFAULT_LOAD
    end = _day(query.get("end"))
    v = cached(("timeline", journal_version(settings), runner, weeks, load, end or "latest"),  # (None: not cached)
               lambda: timeline_view(settings, runner, weeks, load, end))
    tl, episodes, fig, assoc_lines = v["timeline"], v["episodes"], v["figure"], v["associations"]
    prompts = []
    latest = {}
    for pf in tl.pain_flags:  # one line per kind: the latest
        latest[pf.kind] = pf
    for pf in latest.values():
        prompts.append(html.Li(f"{pf.date:%d %b %Y}: {pf.message}"))
    return html.Div([
        html.H2(f"Timeline · {runner}"),
        html.Div([
            dcc.RadioItems(id="tl-weeks", options=[{"label": l, "value": v} for v, l in WEEK_CHOICES], value=weeks,
                           inline=True, inputStyle={"marginLeft": "0.8em"}),
            dcc.Dropdown(id="tl-load", options=[{"label": l, "value": v} for v, l in LOAD_CHOICES], value=load,
                         clearable=False, style={"width": "16em"}),
            html.Label(["ending ", dcc.DatePickerSingle(id="tl-end", date=end, clearable=True, first_day_of_week=1,
                                                        display_format="YYYY-MM-DD", placeholder="latest entry"),
                        html.Span(f" (empty: the latest entry, {tl.end:%d %b %Y})" if not end else "",
                                  id="tl-end-note", style={"color": "#555"})]),
        ], style={"display": "flex", "gap": "2em", "alignItems": "center", "flexWrap": "wrap"}),
        html.P(f"{tl.start:%d %b %Y} – {tl.end:%d %b %Y}. Red: flagged (a pattern worth a look, not a diagnosis). "
               "A red ring on a run's markers: its form drifted under fatigue. "
               "Grey ticks: days with nothing logged (unknown, not rest). Hover a day for its details; click a run "
               "marker to open the run.", style={"color": "#555"}),
        html.Div([html.B("Worth discussing with a physiotherapist who works with runners"), html.Ul(prompts)],
                 id="tl-prompts", style={**CARD_STYLE, "borderColor": "#E45756"}) if prompts else None,
        dcc.Graph(id="tl-graph", figure=fig, config={"displaylogo": False}),
        html.Div([
            html.B("Patterns in the period shown (associations, not causes)"),
            html.Ul([html.Li(t) for t in assoc_lines] or [html.Li("No factor goes with pain clearly enough "
                                                                   "(|ρ| ≥ 0.3 over 10 days or more) to mention.")]),
            html.P(_caveat(), style={"color": "#555"}),
        ], id="tl-associations", style=CARD_STYLE),
        html.Div([html.B("Pain after flagged days"),
                  html.Ul([html.Li(e.text) for e in episodes[-5:]] or [html.Li("none in the period shown")])],
                 style=CARD_STYLE),
        html.Div([html.B("Sitting"), html.P(tl.sitting_trend.text)], style=CARD_STYLE),
    ])


def _day(text: str | None) -> str | None:
    """A query's ``end=YYYY-MM-DD`` when it is a date, else None (the latest entry)."""
    from datetime import date

    try:
        return date.fromisoformat(text).isoformat() if text else None
    except ValueError:
        return None


def timeline_view(settings: Settings, runner: str, weeks: str, load: str, end: str | None = None) -> dict:
    """What the page shows, computed from the journal: the timeline, pain episodes, figure and association lines;
    the period ends on ``end`` (ISO date) or, without one, the runner's latest entry.

    A pure function of the journal's content (the page caches it by :func:`dashboard.data.journal_version`).
    """
    with open_journal(settings) as j:
        tl = j.timeline(runner=runner, weeks=None if weeks == "all" else int(weeks), load=load, end=end)
    assoc = tl.associations()  # over the period shown (the whole history with "all")
    return {"timeline": tl, "episodes": tl.pain_episodes(), "figure": F.timeline_figure(tl.daily, tl.weekly, tl.runs),
            "associations": F.association_lines(assoc)}


def _caveat() -> str:
    from journal.link import CAVEAT

    return CAVEAT


def register(app, settings: Settings) -> None:
    @app.callback(Output("url", "search", allow_duplicate=True), Input("tl-weeks", "value"),
                  Input("tl-load", "value"), Input("tl-end", "date"), State("url", "search"), prevent_initial_call=True)
    def _controls(weeks, load, end, search):
        now = query_of(search)
        shown = (now.get("weeks", DEFAULT_WEEKS), now.get("load", DEFAULT_LOAD), _day(now.get("end")))
        if shown == (weeks, load, _day(end)):
            return no_update  # what the page shows already (the date picker reports its empty date as it appears)
        # (keeps ?runner=: a shared address shows the same runner)
        new = with_query(search, weeks=weeks, load=load, end=_day(end))
        return no_update if search == new else new

    @app.callback(Output("url", "href", allow_duplicate=True), Input("tl-graph", "clickData"),
                  prevent_initial_call=True)
    def _open_run(click):
        for p in (click or {}).get("points", []):
            rid = p.get("customdata")
            if isinstance(rid, list):
                rid = rid[0] if rid else None
            if rid is not None:
                return f"/run?id={int(rid)}"
        return no_update
