"""The printable session report for the clinic file (HTML, and PDF where Chromium is installed).

``/report.html?runner=NAME[&run=ID][&weeks=8][&end=YYYY-MM-DD]`` and ``/report.pdf?…``; a parameter it
cannot read is answered with 400 and what was expected, a run not in the period with 404.  The
HTML is self-contained (no scripts, inline SVG charts) so that it prints the
same everywhere and can be filed as it is.  The PDF is that HTML printed by
headless Chromium (``chromium --print-to-pdf``); without Chromium the PDF
route says so and the HTML can be printed from any browser.

:func:`report_html` is pure: it takes the collected data (:func:`collect`)
and returns the document.
"""

from __future__ import annotations

import html as H
import math
import re
import shutil
import subprocess
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.data import Settings, open_journal
from dashboard.figures import number_text
from dashboard.pages.common import local_time, run_start
from journal.db import kind_text
from journal.link import week_change_text, week_load_text

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def collect(settings: Settings, runner: str, *, run_id: int | None = None, weeks: int = 8,
            end: date | str | None = None) -> dict:
    """Everything the report shows, read from the journal (and the run's recording if present): the ``weeks``
    calendar weeks to ``end`` (default: the runner's latest entry), the session of ``run_id`` (default: the
    period's last run).  ``InvalidValueError`` when ``run_id`` is not one of the runner's runs in the period."""
    from dashboard.pages.run import run_data
    from journal.errors import InvalidValueError

    with open_journal(settings) as j:
        info = j.runner(runner)
        tl = j.timeline(runner=runner, weeks=weeks, end=end)
        assoc = j.associations(runner=runner)
        pains = j.pain_reports(runner=runner, start=tl.start, end=tl.end)
    runs = tl.runs
    run = None
    steps_meta = (None, None, "")
    ids = [int(i) for i in runs["id"]] if len(runs) else []
    if run_id is not None and run_id not in ids:
        raise InvalidValueError("run", run_id, f"one of {runner}'s runs from {tl.start:%d %b %Y} to {tl.end:%d %b %Y}",
                                "give &end=YYYY-MM-DD (the run's day or later) for an earlier run")
    if ids:
        rid = run_id if run_id is not None else ids[-1]
        run = runs.set_index("id").loc[rid].to_dict() | {"id": rid}
        steps_meta = run_data(settings, run)
    return {"runner": info, "timeline": tl, "associations": assoc, "pains": pains, "run": run,
            "run_steps": steps_meta[0], "run_meta": steps_meta[1], "run_note": steps_meta[2],
            "generated_utc": datetime.now(timezone.utc)}


def svg_bars(values: list[float], labels: list[str], *, flags: list[bool] | None = None, width: int = 640,
             height: int = 140, unit: str = "", lower_bound: list[bool] | None = None,
             ticks: list[str] | None = None, top: float | None = None, zero_mark: bool = False) -> str:
    """A small bar chart as inline SVG (prints without scripts); NaN bars are left empty.

    A bar marked in ``lower_bound`` is a value known to be at least this much (a week with days unknown): it
    is drawn as an outline and labelled "≥ value", never as a total.  ``labels`` name the bars (their tooltips
    and, without ``ticks``, the axis); ``ticks`` (one per bar, "" for none) label the axis instead: a bar per day
    with a date under each Monday.  Values are written over the bars when they fit (bars 9 px wide or more).
    ``top``: the value of a full-height bar (a scale's end, 10 for pain); default the largest value.
    ``zero_mark``: a 0 is a short grey dash on the axis, not a "0" over an empty bar (a day checked in without
    pain, among 56)."""
    n = max(len(values), 1)
    finite = [v for v in values if v is not None and math.isfinite(v)]
    top = top if top is not None else max(finite) if finite else 1.0
    top = top if top > 0 else 1.0
    bw = (width - 40) / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" '
             f'font-family="sans-serif" font-size="10">']
    for i, v in enumerate(values):
        x = 30 + i * bw
        if zero_mark and v == 0:
            parts.append(f'<rect x="{x + 2:.1f}" y="{height - 3}" width="{max(bw - 4, 1):.1f}" height="3" '
                         f'fill="#BBBBBB"><title>{H.escape(labels[i])}: 0{unit}</title></rect>')
        elif v is not None and math.isfinite(v):
            h = (height - 15) * v / top
            colour = "#E45756" if flags and flags[i] else "#4C78A8"
            partial = bool(lower_bound and lower_bound[i])
            text = f"≥ {v:.0f}" if partial else f"{v:.0f}"
            paint = (f'fill="none" stroke="{colour}" stroke-dasharray="3,2"' if partial else f'fill="{colour}"')
            parts.append(f'<rect x="{x + 2:.1f}" y="{height - h:.1f}" width="{max(bw - 4, 1):.1f}" height="{h:.1f}" '
                         f'{paint}><title>{H.escape(labels[i])}: {text}{unit}</title></rect>')
            if bw >= 9:
                parts.append(f'<text x="{x + bw / 2:.1f}" y="{height - h - 3:.1f}" text-anchor="middle">{text}</text>')
        tick = labels[i] if ticks is None else ticks[i]
        if tick:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{height + 14}" text-anchor="middle">{H.escape(tick)}</text>')
    parts.append(f'<line x1="28" y1="{height}" x2="{width - 8}" y2="{height}" stroke="#999"/></svg>')
    return "".join(parts)


def _table(rows: list[list[str]], head: list[str], flagged: list[bool] | None = None) -> str:
    out = ["<table><thead><tr>", *[f"<th>{H.escape(h)}</th>" for h in head], "</tr></thead><tbody>"]
    for i, r in enumerate(rows):
        cls = ' class="flag"' if flagged and flagged[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{H.escape(str(c))}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


CSS = """
body { font-family: system-ui, sans-serif; font-size: 11pt; margin: 1.5cm; color: #222; }
h1 { font-size: 16pt; margin-bottom: 0; } h2 { font-size: 13pt; border-bottom: 1px solid #ccc; margin-top: 1.2em; }
table { border-collapse: collapse; font-size: 9pt; width: 100%; } th, td { text-align: left; padding: 2px 6px;
border-bottom: 1px solid #eee; } tr.flag td { color: #b00020; } .note { color: #555; font-size: 9pt; }
.prompt { border: 1px solid #E45756; padding: 0.4em 0.8em; border-radius: 4px; }
@page { size: A4; margin: 1.2cm; } @media print { body { margin: 0; } }
"""


def flags_by_day(daily: pd.DataFrame) -> list[tuple[pd.Timestamp, list[str]]]:
    """The flagged days of a timeline (``Timeline.daily``) with their flag texts, for a list a reader goes
    through: a pain flag raised again on the following days (the journal re-checks pain every day: "keeps rising"
    on five days running) is written once, on its first day, saying until when it held and, when its figures
    changed, the last day's (the first "1.0 → 3.0 → 5.4/10", the last "3.0 → 5.4 → 6.1/10")."""
    out: list[tuple[pd.Timestamp, list[str]]] = []
    # pain flag kind -> (entry, text index, last day, last day's text)
    streak: dict[str, tuple[int, int, pd.Timestamp, str]] = {}

    def close(key: str) -> None:
        entry, i, last, last_text = streak.pop(key)
        if last > out[entry][0]:
            figures = re.search(r"\(([^()]*)\)", last_text) if last_text != out[entry][1][i] else None
            out[entry][1][i] += (f" (raised again every day to {last:%a %d %b}"
                                 + (f"; on {last:%a %d %b}: {figures.group(1)}" if figures else "") + ")")

    for day, items in daily["flag_items"].items():
        day = pd.Timestamp(day)
        texts: list[str] = []
        for kind, text in items:
            key = text.split(" (")[0] if kind == "pain" else None
            if key in streak and streak[key][2] == day - pd.Timedelta(days=1):
                streak[key] = (*streak[key][:2], day, text)
                continue
            if key in streak:
                close(key)
            if key:
                streak[key] = (len(out), len(texts), day, text)
            texts.append(text)
        if texts:
            out.append((day, texts))
    for key in list(streak):
        close(key)
    return out


def report_html(d: dict) -> str:
    """The report document from :func:`collect`'s data."""
    from dashboard.figures import association_lines, fatigue_numbers, fatigue_rows

    info, tl = d["runner"], d["timeline"]
    tz = info.timezone
    wk = tl.weekly
    out = [f"<!doctype html><html><head><meta charset='utf-8'><title>backstride report: {H.escape(info.name)}"
           f"</title><style>{CSS}</style></head><body>",
           f"<h1>backstride session report: {H.escape(info.name)}</h1>",
           f"<p class='note'>{tl.start:%d %b %Y} – {tl.end:%d %b %Y} · generated "
           f"{H.escape(local_time(d['generated_utc'], tz))} · dates and times in the runner's time zone, "
           f"{H.escape(tz)}</p>",
           "<p class='note'>backstride measures and shows; it does not diagnose. A flag is a pattern worth a look "
           "(the 10 % rules, sitting 2 h in one go or 6 h a day, form that drifts under fatigue, pain that does not "
           "ease), not a finding.</p>"]
    latest = {}
    for pf in tl.pain_flags:
        latest[pf.kind] = pf
    if latest:
        out.append("<div class='prompt'><b>Worth discussing with a physiotherapist who works with runners</b><ul>"
                   + "".join(f"<li>{pf.date:%d %b %Y}: {H.escape(pf.message)}</li>" for pf in latest.values())
                   + "</ul></div>")

    out.append("<h2>Weekly load</h2>")
    if len(wk):
        labels = [f"{pd.Timestamp(w):%d %b}" for w in wk.index]
        # a week with days unknown has a lower bound, not a total ("unknown, never a silent zero"): "≥ 120",
        # as the command line's timeline says it
        partial = [bool(r["coverage"] < 1) for _, r in wk.iterrows()]
        out.append(svg_bars([float(v) for v in wk["load_known"]], labels,
                            flags=[f is True for f in wk["flag"]], unit=" au", lower_bound=partial))
        rows = [[f"{pd.Timestamp(w):%d %b %Y}", week_load_text(r["load_known"], r["coverage"]),
                 f"{int(r['known_days'])}/7",
                 week_change_text(r["increase"], r["flag"], r["unknown_days"], r["prev_unknown_days"]) or "–", int(r["runs_n"]) if pd.notna(r["runs_n"]) else "–",
                 number_text(r["duration_s"], ".0f", " min", 1 / 60), number_text(r["core_n"], ".0f"),
                 number_text(r["sitting_s"], ".1f", " h", 1 / 3600), "; ".join(x for x in (r["reason"], r["core_note"]) if x)]
                for w, r in wk.iterrows()]
        out.append(_table(rows, ["week of", "load (au)", "days known", "vs week before", "runs", "running",
                                 "core sessions", "sitting", "note"], [f is True for f in wk["flag"]]))

    daily = tl.daily
    flagged_days = flags_by_day(daily)
    out.append("<h2>Flags by day</h2>")
    out.append("<ul>" + "".join(f"<li>{pd.Timestamp(day):%a %d %b}: {H.escape('; '.join(fl))}</li>"
                                for day, fl in flagged_days) + "</ul>" if flagged_days else "<p>None.</p>")

    runs = tl.runs
    out.append("<h2>Runs</h2>")
    if len(runs):
        rows, fl = [], []
        for _, r in runs.iterrows():
            msgs = "; ".join(str(x) for x in (r.get("message"), r.get("intensity_reason") if r.get("intensity_flag")
                                                is True else "", r.get("form_reason")) if isinstance(x, str) and x)
            rows.append([f"{pd.Timestamp(r['local_date']):%a %d %b}", kind_text(r["kind"], "–"),
                         number_text(r["duration_s"], ".0f", " min", 1 / 60), number_text(r["distance_m"], ".1f", " km", 1e-3),
                         number_text(r["rpe"], ".0f"), number_text(r["session_load_au"], ".0f"), number_text(r["cadence_spm"], ".0f"),
                         number_text(r["heel_strike_share"], ".0f", " %", 100), number_text(r["trunk_lean_fwd_deg"], ".1f", "°"),
                         number_text(r["trunk_lean_fwd_drift_deg"], "+.1f", "°"), msgs])
            fl.append(bool(msgs))
        out.append(_table(rows, ["date", "kind", "time", "distance", "RPE", "load", "cadence", "heel strike",
                                 "trunk lean", "lean drift", "flag"], fl))
    else:
        out.append("<p>No runs in this period.</p>")

    run = d.get("run")
    if run is not None:
        out.append(f"<h2>Session: {H.escape(run_start(run, tz, '%a %d %b %Y %H:%M'))}, "
                   f"{H.escape(kind_text(run['kind']))}, "
                   f"{number_text(run['duration_s'], '.0f', ' min', 1 / 60)}</h2>")
        meta = d.get("run_meta")
        if meta is not None:
            rows = fatigue_rows((meta.get("summary") or {}).get("fatigue") or [])
            out.append(f"<p>Sensor on the {H.escape(str(meta.get('placement')))}; "
                       f"{len(d['run_steps'])} steps analysed. Form under fatigue (first against last fifth of "
                       "each running bout):</p>")
            out.append(_table([[r["bout"], r["metric"], *fatigue_numbers(r), "flag" if r["flagged"] else ""]
                               for r in rows],
                              ["bout", "metric", "early", "late", "change", ""], [r["flagged"] for r in rows]))
            for w in meta.get("warnings", []):
                out.append(f"<p class='note'>note: {H.escape(w)}</p>")
        else:
            out.append(f"<p class='note'>{H.escape(d.get('run_note') or '')}</p>")

    pains = d["pains"]
    out.append("<h2>Pain reports</h2>")
    if len(pains):
        # one bar per day of the period on a time axis (a date under each Monday): the day's highest rating, 0 on a
        # day checked in without pain, nothing on a day with neither (unknown)
        days = [pd.Timestamp(x) for x in daily.index]
        out.append(svg_bars([float(x) for x in daily["pain"]], [f"{x:%a %d %b}" for x in days], height=80,
                            unit="/10", top=10.0, zero_mark=True,
                            ticks=[f"{x:%d %b}" if x.weekday() == 0 else "" for x in days]))
        out.append("<p class='note'>Each day's highest rating; a grey dash: checked in without pain; blank: "
                   "nothing reported that day (unknown).</p>")
        out.append(_table([[local_time(r["reported_utc"], tz), f"{int(r['rating'])}/10",
                            r["location"], r["timing"], r["note"] if isinstance(r["note"], str) else ""]
                           for _, r in pains.iterrows()],  # no note: None or NaN in the frame, never "nan"
                          ["reported", "rating", "where", "when", "note"]))
    else:
        out.append("<p>No pain reports in this period.</p>")

    from journal.link import CAVEAT

    lines = association_lines(d["associations"])
    out.append("<h2>Patterns (associations over the whole journal, not causes)</h2>")
    out.append("<ul>" + "".join(f"<li>{H.escape(t)}</li>" for t in lines) + "</ul>" if lines else
               "<p>No factor goes with pain clearly enough to mention.</p>")
    out.append(f"<p class='note'>{H.escape(CAVEAT)}</p>")
    out.append(f"<p class='note'>Sitting: {H.escape(tl.sitting_trend.text)}</p>")
    out.append("</body></html>")
    return "".join(out)


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        p = shutil.which(name)
        if p:
            return p
    return None


def html_to_pdf(html_text: str, *, timeout_s: float = 60.0) -> bytes | None:
    """Print ``html_text`` to PDF with headless Chromium; None when no Chromium is installed."""
    exe = find_chromium()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix="backstride-report-") as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(html_text, encoding="utf-8")
        cmd = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--no-first-run",
               f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer", f"--print-to-pdf={out}", src.as_uri()]
        subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        return out.read_bytes() if out.is_file() and out.stat().st_size > 0 else None


def register_routes(server, settings: Settings) -> None:
    import flask

    def _args():
        from journal.errors import InvalidValueError, JournalError

        args = flask.request.args
        runner = args.get("runner")
        if not runner:
            flask.abort(flask.Response("give ?runner=NAME\n", 400, mimetype="text/plain"))
        run, weeks, end = args.get("run", ""), args.get("weeks", "8"), args.get("end") or None
        # a value the report cannot read is said, not replaced by a default (the clinic file must be what was asked)
        if run and not run.isdigit():
            flask.abort(flask.Response(f"run: got {run!r}, expected a run id (a whole number)\n", 400,
                                       mimetype="text/plain"))
        if not (weeks.isdigit() and 0 < int(weeks) <= 520):
            flask.abort(flask.Response(f"weeks: got {weeks!r}, expected a number of weeks from 1 to 520\n", 400,
                                       mimetype="text/plain"))
        try:
            return collect(settings, runner, run_id=int(run) if run else None, weeks=int(weeks), end=end)
        except InvalidValueError as exc:
            flask.abort(flask.Response(f"{exc}\n", 400 if exc.field == "end" else 404, mimetype="text/plain"))
        except JournalError as exc:
            flask.abort(flask.Response(f"{exc}\n", 404, mimetype="text/plain"))

    @server.route("/report.html")
    def _report_html():
        return flask.Response(report_html(_args()), mimetype="text/html")

    @server.route("/report.pdf")
    def _report_pdf():
        d = _args()
        pdf = html_to_pdf(report_html(d))
        if pdf is None:
            return flask.Response("PDF needs Chromium on the server (apt-get install chromium); "
                                  "open report.html and print it from your browser instead.\n", 503,
                                  mimetype="text/plain")
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", d["runner"].name)
        name = f"backstride-{safe}-{d['timeline'].end:%Y%m%d}.pdf"
        return flask.Response(pdf, mimetype="application/pdf",
                              headers={"Content-Disposition": f'inline; filename="{name}"'})
