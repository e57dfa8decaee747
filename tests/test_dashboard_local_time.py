"""The dashboard's clock times and days: in the runner's (or a recording's own) time zone, the zone named; the Day
page lists only the runner's own uploads; the clinic report's partial weeks are lower bounds ("≥"), as in the CLI.

Every expected value is built here from the entries the test makes (zoneinfo conversions, sums of the runs'
duration × RPE), not read from the dashboard's own helpers.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_recordings"
AMS = "Europe/Amsterdam"
#: When the sample work day begins (sample_recordings/make_workday.py: start_utc, time zone Amsterdam).
WORKDAY_START_UTC = datetime(2026, 5, 4, 6, 30, tzinfo=timezone.utc)


@pytest.fixture
def settings(tmp_path):
    from dashboard.data import Settings
    from journal import Journal

    url = f"sqlite:///{tmp_path / 'journal.sqlite3'}"
    with Journal.open(url) as j:
        j.add_runner("ams", timezone=AMS)
        j.add_runner("utc", timezone="UTC")
    return Settings(journal_url=url, data_dir=(tmp_path / "data").resolve())


def _find(component, id_: str):
    """The component with ``id_`` in a Dash layout tree (None when absent)."""
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    for c in children if isinstance(children, (list, tuple)) else [children] if children is not None else []:
        found = _find(c, id_)
        if found is not None:
            return found
    return None


def _text(component) -> str:
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    children = getattr(component, "children", None)
    if isinstance(children, (list, tuple)):
        return "".join(_text(c) for c in children)
    return _text(children)


def _table_rows(table) -> list[list[str]]:
    body = table.children[1]
    return [[_text(td) for td in tr.children] for tr in body.children]


class _Tables(HTMLParser):
    """The tables of an HTML document as lists of rows of cell texts, and the texts of each <svg>."""

    def __init__(self):
        super().__init__()
        self.tables, self.svgs = [], []
        self._cell = None
        self._in_svg_text = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "svg":
            self.svgs.append([])
        elif tag == "text":
            self._in_svg_text = True
            self.svgs[-1].append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell)
            self._cell = None
        elif tag == "text":
            self._in_svg_text = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._in_svg_text:
            self.svgs[-1][-1] += data


def _parse(html_text: str) -> _Tables:
    p = _Tables()
    p.feed(html_text)
    return p


# ----------------------------------------------------------------------------
# Run page and clinic report: local clock times, the zone named


def test_run_page_shows_the_start_in_the_runners_time_zone(settings):
    from dashboard.pages import run as run_page
    from journal import Journal

    with Journal.open(settings.journal_url) as j:
        rid = j.add_run(start="2025-03-01T00:30", duration_s=1800.0, rpe=4, runner="ams")
    # independent truth: half past midnight on 1 March in Amsterdam is 23:30 UTC the day before
    start = datetime(2025, 3, 1, 0, 30, tzinfo=ZoneInfo(AMS))
    assert start.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") == "2025-02-28 23:30"

    page = run_page.layout(settings, "ams", {"id": str(rid)})
    title = _text(page.children[0])
    assert "2025-03-01" in title
    rows = _table_rows(_find(page, "run-summary"))
    assert rows[0][1] == f"2025-03-01 00:30 ({AMS})"  # the first row: when the run started
    assert not any("UTC" in v or "2025-02-28" in v for _, v in rows)


def test_run_page_of_a_utc_runner_names_utc(settings):
    from dashboard.pages import run as run_page
    from journal import Journal

    with Journal.open(settings.journal_url) as j:
        rid = j.add_run(start="2025-03-01T00:30", duration_s=1800.0, rpe=4, runner="utc")
    rows = _table_rows(_find(run_page.layout(settings, "utc", {"id": str(rid)}), "run-summary"))
    assert rows[0][1] == "2025-03-01 00:30 (UTC)"


def test_a_run_entered_with_a_date_alone_shows_no_clock_time(settings):
    # the journal keeps such a run at noon so it sorts within its day; noon is not when it was run
    from dashboard.pages import run as run_page
    from dashboard.report import collect, report_html
    from journal import Journal

    with Journal.open(settings.journal_url) as j:
        rid = j.add_run(start="2025-03-01", duration_s=1800.0, rpe=4, kind="easy", runner="ams")
        timed = j.add_run(start="2025-03-02T12:00", duration_s=1800.0, rpe=4, runner="ams")
        runs = j.runs(runner="ams").set_index("id")
    assert not runs.loc[rid, "time_known"] and runs.loc[timed, "time_known"]
    rows = _table_rows(_find(run_page.layout(settings, "ams", {"id": str(rid)}), "run-summary"))
    assert rows[0][1] == "2025-03-01 (time not given)"
    rows = _table_rows(_find(run_page.layout(settings, "ams", {"id": str(timed)}), "run-summary"))
    assert rows[0][1] == f"2025-03-02 12:00 ({AMS})"  # a real noon keeps its clock time
    doc = report_html(collect(settings, "ams", run_id=rid))
    assert "Session: Sat 01 Mar 2025 (time not given), easy" in doc
    assert "12:00" not in doc


def test_run_page_says_what_the_10_percent_rule_said_or_why_it_could_not(settings):
    """Three easy runs of 40 min, then a long one of 95 min, then an easy one of 42 min: the first easy run and the
    long one cannot be checked (no earlier run of their kind: silence read as "fine"); the second easy run can't
    either (one earlier); the fifth is within 10 % of the recent easy runs; a flagged one carries its flag."""
    from dashboard.pages import run as run_page
    from journal import Journal

    with Journal.open(settings.journal_url) as j:
        ids = [j.add_run(start=f"2025-03-{d:02d}T08:00", duration_s=m * 60.0, rpe=4, kind=k, runner="ams")
               for d, m, k in ((1, 40, "easy"), (3, 40, "easy"), (5, 95, "long"), (7, 42, "easy"), (9, 60, "easy"))]

    def note(rid):
        return _text(_find(run_page.layout(settings, "ams", {"id": str(rid)}), "run-ten-percent"))

    assert note(ids[0]) == "10 % rule not checked: 0 earlier easy runs in the 28 days before (it compares with at least 2)."
    assert note(ids[1]) == "10 % rule not checked: 1 earlier easy run in the 28 days before (it compares with at least 2)."
    assert note(ids[2]).startswith("10 % rule not checked: 0 earlier long runs")
    assert note(ids[3]) == "10 % rule: within 10 % of the longest and heaviest of the 2 recent easy runs before it."
    page = _text(run_page.layout(settings, "ams", {"id": str(ids[4])}))
    assert "⚑ +43% longer than recent easy runs" in page and note(ids[4]) == ""


def test_a_run_without_a_recording_beside_one_with_it_shows_its_summary(settings, capsys):
    """A journal that mixes an analysed recording and a run typed by hand (or from a FIT file): the typed run's page,
    its comparison with the analysed one and its clinic report say it has no recording (its recording_path is
    missing beside a path: NaN in the journal's table, which was an HTTP 500)."""
    from dashboard.pages import run as run_page
    from dashboard.report import collect, report_html
    from journal import Journal
    from sensing.cli import main

    assert main(["import", str(SAMPLES / "sim_lower_back_run.parquet"), "--runner", "ams",
                 "--journal", settings.journal_url]) == 0
    capsys.readouterr()
    with Journal.open(settings.journal_url) as j:
        typed = j.add_run(start="2025-03-01T08:00", duration_s=1800.0, rpe=4, kind="easy", runner="ams")
        runs = j.runs(runner="ams").set_index("id")
    (analysed,) = [i for i in runs.index if i != typed]
    assert not isinstance(runs.loc[typed, "recording_path"], str)  # premise: missing beside a path
    for query in ({"id": str(typed)}, {"id": str(analysed), "compare": str(typed)}, {"id": str(typed), "compare": str(analysed)}):
        page = _text(run_page.layout(settings, "ams", query))
        assert "Run · " in page
    assert "no recording stored with this run: only the run's summary is shown." in _text(
        run_page.layout(settings, "ams", {"id": str(typed)}))
    assert "Session: Sat 01 Mar 2025" in report_html(collect(settings, "ams", run_id=typed, end=date(2025, 3, 1)))


def test_clinic_report_lists_pain_and_the_session_in_local_time(settings):
    from dashboard.report import collect, report_html
    from journal import Journal

    with Journal.open(settings.journal_url) as j:
        j.add_run(start="2025-03-01T00:30", duration_s=1800.0, rpe=4, kind="easy", runner="ams")
        j.add_pain(4, where="lower-back-centre", when="after-run", at="2025-03-01T01:10", runner="ams")
        j.add_pain(2, where="lower-back-centre", when="next-morning", at="2025-03-02T07:00", note="stiff",
                   runner="ams")
    doc = report_html(collect(settings, "ams"))
    pains = next(t for t in _parse(doc).tables if t[0][0] == "reported")
    assert pains[2][-1] == "stiff" and pains[1][-1] == ""  # a report without a note: empty, never "nan"
    # 01:10 in Amsterdam on 1 March (00:10 UTC): the local time, the zone named
    assert datetime(2025, 3, 1, 1, 10, tzinfo=ZoneInfo(AMS)).astimezone(timezone.utc).hour == 0
    assert pains[1][0] == f"2025-03-01 01:10 ({AMS})"
    assert "Session: Sat 01 Mar 2025 00:30 (Europe/Amsterdam), easy" in doc
    assert not re.search(r"\d\d:\d\d UTC", doc)  # no clock time left in UTC for an Amsterdam runner
    assert "time zone, Europe/Amsterdam" in doc
    # the pain chart is on a time axis: a bar per day of the report's 8 weeks (6 Jan to 2 Mar 2025), a date under
    # each of its 8 Mondays, a rating over the two days with a report, a grey dash (no "0") on the day checked in
    # without pain, nothing on the other days
    with Journal.open(settings.journal_url) as j:
        j.add_checkin(day="2025-02-28", sleep_s=7 * 3600.0, runner="ams")
    doc = report_html(collect(settings, "ams"))
    chart = _parse(doc).svgs[-1]
    assert chart == ["06 Jan", "13 Jan", "20 Jan", "27 Jan", "03 Feb", "10 Feb", "17 Feb", "24 Feb", "4", "2"]
    pain_part = doc[doc.index("<h2>Pain reports"):]
    bars = re.findall(r'<rect x="([\d.]+)"[^>]*><title>([^<]*)</title>', pain_part)
    assert [t for _, t in bars] == ["Fri 28 Feb: 0/10", "Sat 01 Mar: 4/10", "Sun 02 Mar: 2/10"]
    ticks = dict((d, float(x)) for x, d in re.findall(r'<text x="([\d.]+)" y="\d+" text-anchor="middle">'
                                                       r'(\d\d [A-Z][a-z]{2})</text>', pain_part))
    day_w = (ticks["24 Feb"] - ticks["17 Feb"]) / 7
    x = [float(b) for b, _ in bars]
    assert x[1] - x[0] == pytest.approx(day_w, abs=0.1) and x[2] - x[1] == pytest.approx(day_w, abs=0.1)  # a day apart
    assert ticks["24 Feb"] + 4.5 * day_w < x[1] < ticks["24 Feb"] + 5.5 * day_w           # Saturday: Monday + 5 days


# ----------------------------------------------------------------------------
# Clinic report: a week with days unknown is a lower bound, as in the CLI


def test_clinic_report_writes_partial_weeks_as_lower_bounds(settings):
    from datetime import date, timedelta

    from dashboard.report import collect, report_html
    from journal import Journal

    with Journal.open(settings.journal_url) as j:
        # week of Mon 17 Feb 2025: every day known (a check-in each day), one run of 40 min at RPE 5
        for k in range(7):
            j.add_checkin(day=date(2025, 2, 17) + timedelta(days=k), sleep_s=7 * 3600.0, runner="utc")
        j.add_run(start="2025-02-19T07:00", duration_s=40 * 60.0, rpe=5, runner="utc")
        # week of 24 Feb: nothing logged (0 of 7 days known)
        # week of 3 Mar: one run of 30 min at RPE 4 on Monday only (1 of 7 days known)
        j.add_run(start="2025-03-03T07:00", duration_s=30 * 60.0, rpe=4, runner="utc")
        # week of 10 Mar: one run of 60 min at RPE 5 on Monday (the report's last day)
        j.add_run(start="2025-03-10T07:00", duration_s=60 * 60.0, rpe=5, runner="utc")
    doc = report_html(collect(settings, "utc"))
    parsed = _parse(doc)
    weeks = {r[0]: r for r in next(t for t in parsed.tables if t[0][0] == "week of")[1:]}
    # session load = minutes × RPE (au): 40 × 5 = 200, and 30 × 4 = 120
    assert weeks["17 Feb 2025"][1:3] == ["200", "7/7"]
    assert weeks["24 Feb 2025"][1:3] == ["≥ 0", "0/7"]
    assert weeks["03 Mar 2025"][1:3] == ["≥ 120", "1/7"]
    # the change on the week before: "?" where unknown days leave it open, nothing without a day known or before
    j_rows = {k: v[3] for k, v in weeks.items()}
    assert j_rows["24 Feb 2025"] == "–" and j_rows["03 Mar 2025"] == "–"
    assert j_rows["10 Mar 2025"] == "+150% ?"     # 300 on ≥ 120: both weeks have unknown days
    # the weekly chart (the first one) says the same above its bars (its other texts are the weeks' dates)
    above_bars = [t for t in parsed.svgs[0] if not re.fullmatch(r"\d\d [A-Z][a-z]{2}", t)]
    assert above_bars[-4:] == ["200", "≥ 0", "≥ 120", "≥ 300"]


def test_week_load_text_marks_lower_bounds_only():
    from journal.link import week_load_text

    assert week_load_text(200.0, 7 / 7) == "200"
    assert week_load_text(0.0, 0 / 7) == "≥ 0"
    assert week_load_text(120.0, 6 / 7) == "≥ 120"
    assert week_load_text(float("nan"), 0.0) == "–"


def test_week_change_text_marks_an_open_comparison():
    from journal.link import week_change_text

    assert week_change_text(0.12, True) == "+12%" and week_change_text(-0.05, False) == "-5%"
    assert week_change_text(1.5, None) == "+150% ?"
    assert week_change_text(float("nan"), None) == ""
    assert week_change_text(0.2, True, 2, 0) == "≥ +20%" and week_change_text(0.05, False, 0, 1) == "≤ +5%"
    assert week_change_text(0.2, True, 0, 0) == "+20%" and week_change_text(0.05, False, 0, 0) == "+5%"


# ----------------------------------------------------------------------------
# Day page: the recording's own time zone; only the runner's own uploads


def _first_bar_local(fig) -> pd.Timestamp:
    return min(pd.Timestamp(min(t.base)) for t in fig.data if t.type == "bar" and t.base is not None)


def test_day_page_shows_the_recording_in_its_own_time_zone(settings):
    from dashboard.pages import day

    pytest.importorskip("analysis.days")
    page = day.layout(settings, "utc", {})  # a UTC runner; the sample work day was recorded in Amsterdam
    assert _find(page, "day-source").value == "sample: sim_workday"
    # a runner without an upload of their own sees the sample, and is told it is not theirs
    assert _text(_find(page, "day-sample-note")).startswith("This is the sample work day (simulated), not utc's")
    note = _text(_find(page, "day-zone"))
    assert note == f"Clock times and days in {AMS} (the recording's time zone)."
    fig = _find(page, "day-graph").figure
    local = WORKDAY_START_UTC.astimezone(ZoneInfo(AMS)).replace(tzinfo=None)  # 08:30 (summer time)
    assert _first_bar_local(fig) == pd.Timestamp(local)
    assert AMS in fig.layout.xaxis2.title.text


def test_day_page_uses_the_runners_zone_for_a_recording_without_one(settings, tmp_path):
    from dataclasses import replace

    from dashboard.data import Settings
    from dashboard.pages import day
    from sensing.formats import read_parquet, write_parquet

    pytest.importorskip("analysis.days")
    rec = read_parquet(SAMPLES / "sim_workday.parquet")
    samples = tmp_path / "samples"
    samples.mkdir()
    write_parquet(replace(rec, extra={k: v for k, v in (rec.extra or {}).items() if k != "time_zone"}),
                  samples / "plain_workday.parquet")
    s = Settings(journal_url=settings.journal_url, data_dir=settings.data_dir, samples_dir=samples)
    page = day.layout(s, "ams", {})
    assert _text(_find(page, "day-zone")).startswith(f"Clock times and days in {AMS} (the runner's time zone")
    local = WORKDAY_START_UTC.astimezone(ZoneInfo(AMS)).replace(tzinfo=None)
    assert _first_bar_local(_find(page, "day-graph").figure) == pd.Timestamp(local)
    page = day.layout(s, "utc", {})
    assert _first_bar_local(_find(page, "day-graph").figure) == pd.Timestamp(WORKDAY_START_UTC.replace(tzinfo=None))


def _upload(settings, runner: str, sample: Path) -> Path:
    """What the Log page does with a file: store it in the uploads folder, import it for ``runner``."""
    from dashboard.data import import_upload, store_upload

    contents = "data:application/octet-stream;base64," + base64.b64encode(sample.read_bytes()).decode()
    path, _ = store_upload(settings, sample.name, contents)
    import_upload(settings, path, original_name=sample.name, runner=runner)
    return path


def test_day_page_lists_only_the_runners_own_uploads(settings, tmp_path):
    from dataclasses import replace
    from datetime import timedelta

    from analysis.simulate import lower_back_run
    from dashboard.pages import day
    from sensing.formats import write_parquet

    a = _upload(settings, "ams", SAMPLES / "sim_lower_back_run.parquet")
    other, _ = lower_back_run(sampling_rate_hz=100.0, run_s=60.0, seed=8)
    write_parquet(other, tmp_path / "other_runner.parquet")
    b = _upload(settings, "utc", tmp_path / "other_runner.parquet")
    assert a.parent == b.parent == settings.uploads_dir.resolve() and a != b
    # a stray file in the uploads folder that no runner imported belongs to nobody
    shutil.copy(SAMPLES / "sim_workday.parquet", settings.uploads_dir / ("0" * 64 + ".parquet"))

    def offered(runner, query=None):
        picker = _find(day.layout(settings, runner, query or {}), "day-source")
        return sorted(o for o in picker.options if o.startswith("upload:")), picker.value

    name_a, name_b = f"upload: {a.stem[:12]}", f"upload: {b.stem[:12]}"
    assert offered("ams") == ([name_a], name_a)  # the page opens on the runner's own recording, not the sample
    # with two of their own, on the one imported last (whatever the files' dates); the sample says how to go back
    rec, _ = lower_back_run(sampling_rate_hz=100.0, run_s=60.0, seed=9)
    write_parquet(replace(rec, start_utc=rec.start_utc + timedelta(days=1)), tmp_path / "next_day_run.parquet")
    c = _upload(settings, "ams", tmp_path / "next_day_run.parquet")
    os.utime(c, (0, 0))  # a file dated 1970 (copied, restored): the journal's import order counts, not the file's
    name_c = f"upload: {c.stem[:12]}"
    assert offered("ams") == (sorted([name_a, name_c]), name_c)
    note = _text(_find(day.layout(settings, "ams", {"rec": "sample: sim_workday"}), "day-sample-note"))
    assert note.endswith("not ams's: pick one of your own above.")
    assert offered("utc")[0] == [name_b]
    # a query naming the other runner's upload does not show it
    assert offered("ams", {"rec": name_b})[1] != name_b
    assert [p for n, p in day.day_sources(settings, "ams").items() if n.startswith("upload:")] == [a, c]  # import order
    assert not any(n.startswith("upload:") for n in day.day_sources(settings, None))


def test_day_page_lists_an_all_day_upload_without_a_run_for_its_runner_only(settings, tmp_path):
    """A thigh sensor worn through a desk day (no running: the import stores sitting days, no run) is the
    uploader's: linked by the journal's import record of its content (the upload's file name is that hash)."""
    from datetime import datetime, timezone

    from analysis.simulate_day import simulate_day
    from dashboard.pages import day
    from journal import Journal
    from sensing.formats import write_parquet

    desk = [("standing", 60)] + [("sitting", 40 * 60), ("standing", 60), ("walking", 120)] * 16  # 11.5 h
    rec, _, _ = simulate_day(desk, sampling_rate_hz=12.5, placement="thigh-left",
                             start_utc=datetime(2026, 5, 4, 7, 0, tzinfo=timezone.utc), seed=4)
    write_parquet(rec, tmp_path / "desk_day.parquet")
    path = _upload(settings, "ams", tmp_path / "desk_day.parquet")
    with Journal.open(settings.journal_url) as j:
        assert len(j.sitting_days(runner="ams")) == 1 and len(j.runs(runner="ams")) == 0  # premise: days, no run
    name = f"upload: {path.stem[:12]}"
    assert day.day_sources(settings, "ams").get(name) == path
    assert name not in day.day_sources(settings, "utc")


def test_day_page_lists_recordings_imported_from_the_command_line(settings, tmp_path, monkeypatch, capsys):
    """`backstride import desk_day.parquet` (typed in the file's folder, no run: sitting days only) and an imported
    run recording: the Day page offers both to their runner, by file name, and opens on the one imported last."""
    from datetime import datetime, timezone

    from analysis.simulate_day import simulate_day
    from dashboard.pages import day
    from sensing.cli import main
    from sensing.formats import write_parquet

    desk = [("standing", 60)] + [("sitting", 40 * 60), ("standing", 60), ("walking", 120)] * 16  # 11.5 h
    rec, _, _ = simulate_day(desk, sampling_rate_hz=12.5, placement="thigh-left",
                             start_utc=datetime(2026, 5, 4, 7, 0, tzinfo=timezone.utc), seed=5)
    (tmp_path / "mine").mkdir()
    write_parquet(rec, tmp_path / "mine" / "desk_day.parquet")
    monkeypatch.chdir(tmp_path / "mine")
    for f in (str(SAMPLES / "sim_lower_back_run.parquet"), "desk_day.parquet"):  # a relative path, as typed
        assert main(["import", f, "--runner", "ams", "--journal", settings.journal_url]) == 0
    capsys.readouterr()
    monkeypatch.chdir(tmp_path)  # the dashboard runs elsewhere
    got = day.day_sources(settings, "ams")
    assert got["file: desk_day.parquet"] == (tmp_path / "mine" / "desk_day.parquet").resolve()
    assert got["file: sim_lower_back_run.parquet"] == (SAMPLES / "sim_lower_back_run.parquet").resolve()
    assert list(got)[-1] == "file: desk_day.parquet"                      # imported last
    assert _find(day.layout(settings, "ams", {}), "day-source").value == "file: desk_day.parquet"
    assert not any(n.startswith("file:") for n in day.day_sources(settings, "utc"))


def test_deleting_an_all_day_recordings_run_keeps_its_days_and_its_file(settings, tmp_path, capsys):
    """The sample work day imported from the command line gives a run (its afternoon run) and sitting days.  Deleting
    the run keeps the days linked to their file (the Day page still offers it); importing the file again gives the
    run back (it is not refused as a duplicate) without doubling the days."""
    import shutil

    from dashboard.pages import day
    from journal import Journal
    from sensing.cli import main

    work = tmp_path / "workday.parquet"
    shutil.copy(SAMPLES / "sim_workday.parquet", work)
    args = ["--runner", "ams", "--journal", settings.journal_url]
    assert main(["import", str(work), *args]) == 0
    with Journal.open(settings.journal_url) as j:
        (rid,) = j.runs(runner="ams")["id"]
        days = j.sitting_days(runner="ams")
    assert len(days) >= 1
    assert main(["run", "delete", str(rid), *args]) == 0
    with Journal.open(settings.journal_url) as j:
        assert len(j.runs(runner="ams")) == 0 and len(j.sitting_days(runner="ams")) == len(days)
        imports = j.imports(runner="ams")
    assert list(imports["path"]) == [str(work.resolve())] and not imports["run_held"].any()
    assert day.day_sources(settings, "ams")["file: workday.parquet"] == work.resolve()
    capsys.readouterr()
    assert main(["import", str(work), *args]) == 0
    assert "duplicate" not in capsys.readouterr().out
    with Journal.open(settings.journal_url) as j:
        assert len(j.runs(runner="ams")) == 1 and len(j.sitting_days(runner="ams")) == len(days)
        assert len(j.imports(runner="ams")) == 1
    assert list(day.day_sources(settings, "ams")).count("file: workday.parquet") == 1


def test_day_page_lists_a_file_once_and_never_a_path_an_upload_names(settings, tmp_path):
    """The demo's way (an analysis stored with its recording copied elsewhere, the import naming the original) is
    one entry, the copy; an upload whose browser file name is a path on the server names its own copy only."""
    import shutil

    from analysis.document import full_analysis
    from analysis.simulate import lower_back_run
    from dashboard.data import import_upload, store_upload
    from dashboard.pages import day
    from journal import Journal
    from journal.recordings import content_sha256
    from sensing.formats import open_recording, write_parquet

    copy = tmp_path / "copies" / "belt.parquet"
    copy.parent.mkdir()
    shutil.copy(SAMPLES / "sim_lower_back_run.parquet", copy)
    doc = full_analysis(open_recording(copy), timezone="UTC").doc
    with Journal.open(settings.journal_url) as j:
        j.import_analysis(doc, runner="ams", recording_path=str(copy),
                          source_path=str(SAMPLES / "sim_lower_back_run.parquet"), sha256=content_sha256(copy))
    assert [n for n in day.day_sources(settings, "ams") if not n.startswith("sample:")] == ["file: belt.parquet"]
    # an upload (sent as a crafted callback) whose file name is a server path
    secret = tmp_path / "elsewhere" / "other.parquet"
    secret.parent.mkdir()
    write_parquet(lower_back_run(sampling_rate_hz=100.0, run_s=60.0, seed=8)[0], secret)
    contents = "data:application/octet-stream;base64," + base64.b64encode(secret.read_bytes()).decode()
    path, _ = store_upload(settings, "belt.parquet", contents)
    import_upload(settings, path, original_name=str(secret), runner="utc")
    with Journal.open(settings.journal_url) as j:
        assert list(j.imports(runner="utc")["path"]) == ["other.parquet"]
    offered = day.day_sources(settings, "utc")
    assert secret not in offered.values() and secret.resolve() not in offered.values()
    assert offered[f"upload: {path.stem[:12]}"] == path


def test_live_page_replays_the_runners_own_recordings_only(settings, tmp_path, monkeypatch, capsys):
    """The Live page offers the sample recordings and the runner's own: an upload, and files imported from the
    command line in any format the replay reads (here BIDS-Motion, a shoe worn on the uploaded belt run: a second
    sensor on that run); another runner's upload is never offered."""
    from analysis.simulate import lower_back_run
    from dashboard.pages import live
    from sensing.bids import write_bids
    from sensing.cli import main
    from sensing.formats import open_recording, write_parquet

    mine = _upload(settings, "ams", SAMPLES / "sim_lower_back_run.parquet")
    write_parquet(lower_back_run(sampling_rate_hz=100.0, run_s=60.0, seed=8)[0], tmp_path / "their_belt.parquet")
    theirs = _upload(settings, "utc", tmp_path / "their_belt.parquet")
    motion = write_bids(open_recording(SAMPLES / "sim_shoe_run.parquet"), tmp_path / "bids", subject="01", task="run")
    assert main(["import", str(motion), "--runner", "ams", "--journal", settings.journal_url]) == 0
    assert "a second sensor (foot-left) on this run" in capsys.readouterr().out  # the same time span as the upload
    offered = live.replay_sources(settings, "ams")
    samples = sorted(f"sample: {p.stem}" for p in SAMPLES.glob("*.parquet"))
    assert sorted(n for n in offered if n.startswith("sample:")) == samples
    assert [n for n in offered if not n.startswith("sample:")] == [f"upload: {mine.stem[:12]}", f"file: {motion.name}"]
    assert offered[f"file: {motion.name}"] == motion.resolve()
    assert theirs not in offered.values()
    assert f"upload: {theirs.stem[:12]}" in live.replay_sources(settings, "utc")
    assert not any(not n.startswith("sample:") for n in live.replay_sources(settings, None))
    picker = _find(live.layout(settings, "ams", {}), "live-source")
    assert picker.options == list(offered) and picker.value == "sample: sim_lower_back_run"
    assert _find(live.layout(settings, "ams", {}), "live-runner").data == "ams"
    # a sample the runner imported is listed once, as theirs; the Day page leaves out a shoe's recordings (the day's
    # activity is read from the lower back or a thigh) and keeps the runner's belt recording
    assert main(["import", str(SAMPLES / "sim_shoe_run.parquet"), "--runner", "utc",
                 "--journal", settings.journal_url]) == 0
    capsys.readouterr()
    utc = live.replay_sources(settings, "utc")
    assert "file: sim_shoe_run.parquet" in utc and "sample: sim_shoe_run" not in utc
    assert list(utc).count("sample: sim_lower_back_run") == 1
    from dashboard.pages import day
    assert [n for n in day.day_sources(settings, "utc") if not n.startswith("sample:")] == [f"upload: {theirs.stem[:12]}"]
    assert [n for n in day.day_sources(settings, "ams") if not n.startswith("sample:")] == [f"upload: {mine.stem[:12]}"]
    # what the Start button replays: the file offered, read through the replay's own reader
    rec = open_recording(offered[f"file: {motion.name}"])
    assert rec.placement == "foot-left" and rec.sampling_rate_hz == open_recording(SAMPLES / "sim_shoe_run.parquet").sampling_rate_hz


def test_run_page_flags_form_that_drifted_under_fatigue(settings):
    from dashboard.pages import run as run_page
    from journal import Journal

    doc = {"schema": "backstride.analysis/1", "placement": "lower-back", "sampling_rate_hz": 100.0, "steps": [],
           "bouts": [], "warnings": [],
           "summary": {"start_utc": "2025-03-01T08:00:00+00:00", "duration_s": 3600.0, "n_steps": 10000,
                       "fatigue": {"trunk_lean_fwd_deg": {"change": 3.1}}}}
    with Journal.open(settings.journal_url) as j:
        (rid,) = j.import_analysis(doc, runner="ams", rpe=5).run_ids
    card = _text(_find(run_page.layout(settings, "ams", {"id": str(rid)}), "run-summary-card"))
    assert "⚑ form drifted under fatigue: trunk lean forward +3.1° (limit 2°)" in card


def test_run_view_of_a_work_day_opens_on_its_run(settings):
    """The sample work day (10.3 h with a ~30-min run in it) opens on the run, a minute each side; the sample run
    (all running) on the whole recording."""
    from dashboard.data import analysed_steps
    from dashboard.pages.run import run_view

    path = SAMPLES / "sim_workday.parquet"
    steps, meta = analysed_steps(settings, path)
    view = run_view(settings, path, steps, meta)
    running = steps.loc[steps["activity"] == "running", "ic_s"]
    lo, hi = view["view_s"]
    assert lo == pytest.approx(running.min() - 60.0) and hi == pytest.approx(running.max() + 60.0)
    assert hi - lo < 0.1 * view["duration_s"]  # the run is a small part of the day
    assert list(view["signal"].layout.xaxis.range) == [lo, hi]
    steps_x = [v for k, v in view["per_step"].layout.to_plotly_json().items() if k.startswith("xaxis") and "range" in v]
    assert [list(a["range"]) for a in steps_x] == [[lo / 60, hi / 60]]
    path = SAMPLES / "sim_lower_back_run.parquet"
    steps, meta = analysed_steps(settings, path)
    assert run_view(settings, path, steps, meta)["view_s"] is None


def test_clinic_report_writes_a_pain_flag_raised_on_consecutive_days_once():
    from dashboard.report import flags_by_day

    days = pd.date_range("2025-02-14", periods=8, freq="D")
    rising = ("pain", "pain keeps rising (weekly average of the days reported 1.0 → 3.0 → 5.4/10): see")
    higher = ("pain", "pain keeps rising (weekly average of the days reported 3.0 → 5.4 → 6.1/10): see")
    items = [[], [rising], [rising, ("acwr", "acute:chronic 1.63 (above 1.5)")], [higher], [], [rising], [],
             [("sitting", "7.0 h sitting (≥ 6 h)")]]
    daily = pd.DataFrame({"flag_items": items}, index=days)
    assert flags_by_day(daily) == [
        # 15-17 Feb: once, with the last day's figures
        (days[1], [rising[1] + " (raised again every day to Mon 17 Feb; on Mon 17 Feb: weekly average of the days "
                               "reported 3.0 → 5.4 → 6.1/10)"]),
        (days[2], ["acute:chronic 1.63 (above 1.5)"]),                         # other flags of those days stay
        (days[5], [rising[1]]),                                                # raised anew after a day without
        (days[7], ["7.0 h sitting (≥ 6 h)"]),
    ]


def test_clinic_report_route_says_what_it_cannot_read_and_reports_an_earlier_period(settings):
    """The report's address is what goes into a clinic file: a value it cannot read is answered with what was
    expected (not replaced by a default), and ``end`` reports a period before the runner's latest entry."""
    import flask

    from dashboard.report import register_routes
    from journal import Journal

    with Journal.open(settings.journal_url) as j:
        may = j.add_run(start="2026-05-04T18:00", duration_s=2400.0, rpe=4, kind="easy", runner="ams")
        j.add_pain(3, where="lower-back-centre", when="after-run", at="2026-11-20T08:00", runner="ams")
    server = flask.Flask("t")
    register_routes(server, settings)
    client = server.test_client()

    def get(q):
        r = client.get("/report.html?" + q)
        return r.status_code, r.get_data(as_text=True)

    code, text = get("runner=ams")  # the 8 weeks to the latest entry (the November pain): the May run is not in
    assert code == 200 and "No runs in this period." in text
    code, text = get(f"runner=ams&end=2026-05-10&run={may}")
    assert code == 200 and "Session: Mon 04 May 2026 18:00 (Europe/Amsterdam), easy, 40 min" in text
    assert get("runner=ams&weeks=abc") == (400, "weeks: got 'abc', expected a number of weeks from 1 to 520\n")
    assert get("runner=ams&run=x1")[0] == 400 and "a run id" in get("runner=ams&run=x1")[1]
    code, text = get(f"runner=ams&run={may}")  # a run outside the period is not swapped for another
    assert code == 404 and "give &end=YYYY-MM-DD" in text
    code, text = get("runner=ams&end=10 May")
    assert code == 400 and text.startswith("end: got '10 May', expected a date as YYYY-MM-DD")
    # the Run page links to the report of the weeks ending with its run, with that session
    from urllib.parse import parse_qs, urlparse

    from dashboard.pages import run as run_page

    link = _find(run_page.layout(settings, "ams", {"id": str(may)}), "run-report").href
    code, text = get(urlparse(link).query)
    assert parse_qs(urlparse(link).query) == {"runner": ["ams"], "run": [str(may)], "end": ["2026-05-04"]}
    assert code == 200 and "Session: Mon 04 May 2026 18:00" in text


def test_an_upload_that_replaces_a_runs_figures_names_the_file_as_uploaded(settings, tmp_path):
    """Two uploads of the same belt run (the second re-written, other bytes): the second's message names the first
    by the file name it was uploaded as, not by its stored copy."""
    import dataclasses

    from dashboard.data import import_upload, store_upload
    from sensing.formats import read_parquet, write_parquet

    rec = read_parquet(SAMPLES / "sim_lower_back_run.parquet")
    again = tmp_path / "belt_again.parquet"
    write_parquet(dataclasses.replace(rec, extra={**rec.extra, "note": "exported again"}), again)
    msgs = []
    for name, src in (("monday_belt.parquet", SAMPLES / "sim_lower_back_run.parquet"), ("belt_again.parquet", again)):
        contents = "data:application/octet-stream;base64," + base64.b64encode(src.read_bytes()).decode()
        path, _ = store_upload(settings, name, contents)
        msgs.append(import_upload(settings, path, original_name=name, runner="ams"))
    assert "imported" in msgs[0]
    assert "updated" in msgs[1] and "which came from monday_belt.parquet" in msgs[1], msgs[1]


def test_timeline_can_end_on_a_chosen_day(settings):
    """Runs in March 2025 and a plank logged in November: the default 8 weeks end with the plank and hold no run (a
    physio looking back had no way there but "1 year"); ?end=2025-03-09 shows the runs' weeks, and the control says
    which day the default ends on."""
    from dashboard.pages import timeline
    from journal import Journal

    with Journal.open(settings.journal_url) as j:
        for d in (3, 5, 8):
            j.add_run(start=f"2025-03-{d:02d}T08:00", duration_s=2400.0, rpe=4, kind="easy", runner="ams")
        j.add_exercise("plank", sets=3, day="2025-11-20", runner="ams")
    default = timeline.timeline_view(settings, "ams", "8", "session")["timeline"]
    assert str(default.end) == "2025-11-20" and default.runs.empty
    back = timeline.timeline_view(settings, "ams", "8", "session", "2025-03-09")["timeline"]
    assert str(back.end) == "2025-03-09" and len(back.runs) == 3
    page = timeline.layout(settings, "ams", {})
    assert _find(page, "tl-end").date is None and "(empty: the latest entry, 20 Nov 2025)" in _text(page)
    page = timeline.layout(settings, "ams", {"end": "2025-03-09"})
    assert _find(page, "tl-end").date == "2025-03-09"
    assert _find(timeline.layout(settings, "ams", {"end": "9 March"}), "tl-end").date is None  # not a date: the default
