"""Runners (for the physiotherapist): every runner with current flags, last session and pain trend,
and the printable session report for the clinic file."""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from dashboard import figures as F
from dashboard.data import Settings, open_journal
from dashboard.pages.common import CARD_STYLE, table
from journal.db import kind_text
from journal.rules import PAIN_THRESHOLD

PATH = "/runners"
TITLE = "Runners"
#: Flags raised in the last this-many days of a runner's journal count as "current".
CURRENT_DAYS = 7


def prompt_text(pain_flags) -> str:
    """The pain flags as one text, each with the day it was raised: a flag of 19 Feb ("pain keeps rising", over
    the three 7-day windows up to 19 Feb) beside the pain trend of the last 7 days must not read as today's."""
    return "; ".join(f"{pf.date:%d %b %Y}: {pf.message}" for pf in pain_flags)


def overview(settings: Settings) -> list[dict]:
    """One row per runner: current flags, last session, pain trend, physiotherapist prompt."""
    rows = []
    with open_journal(settings) as j:
        for info in j.runners():
            data = j.data(runner=info.name)
            logged = data.logged_dates()
            if not logged:
                rows.append({"name": info.name, "last": "nothing logged yet", "flags": "", "pain": "no pain reports",
                             "prompt": ""})
                continue
            tl = j.timeline(runner=info.name, weeks=2)
            recent = tl.daily[tl.daily.index > pd.Timestamp(tl.end) - pd.Timedelta(days=CURRENT_DAYS)]
            kinds = sorted({k for ks in recent["flag_kinds"] for k in ks})
            n_flags = sum(len(f) for f in recent["flags"])
            last = "no runs"
            if len(data.runs):
                r = data.runs.iloc[-1]
                last = (f"{pd.Timestamp(r['local_date']):%d %b %Y} {kind_text(r['kind'])}"
                        f" {r['duration_s'] / 60:.0f} min")
            latest = {pf.kind: pf for pf in tl.pain_flags}
            rows.append({"name": info.name, "last": last,
                         # the journal's last days, dated: a runner whose last entry is months old has no "current"
                         "flags": (f"{n_flags} in the {CURRENT_DAYS} days to {tl.end:%d %b %Y} ({', '.join(kinds)})"
                                   if n_flags else f"none in the {CURRENT_DAYS} days to {tl.end:%d %b %Y}"),
                         "pain": F.pain_trend(data.pains, tl.end)["word"],
                         "prompt": prompt_text(latest.values()),
                         "end": tl.end})
    return rows


def layout(settings: Settings, runner: str | None, query: dict) -> html.Div:
    rows = overview(settings)
    out = []
    for r in rows:
        q = urlencode({"runner": r["name"]})
        out.append({
            **r,
            "name": html.A(r["name"], href="#", id={"type": "runner-pick", "name": r["name"]}),
            "prompt": html.Span(r["prompt"], style={"color": "#b00020"}) if r["prompt"] else "",
            "report": html.Span([html.A("report (HTML)", href=f"/report.html?{q}", target="_blank"), " · ",
                                 html.A("PDF", href=f"/report.pdf?{q}", target="_blank")]),
        })
    return html.Div([
        html.H2("Runners"),
        html.P("Current flags are those of the last 7 days of each runner's journal, up to its latest entry (the "
               "date is given). Flags are patterns worth a look, not findings.", style={"color": "#555"}),
        html.P("Pain trend: the mean of each day's highest rating over the days with a report in the runner's last "
               "7 days against the 7 days before. A prompt is the latest of its kind in the last 2 calendar weeks, "
               "dated the day it was raised; \"keeps rising\" compares the weekly averages of the three 7-day windows "
               f"up to that day, with a day at {PAIN_THRESHOLD}/10 or more in the last.",
               style={"color": "#555"}),
        html.Div(table(out, [("name", "runner"), ("last", "last session"), ("flags", "current flags"),
                             ("pain", "pain trend"),
                             ("prompt", "prompt (day raised)"),
                             ("report", "session report")], id="runners-table"), style=CARD_STYLE),
    ])


def register(app, settings: Settings) -> None:
    from dash import ALL, ctx

    @app.callback(Output("runner", "value", allow_duplicate=True), Output("url", "href", allow_duplicate=True),
                  Input({"type": "runner-pick", "name": ALL}, "n_clicks"), prevent_initial_call=True)
    def _pick(clicks):
        if not ctx.triggered_id or not any(clicks or []):
            return no_update, no_update
        return ctx.triggered_id["name"], "/"
