"""Log: forms for pain, check-ins, core work and runs (with RPE), and uploads.

Each form goes through the journal's public methods, so the page refuses
exactly what the command line refuses, with the same message (a 12/10 pain
rating, a negative distance); nothing is stored then.  An upload is stored in
the data directory under a name made from its content, analysed in the
background (a recording takes seconds to minutes) with progress in the page,
then imported as one journal transaction.  A file that cannot be used gets a
clear message and is removed again: nothing half-stored.
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html, no_update

from dashboard.data import UPLOAD_TYPES, Settings, UploadError, import_upload, open_journal, store_upload
from dashboard.pages.common import CARD_STYLE, error, no_runner, ok
from journal.db import kind_text

PATH = "/log"
TITLE = "Log"
FIELD = {"display": "inline-flex", "flexDirection": "column", "marginRight": "1em", "marginBottom": "0.4em",
         "fontSize": "0.9em"}
UPLOAD_STEPS = 5


def _field(label: str, component) -> html.Label:
    return html.Label([label, component], style=FIELD)


def _num(id: str, value=None):
    """A number field without the browser's own min/max/step checks: the browser hands an out-of-range value to
    the page as "empty", so a sleep of 30 h or an RPE of 11 was saved as not given.  Every value goes to the journal,
    which refuses exactly what the command line refuses, with the same message."""
    return dcc.Input(id=id, type="number", value=value, debounce=False, step="any", style={"width": "7em"})


def layout(settings: Settings, runner: str | None, query: dict) -> html.Div:
    from journal.db import EXERCISE_CATEGORIES, LIFTING_LEVELS, PAIN_LOCATIONS, PAIN_TIMINGS, RUN_KINDS

    if not runner:
        return no_runner()
    with open_journal(settings) as j:
        runs = j.runs(runner=runner)
    run_opts = [{"label": f"{r['local_date']} {kind_text(r['kind'])} "
                          f"{r['duration_s'] / 60:.0f} min (#{int(r['id'])})", "value": int(r["id"])}
                for _, r in runs.iloc[::-1].iterrows()]
    kinds = [{"label": k, "value": k} for k in RUN_KINDS]
    return html.Div([
        html.H2(f"Log · {runner}"),
        # the forms save to the runner this page was made for (the heading's), whatever the picker shows meanwhile
        dcc.Store(id="log-runner", data=runner),
        html.Div([html.H3("Pain"),
                  _field("rating (0–10)", _num("log-pain-rating", 3)),
                  _field("where", dcc.Dropdown(id="log-pain-where", options=list(PAIN_LOCATIONS),
                                               value="lower-back-centre", clearable=False, style={"width": "14em"})),
                  _field("when", dcc.Dropdown(id="log-pain-when", options=list(PAIN_TIMINGS), value="after-run",
                                              clearable=False, style={"width": "12em"})),
                  _field("note", dcc.Input(id="log-pain-note", type="text", style={"width": "16em"})),
                  _field("felt at (local time)", dcc.Input(id="log-pain-at", type="text",
                                                           placeholder="YYYY-MM-DD HH:MM, empty: now")),
                  html.Button("Add pain report", id="log-pain-submit"),
                  html.Div(id="log-pain-result")], style=CARD_STYLE),
        html.Div([html.H3("Daily check-in"),
                  html.P("A day checked in without a pain report counts as pain-free (0/10) beside the other "
                         "factors; no run that day is a rest day.", style={"color": "#555"}),
                  _field("day", dcc.Input(id="log-ci-day", type="date")),
                  _field("sleep (h)", _num("log-ci-sleep", 7.5)),
                  _field("sleep quality (1–5)", _num("log-ci-quality", 4)),
                  _field("stress (1–5)", _num("log-ci-stress", 2)),
                  _field("sitting at work (h)", _num("log-ci-sitting", 6)),
                  _field("lifting", dcc.Dropdown(id="log-ci-lifting", options=list(LIFTING_LEVELS), value="none",
                                                 clearable=False, style={"width": "8em"})),
                  html.Button("Save check-in", id="log-ci-submit"),
                  html.Div(id="log-ci-result")], style=CARD_STYLE),
        html.Div([html.H3("Core and mobility"),
                  _field("exercise", dcc.Input(id="log-ex-name", type="text", value="plank")),
                  _field("kind", dcc.RadioItems(id="log-ex-category", options=list(EXERCISE_CATEGORIES), value="core",
                                                inline=True)),
                  _field("sets", _num("log-ex-sets", 3)),
                  _field("minutes", _num("log-ex-minutes", None)),
                  _field("day", dcc.Input(id="log-ex-day", type="date")),
                  html.Button("Add exercise", id="log-ex-submit"),
                  html.Div(id="log-ex-result")], style=CARD_STYLE),
        html.Div([html.H3("Run"),
                  _field("start (local time)", dcc.Input(id="log-run-start", type="text", placeholder="YYYY-MM-DD HH:MM")),
                  _field("duration (min)", _num("log-run-minutes", 45)),
                  _field("distance (km)", _num("log-run-km", None)),
                  _field("session RPE (0–10)", _num("log-run-rpe", 4)),
                  _field("kind", dcc.Dropdown(id="log-run-kind", options=kinds, value="easy", style={"width": "9em"})),
                  html.Button("Add run", id="log-run-submit"),
                  html.Div(id="log-run-result"),
                  html.H4("RPE of a run already in the journal (e.g. imported from a FIT file)"),
                  _field("run", dcc.Dropdown(id="log-rpe-run", options=run_opts,
                                             value=run_opts[0]["value"] if run_opts else None, style={"width": "24em"})),
                  _field("session RPE", _num("log-rpe-value", None)),
                  _field("kind", dcc.Dropdown(id="log-rpe-kind", options=kinds, style={"width": "9em"})),
                  html.Button("Set", id="log-rpe-submit"),
                  html.Div(id="log-rpe-result")], style=CARD_STYLE),
        html.Div([html.H3("Upload a recording or a FIT file"),
                  html.Ul([html.Li(f"{k}: {v}") for k, v in UPLOAD_TYPES.items()]),
                  html.P(f"Up to {settings.max_upload_bytes / 1e6:.0f} MB. The analysis runs in the background."),
                  _field("session RPE of the run", _num("log-up-rpe", None)),
                  _field("kind", dcc.Dropdown(id="log-up-kind", options=kinds, style={"width": "9em"})),
                  dcc.Upload(id="log-upload", children=html.Div(["Drop a file here or ", html.A("choose one")]),
                             multiple=False,
                             style={"border": "2px dashed #aaa", "borderRadius": "6px", "padding": "1.2em",
                                    "textAlign": "center", "margin": "0.5em 0"}),
                  html.Progress(id="log-progress", value="0", max=str(UPLOAD_STEPS), style={"width": "20em"}),
                  html.Span(id="log-progress-text", style={"marginLeft": "1em", "color": "#555"}),
                  html.Div(id="log-upload-result")], style=CARD_STYLE),
    ])


def _result(fn):
    """Run a journal write; the page shows its message, or the journal's refusal."""
    from journal.errors import JournalError

    try:
        return ok(fn())
    except (JournalError, ValueError, TypeError) as exc:
        return error(f"not saved: {exc}")


def _hours_s(h):
    return None if h is None else float(h) * 3600.0


def register(app, settings: Settings) -> None:
    from dashboard.data import current_settings

    @app.callback(Output("log-pain-result", "children"), Input("log-pain-submit", "n_clicks"),
                  State("log-runner", "data"), State("log-pain-rating", "value"), State("log-pain-where", "value"),
                  State("log-pain-when", "value"), State("log-pain-note", "value"), State("log-pain-at", "value"),
                  prevent_initial_call=True)
    def _pain(_, runner, rating, where, when, note, at):
        def go():
            if rating is None:
                raise ValueError("rating: give a number from 0 (none) to 10 (worst imaginable)")
            at_text = (at or "").strip() or None  # empty: now (as the CLI without --at)
            with open_journal(current_settings()) as j:
                pid = j.add_pain(rating, where=where, when=when, note=note or None, at=at_text, runner=runner)
            return (f"pain {rating}/10 ({where}, {when}"
                    + (f", felt at {at_text}" if at_text else "") + f") saved as report {pid}")
        return _result(go)

    @app.callback(Output("log-ci-result", "children"), Input("log-ci-submit", "n_clicks"), State("log-runner", "data"),
                  State("log-ci-day", "value"), State("log-ci-sleep", "value"), State("log-ci-quality", "value"),
                  State("log-ci-stress", "value"), State("log-ci-sitting", "value"), State("log-ci-lifting", "value"),
                  prevent_initial_call=True)
    def _checkin(_, runner, day, sleep_h, quality, stress, sitting_h, lifting):
        def go():
            with open_journal(current_settings()) as j:
                cid = j.add_checkin(day=day or None, sleep_s=_hours_s(sleep_h), sleep_quality=quality, stress=stress,
                                    work_sitting_s=_hours_s(sitting_h), lifting=lifting, runner=runner)
            return f"check-in of {day or 'today'} saved ({cid})"
        return _result(go)

    @app.callback(Output("log-ex-result", "children"), Input("log-ex-submit", "n_clicks"), State("log-runner", "data"),
                  State("log-ex-name", "value"), State("log-ex-category", "value"), State("log-ex-sets", "value"),
                  State("log-ex-minutes", "value"), State("log-ex-day", "value"), prevent_initial_call=True)
    def _exercise(_, runner, name, category, sets, minutes, day):
        def go():
            with open_journal(current_settings()) as j:
                eid = j.add_exercise(name, category=category, sets=sets,
                                     duration_s=None if minutes is None else float(minutes) * 60.0,
                                     day=day or None, runner=runner)
            return f"{category} exercise {name!r} saved ({eid})"
        return _result(go)

    @app.callback(Output("log-run-result", "children"), Input("log-run-submit", "n_clicks"),
                  State("log-runner", "data"), State("log-run-start", "value"), State("log-run-minutes", "value"),
                  State("log-run-km", "value"), State("log-run-rpe", "value"), State("log-run-kind", "value"),
                  prevent_initial_call=True)
    def _run(_, runner, start, minutes, km, rpe, kind):
        def go():
            if not start:
                raise ValueError("start: give the date and time the run began")
            if minutes is None:
                raise ValueError("duration: give the run's duration in minutes")
            with open_journal(current_settings()) as j:
                rid = j.add_run(start=start, duration_s=float(minutes) * 60.0,
                                distance_m=None if km is None else float(km) * 1000.0, rpe=rpe, kind=kind,
                                runner=runner)
            return f"run {rid} saved ({minutes:g} min, RPE {rpe if rpe is not None else '–'})"
        return _result(go)

    @app.callback(Output("log-rpe-result", "children"), Input("log-rpe-submit", "n_clicks"),
                  State("log-runner", "data"), State("log-rpe-run", "value"), State("log-rpe-value", "value"),
                  State("log-rpe-kind", "value"), prevent_initial_call=True)
    def _rpe(_, runner, rid, rpe, kind):
        def go():
            if rid is None:
                raise ValueError("run: choose a run")
            changes = {k: v for k, v in (("rpe", rpe), ("kind", kind)) if v is not None}
            if not changes:
                raise ValueError("nothing to change: give an RPE or a kind")
            with open_journal(current_settings()) as j:
                j.set_run(int(rid), runner=runner, **changes)
            return f"run {rid}: " + ", ".join(f"{k} {v}" for k, v in changes.items())
        return _result(go)

    @app.callback(Output("log-upload-result", "children"), Input("log-upload", "contents"),
                  State("log-upload", "filename"), State("log-runner", "data"), State("log-up-rpe", "value"),
                  State("log-up-kind", "value"), background=True,
                  progress=[Output("log-progress", "value"), Output("log-progress-text", "children")],
                  running=[(Output("log-upload", "disabled"), True, False)], prevent_initial_call=True)
    def _upload(set_progress, contents, filename, runner, rpe, kind):
        """Store, analyse and import one upload (runs in a worker process: ``settings`` comes by value)."""
        if not contents:
            return no_update
        name = filename or "upload"
        created = False
        path = None

        def progress(step: int, text: str) -> None:
            set_progress((str(step), text))

        try:
            progress(1, "storing the file")
            path, created = store_upload(settings, name, contents)
            msg = import_upload(settings, path, original_name=name, runner=runner, rpe=rpe, kind=kind,
                                progress=progress, created=created)
        except UploadError as exc:
            progress(0, "refused")
            return error(str(exc), id="log-upload-error")
        except Exception as exc:  # unreadable recording, not a FIT file, journal refusal: say what and where
            if created and path is not None:
                path.unlink(missing_ok=True)  # nothing half-stored
            progress(0, "not imported")
            text = str(exc).replace(str(path), name) if path is not None else str(exc)
            text = text if name in text else f"{name}: {text}"
            return error(f"not imported, nothing was stored: {text}", id="log-upload-error")
        progress(UPLOAD_STEPS, "done")
        return ok(msg)
