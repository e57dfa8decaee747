"""Day: the activity timeline of an all-day recording, sitting bouts coloured by length,
sit-stand transitions, and the alerts that would have fired at 30 min and 2 h.

The classification is :mod:`analysis.activity` (per second: lying, sitting,
standing, walking, running) and the per-day summary :mod:`analysis.days`.
The day is the one the runner lived: clock times and calendar days are in the
recording's own time zone when it names one (``extra.time_zone``, as
``backstride analyse`` uses it), else in the runner's; the page says which.
Recordings offered: the runner's own uploads (those the journal holds as the
recording of one of the runner's runs), the latest first shown, and the sample
work day, marked as such; another runner's uploads are never listed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from dashboard import figures as F
from dashboard.data import Settings, open_journal, resolve_recording
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
    """The recordings the Day page offers for ``runner``: the sample work day(s), and the runner's own: uploads
    (an upload is stored under the SHA-256 of its content) and files imported with ``backstride import``, those the
    journal holds as the recording of one of the runner's runs or as a file the runner imported (an all-day
    recording without running gives sitting days and no run).  Backstride Parquet recordings only (the page reads
    them in chunks); the runner's own in the order the journal imported them (the page opens on the latest)."""
    out = {f"sample: {p.stem}": p for p in sorted(settings.samples_dir.glob("*workday*.parquet"))}
    if not runner:
        return out
    uploads = settings.uploads_dir.resolve() if settings.uploads_dir.is_dir() else None
    with open_journal(settings) as j:
        paths = j.runs(runner=runner).get("recording_path", [])
        imports = j.imports(runner=runner)
    # when the runner imported each content or file (oldest first: a later import of the same one counts last)
    order = dict(zip(imports["sha256"], range(len(imports))))
    order.update((str(Path(p).resolve()), i) for i, p in enumerate(imports["path"]) if isinstance(p, str)
                 and Path(p).is_absolute())
    held = [resolve_recording(settings, rp) for rp in paths if isinstance(rp, str)]
    # a file imported from the command line that made no run (an all-day recording without running): its import's
    # path, resolved when imported (an upload's import names the browser's file name alone; its copy is found above
    # by its hash); a run's file is its recording_path
    held += [Path(p) for p, by_run in zip(imports["path"], imports["run_held"])
             if not by_run and isinstance(p, str) and Path(p).is_absolute() and Path(p).is_file()]
    own = {p.resolve() for p in held if p is not None and p.suffix.lower() == ".parquet"}
    if uploads is not None:
        own |= {p.resolve() for p in uploads.glob("*.parquet") if p.stem in order}

    def rank(p: Path) -> tuple:
        return (order.get(p.stem if p.parent == uploads else str(p), -1), p.name)

    names = [p.name for p in own if p.parent != uploads]
    for p in sorted(own, key=rank):
        if p.parent == uploads:
            out[f"upload: {p.stem[:12]}"] = p
        else:  # a file imported from the command line, by its name (its path when two share one)
            out[f"file: {p.name if names.count(p.name) == 1 else p}"] = p
    return out


def day_time_zone(meta: dict, runner_tz: str | None) -> tuple[str, str]:
    """``(zone, why)``: the IANA zone the Day page shows a recording in, and whose zone it is.

    The recording's own (``extra.time_zone``: where it was recorded) when it names a valid one, else the
    runner's, else UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    own = (meta.get("extra") or {}).get("time_zone")
    if isinstance(own, str) and own:
        try:
            return ZoneInfo(own).key, "the recording's time zone"
        except (ZoneInfoNotFoundError, ValueError):
            pass
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
