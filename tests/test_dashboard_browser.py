"""The dashboard in a real browser (headless Chromium): pages, navigation, forms, uploads, live replay, Run page zoom
and comparison, the clinic report PDF.

Every test starts the app on a fresh journal (the journal's demo runner, plus
the sample recordings where a test needs a recording), drives the page as a
user would, checks what the page shows against what the journal then holds,
and saves a screenshot under tests/screenshots/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from dashboard_support import console_errors, duo, screenshot  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_recordings"


@pytest.fixture
def demo_app(tmp_path):
    from dashboard.app import create_app
    from journal.demo import load_demo

    url = f"sqlite:///{tmp_path / 'journal.sqlite3'}"
    load_demo(url)
    app = create_app(url, data_dir=tmp_path / "data", max_upload_bytes=2_000_000)
    yield app, url
    # the live sessions' loop and its executor threads end here, not when the test server kills its threads
    app.server.extensions["backstride_live"].close()


def _open(duo, app, path: str, ready: str, timeout: int = 15) -> None:
    """Serve ``app``, open ``path`` in the browser and wait until ``ready`` is on the page."""
    duo.start_server(app, port=duo.port)
    duo.driver.get(duo.server_url + path)
    duo.wait_for_element(ready, timeout=timeout)


def test_every_page_loads_without_console_errors(duo, demo_app):
    app, _ = demo_app
    duo.start_server(app, port=duo.port)
    duo.wait_for_element("#tl-graph .main-svg", timeout=15)
    duo.wait_for_contains_text("#tl-prompts", "physiotherapist")
    screenshot(duo, "timeline")
    for path, selector, text in (("/run", "#run-summary", "session RPE"), ("/log", "#log-pain-submit", "pain"),
                                 ("/runners", "#runners-table", "demo"), ("/day", "#day-alerts", "30 min"),
                                 ("/live", "#live-state", "idle"), ("/report.html?runner=demo", "h1", "session report")):
        duo.driver.get(duo.server_url + path)
        duo.wait_for_contains_text(selector, text, timeout=15)
        screenshot(duo, "page" + path.replace("/", "_"))
    assert console_errors(duo) == []


def _count(url: str, what: str) -> int:
    from journal import Journal

    with Journal.open(url) as j:
        return len(getattr(j, what)(runner="demo"))


def test_forms_submit_and_show_their_result(duo, demo_app):
    app, url = demo_app
    pains0, runs0 = _count(url, "pain_reports"), _count(url, "runs")
    _open(duo, app, "/log", "#log-pain-submit")

    # A pain report with the form's defaults (3/10, lower back centre, after a run).
    duo.find_element("#log-pain-submit").click()
    duo.wait_for_contains_text("#log-pain-result", "saved as report", timeout=10)
    assert _count(url, "pain_reports") == pains0 + 1

    # 12/10 is refused with the journal's message, and nothing is stored.
    rating = duo.find_element("#log-pain-rating")
    rating.clear()
    rating.send_keys("12")
    duo.find_element("#log-pain-submit").click()
    duo.wait_for_contains_text("#log-pain-result", "not saved", timeout=10)
    assert "rating" in duo.find_element("#log-pain-result").text
    assert _count(url, "pain_reports") == pains0 + 1

    # Pain felt earlier, at a local clock time (the demo runner is in Europe/Amsterdam: 07:10 CET is 06:10 UTC); a
    # time the clocks skipped (02:30 on 30 March 2025) is refused, not moved an hour.
    rating.clear()
    rating.send_keys("4")
    duo.find_element("#log-pain-at").send_keys("2025-03-02 07:10")
    duo.find_element("#log-pain-submit").click()
    duo.wait_for_contains_text("#log-pain-result", "felt at 2025-03-02 07:10", timeout=10)
    from journal import Journal

    with Journal.open(url) as j:
        last = j.pain_reports(runner="demo").sort_values("id").iloc[-1]
    assert pd.Timestamp(last["reported_utc"]).tz_localize(None) == pd.Timestamp("2025-03-02T06:10") \
        and int(last["rating"]) == 4
    at = duo.find_element("#log-pain-at")
    duo.clear_input(at)  # (selenium's clear() does not reach the React state of a text field)
    at.send_keys("2025-03-30 02:30")
    duo.find_element("#log-pain-submit").click()
    duo.wait_for_contains_text("#log-pain-result", "not saved", timeout=10)
    assert "clocks went forward" in duo.find_element("#log-pain-result").text
    assert _count(url, "pain_reports") == pains0 + 2

    # A run: 50 min at RPE 4 gives a session load of 200 au in the journal.
    duo.find_element("#log-run-start").send_keys("2025-03-03 07:30")
    minutes = duo.find_element("#log-run-minutes")
    minutes.clear()
    minutes.send_keys("50")
    duo.find_element("#log-run-submit").click()
    duo.wait_for_contains_text("#log-run-result", "saved", timeout=10)
    with Journal.open(url) as j:
        runs = j.runs(runner="demo")
    assert len(runs) == runs0 + 1
    new = runs[runs["local_date"].astype(str) == "2025-03-03"]
    assert len(new) == 1 and new["duration_s"].iloc[0] == 3000.0 and new["session_load_au"].iloc[0] == 200.0

    # Check-in and exercise with their defaults.
    duo.find_element("#log-ex-submit").click()
    duo.wait_for_contains_text("#log-ex-result", "saved", timeout=10)
    duo.find_element("#log-ci-submit").click()
    duo.wait_for_contains_text("#log-ci-result", "saved", timeout=10)

    # Out-of-range values are refused with the journal's message (the browser's own min/max handed them over as
    # "empty", and a 30 h sleep or an RPE of 11 was saved as not given), and nothing is stored.
    checkins0, runs1 = _count(url, "checkins"), _count(url, "runs")
    for field, value, submit, result, name in (("#log-ci-sleep", "30", "#log-ci-submit", "#log-ci-result", "sleep"),
                                                ("#log-run-rpe", "11", "#log-run-submit", "#log-run-result", "rpe")):
        box = duo.find_element(field)
        box.clear()
        box.send_keys(value)
        duo.find_element(submit).click()
        duo.wait_for_contains_text(result, "not saved", timeout=10)
        assert name in duo.find_element(result).text
    assert _count(url, "checkins") == checkins0 and _count(url, "runs") == runs1
    screenshot(duo, "log_forms")
    assert console_errors(duo) == []


def _upload(duo, path: Path) -> None:
    duo.find_element("#log-upload input[type=file]").send_keys(str(path))


def test_upload_good_and_bad_file(duo, demo_app, tmp_path):
    app, url = demo_app
    data = tmp_path / "data"
    runs0 = _count(url, "runs")
    _open(duo, app, "/log", "#log-upload")

    # A damaged recording: a clear message naming the file, nothing stored.
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not a parquet file PAR1")
    _upload(duo, bad)
    duo.wait_for_contains_text("#log-upload-result", "not imported", timeout=30)
    text = duo.find_element("#log-upload-result").text
    assert text.startswith("not imported, nothing was stored: broken.parquet:") and "uploads" not in text
    assert _count(url, "runs") == runs0
    assert not any((data / "uploads").glob("*")) if (data / "uploads").exists() else True
    screenshot(duo, "upload_bad")

    # A good recording (the simulated shoe run): analysed in the background, stored as a run.
    good = tmp_path / "my shoe run.parquet"
    shutil.copy(SAMPLES / "sim_shoe_run.parquet", good)
    _upload(duo, good)
    duo.wait_for_contains_text("#log-upload-result", "my shoe run.parquet: imported", timeout=60)
    assert duo.find_element("#log-progress").get_attribute("value") == "5"
    from journal import Journal

    with Journal.open(url) as j:
        runs = j.runs(runner="demo")
    assert len(runs) == runs0 + 1
    stored = Path(runs["recording_path"].iloc[-1])
    assert stored.parent == (data / "uploads").resolve() and stored.is_file()
    assert runs["heel_strike_share"].iloc[-1] is not None
    screenshot(duo, "upload_good")

    # The new run opens on the Run page with its steps.
    duo.driver.get(duo.server_url + f"/run?id={int(runs['id'].iloc[-1])}")
    duo.wait_for_element("#run-signal .main-svg", timeout=15)
    duo.wait_for_element("#run-fatigue", timeout=15)
    screenshot(duo, "run_uploaded")
    assert console_errors(duo) == []


def test_live_page_receives_a_replay(duo, demo_app):
    import numpy as np
    import pandas as pd

    pytest.importorskip("sensing.session")
    app, _ = demo_app
    _open(duo, app, "/live", "#live-start")
    duo.select_dcc_dropdown("#live-speed", "5×")
    duo.find_element("#live-start").click()  # default source: the simulated lower-back run
    duo.wait_for_contains_text("#live-state", "streaming", timeout=20)
    duo.wait_for_contains_text("#live-cadence", "/min", timeout=20)
    samples = int(duo.find_element("#live-samples").text.replace(",", ""))
    assert samples > 0
    # The chart holds what the page received (cursor protocol: nothing twice, nothing skipped).
    n_points = duo.driver.execute_script(
        "return document.querySelector('#live-graph .js-plotly-plot').data[0].x.length")
    assert 0 < n_points <= samples
    # Cadence against the simulation's truth (steps per minute from the true step times).
    truth = pd.read_csv(SAMPLES / "sim_lower_back_run.truth.csv")
    col = next(c for c in truth.columns if c.startswith("ic"))
    true_cadence = 60.0 / np.median(np.diff(truth[col].to_numpy(dtype=float)))
    shown = float(duo.find_element("#live-cadence").text.split("/")[0])
    assert abs(shown - true_cadence) < 5.0
    screenshot(duo, "live_replay")
    duo.find_element("#live-stop").click()
    duo.wait_for_contains_text("#live-message", "stopped", timeout=10)
    # a second replay runs on the same long-lived loop thread as the first
    sessions = app.server.extensions["backstride_live"]
    loop_thread = sessions.loop_thread
    duo.find_element("#live-start").click()
    duo.wait_for_contains_text("#live-state", "streaming", timeout=20)
    assert sessions.loop_thread is loop_thread and loop_thread.thread.is_alive()
    duo.find_element("#live-stop").click()
    duo.wait_for_contains_text("#live-message", "stopped", timeout=10)
    assert console_errors(duo) == []


def test_live_page_connect_without_a_bluetooth_adapter_says_so(duo, demo_app):
    """The BLE path through real bleak on a machine with no adapter: the page names the sensor and the failure."""
    pytest.importorskip("sensing.session")
    app, _ = demo_app
    _open(duo, app, "/live", "#live-start")
    assert not duo.find_element("#live-address").is_displayed()  # replay mode shows the replay's fields only
    duo.find_element("#live-mode input[value='sensor']").click()
    duo.wait_for_style_to_equal("#live-sensor-fields", "display", "flex", timeout=10)
    assert not duo.find_element("#live-source").is_displayed()
    duo.find_element("#live-address").send_keys("backstride-2A01")
    duo.find_element("#live-start").click()
    duo.wait_for_contains_text("#live-message", "connecting to backstride-2A01", timeout=15)
    duo.wait_for_contains_text("#live-state", "error", timeout=60)
    state = duo.find_element("#live-state").text
    assert "backstride-2A01" in state and "Bluetooth" in state, state
    screenshot(duo, "live_no_adapter")
    assert console_errors(duo) == []


# ----------------------------------------------------------------------------
# Run page: zoom, side-by-side comparison; clinic report PDF

def _tiled_lower_back_run(data_dir: Path, tiles: int = 2):
    """The sample lower-back run played ``tiles`` times in a row (~2 040 steps: more than the page marks one by one).

    Returns ``(recording path, true initial-contact times in s)``; the truth is
    the simulation's own step times, shifted by the tile length.
    """
    import numpy as np
    import pandas as pd

    from sensing.formats import read_parquet, write_parquet
    from sensing.recording import Recording

    rec = read_parquet(SAMPLES / "sim_lower_back_run.parquet")
    n = int(rec.data.index[-1]) + 1
    data = pd.concat([rec.data.set_axis(rec.data.index + k * n) for k in range(tiles)])
    path = data_dir / "recordings" / "lower_back_x2.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_parquet(Recording(data=data, sampling_rate_hz=rec.sampling_rate_hz, start_utc=rec.start_utc,
                            placement=rec.placement, source="test-tiled"), path)
    truth = pd.read_csv(SAMPLES / "sim_lower_back_run.truth.csv")["ic_s"].to_numpy(dtype=float)
    ic = np.concatenate([truth + k * n / rec.sampling_rate_hz for k in range(tiles)])
    return path, ic


def _import_recorded_run(url: str, data_dir: Path, path: Path, start: str, kind: str) -> int:
    """Analyse the recording at ``path`` and store it as a run of the demo runner with its recording."""
    from analysis.pipeline import analyse
    from journal import Journal
    from sensing.formats import open_recording

    report = analyse(open_recording(path))
    with Journal.open(url) as j:
        return j.import_analysis(report.to_dict(), runner="demo", recording_path=str(path), start=start, rpe=4,
                                 kind=kind).run_ids[0]


@pytest.fixture
def recorded_runs(demo_app, tmp_path):
    """The demo app with two recorded runs: the tiled lower-back run and the simulated shoe run."""
    app, url = demo_app
    data = tmp_path / "data"
    long_path, true_ic_s = _tiled_lower_back_run(data)
    long_id = _import_recorded_run(url, data, long_path, "2025-03-10T07:00", "long")
    shoe_path = data / "recordings" / "shoe.parquet"
    shutil.copy(SAMPLES / "sim_shoe_run.parquet", shoe_path)
    shoe_id = _import_recorded_run(url, data, shoe_path, "2025-03-12T07:00", "easy")
    return app, url, data, {"long": long_id, "shoe": shoe_id, "long_path": long_path, "true_ic_s": true_ic_s}


#: The traces of a graph as the browser holds them after drawing (Plotly's full data: arrays decoded).
TRACES_JS = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
if (!gd || !gd._fullData) return null;
return gd._fullData.map(t => ({name: t.name, mode: t.mode, xaxis: t.xaxis, yaxis: t.yaxis,
                                x: Array.from(t.x || [], v => (v === null || v === undefined) ? null : Number(v))}));
"""


def _traces(duo, graph: str) -> list[dict] | None:
    return duo.driver.execute_script(TRACES_JS, "#" + graph)


#: dcc.Graph listens for Plotly's relayout event only once its drawing promise resolves, a moment after the
#: traces exist: a zoom before that reaches no callback (the page stays as it was).
RELAYOUT_BOUND_JS = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
return !!(gd && gd._ev && gd._ev.listeners('plotly_relayout').length > 0);
"""


#: True when the Dash renderer has no callback requested, running or waiting (what dash.testing's
#: ``wait_for_callbacks`` reads from the same store).
CALLBACKS_IDLE_JS = """
if (!window.store) { return false; }
const cbs = Object.assign({}, window.store.getState().callbacks);
delete cbs.stored; delete cbs.completed;
return Object.values(cbs).every(v => !v || v.length === 0);
"""


def _relayout(duo, graph: str, update: dict, done, tries: int = 3):
    """What a user's zoom does: Plotly.relayout on the drawn graph (dcc.Graph then sends relayoutData).

    Only once the graph listens for the event and the page's start-up callbacks are over (the graphs' own first
    relayout, autosize, runs a zoom callback).  Then wait for ``done()`` and return its value, zooming again
    (as the user would) up to ``tries`` times if the zoom brought nothing: a fresh-clone run once lost a zoom
    made during the page's start-up (no request reached the server).  A page that never answers a zoom still fails.
    """
    import json

    from selenium.common.exceptions import TimeoutException

    for attempt in range(tries):
        _wait_for(duo, lambda: duo.driver.execute_script(RELAYOUT_BOUND_JS, "#" + graph))
        _wait_for(duo, lambda: duo.driver.execute_script(CALLBACKS_IDLE_JS))
        duo.driver.execute_script(
            f"Plotly.relayout(document.querySelector('#{graph} .js-plotly-plot'), {json.dumps(update)});")
        try:
            return _wait_for(duo, done, timeout_s=20.0 if attempt + 1 < tries else 30.0)
        except TimeoutException:
            if attempt + 1 == tries:
                raise


def _wait_for(duo, what, timeout_s: float = 30.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(duo.driver, timeout_s, poll_frequency=0.1).until(lambda _d: what())


def test_run_page_zoom_redraws_each_step_of_the_visible_range(duo, recorded_runs):
    import numpy as np

    from dashboard.data import Settings, analysed_steps
    from dashboard.figures import SIGNAL_POINTS, STEP_MARKERS_MAX

    app, url, data, runs = recorded_runs
    steps, meta = analysed_steps(Settings(journal_url=url, data_dir=data), runs["long_path"])
    ic = steps["ic_s"].to_numpy(dtype=float)
    truth = runs["true_ic_s"]
    # The analysis found the simulation's steps (independent truth), and more than the page marks one by one.
    assert abs(len(ic) - len(truth)) <= 0.01 * len(truth)
    assert len(ic) > STEP_MARKERS_MAX

    duo.start_server(app, port=duo.port)
    duo.driver.get(duo.server_url + f"/run?id={runs['long']}")
    _wait_for(duo, lambda: _traces(duo, "run-signal") and _traces(duo, "run-steps"))

    # Whole run: no per-step markers (too many to see); the per-step panels show windows (median and range).
    assert [t["name"] for t in _traces(duo, "run-signal")] == ["|acc| (m/s²)"]
    whole = _traces(duo, "run-steps")
    assert any(t["name"].endswith("(range)") for t in whole)
    assert not any(t["mode"] == "markers" and t["name"] == "cadence_spm" for t in whole)
    assert f"{len(ic):,} steps in view" in duo.find_element("#run-steps").text

    # Zoom the signal to 20 s: every sample of the range drawn, every detected step marked.
    lo_s, hi_s = 100.0, 120.0
    def zoomed_signal():
        t = _traces(duo, "run-signal")
        return t if t and any(tr["name"] == "step (IC)" for tr in t) else None

    sig = {t["name"]: t for t in _relayout(duo, "run-signal", {"xaxis.range[0]": lo_s, "xaxis.range[1]": hi_s},
                                           done=zoomed_signal)}
    rate_hz = meta["sampling_rate_hz"]
    x = np.array(sig["|acc| (m/s²)"]["x"], dtype=float)
    n_in = int(round((hi_s - lo_s) * rate_hz)) + 1  # samples in [lo, hi], both ends included
    assert n_in <= SIGNAL_POINTS
    assert n_in <= len(x) <= n_in + 2  # full detail: each sample (and one beyond each end)
    assert np.allclose(np.diff(x), 1.0 / rate_hz)
    marks = np.array(sig["step (IC)"]["x"], dtype=float)
    in_range = (ic >= lo_s) & (ic <= hi_s)
    assert np.allclose(np.sort(marks), np.sort(ic[in_range]))
    assert abs(len(marks) - int(((truth >= lo_s) & (truth <= hi_s)).sum())) <= 1
    screenshot(duo, "run_zoom_signal")

    # Zoom the per-step panels to minutes 2-5: each step of the range drawn, running and walking.
    lo_min, hi_min = 2.0, 5.0
    def zoomed_steps():
        t = _traces(duo, "run-steps")
        return t if t and not any(tr["name"].endswith("(range)") for tr in t) else None

    per = _relayout(duo, "run-steps", {"xaxis4.range[0]": lo_min, "xaxis4.range[1]": hi_min}, done=zoomed_steps)
    first_panel = [t for t in per if t["yaxis"] == "y" and t["mode"] == "markers"]
    drawn = np.sort(np.concatenate([np.array(t["x"], dtype=float) for t in first_panel]))
    t_min = ic / 60.0
    want = (t_min >= lo_min) & (t_min <= hi_min) & np.isfinite(steps["cadence_spm"].to_numpy(dtype=float))
    assert np.allclose(drawn, np.sort(t_min[want]))
    true_in = int(((truth / 60 >= lo_min) & (truth / 60 <= hi_min)).sum())
    assert abs(len(drawn) - true_in) <= 0.02 * true_in + 1
    assert "each step" in duo.find_element("#run-steps").text
    screenshot(duo, "run_zoom_steps")

    # Back to the whole run (double click: autorange): windows again.
    _relayout(duo, "run-steps", {"xaxis4.autorange": True},
              done=lambda: any(t["name"].endswith("(range)") for t in (_traces(duo, "run-steps") or [])))
    assert console_errors(duo) == []


def test_compare_two_runs_side_by_side(duo, recorded_runs):
    import numpy as np
    import pandas as pd

    from dashboard.pages.run import _label, summary_rows
    from journal import Journal

    app, url, _, runs = recorded_runs
    with Journal.open(url) as j:
        table = j.runs(runner="demo").set_index("id")
        tz = j.runner("demo").timezone
    a = table.loc[runs["long"]].to_dict() | {"id": runs["long"]}
    b = table.loc[runs["shoe"]].to_dict() | {"id": runs["shoe"]}
    # The journal's cadence of the lower-back run is the simulation's (independent truth).
    truth = pd.read_csv(SAMPLES / "sim_lower_back_run.truth.csv")["ic_s"].to_numpy(dtype=float)
    assert abs(a["cadence_spm"] - 60.0 / np.median(np.diff(truth))) < 3.0

    _open(duo, app, f"/run?id={runs['long']}", "#run-compare", timeout=30)
    duo.select_dcc_dropdown("#run-compare", _label(b))  # as a user picks the second run
    duo.wait_for_element("#run-compare-table", timeout=30)
    _wait_for(duo, lambda: _traces(duo, "run-compare-graph"))
    assert f"compare={runs['shoe']}" in duo.driver.current_url

    # The table: one row per figure, each run's value as the journal holds it.
    rows = [[td.text for td in tr.find_elements("css selector", "td")]
            for tr in duo.find_elements("#run-compare-table tbody tr")]
    heads = [th.text for th in duo.find_elements("#run-compare-table thead th")]
    assert heads[1:] == [_label(a), _label(b)]
    assert rows == [[k, va, vb] for (k, va), (_, vb) in zip(summary_rows(a, tz), summary_rows(b, tz))]
    assert any(r[0] == "cadence" and r[1] == f"{a['cadence_spm']:.0f} steps/min" for r in rows)

    # The graph: both runs in every panel either has, each across its whole length (0-100 %).
    traces = _traces(duo, "run-compare-graph")
    names = {t["name"] for t in traces}
    assert names == {f"#{runs['long']}", f"#{runs['shoe']}"}
    for t in traces:
        x = np.array(t["x"], dtype=float)
        assert x.min() < 5.0 and x.max() > 95.0
    panels = {t["yaxis"] for t in traces}
    assert len(panels) >= 3  # cadence and contact time shared, plus each sensor's own metrics
    screenshot(duo, "run_compare")
    assert console_errors(duo) == []


def test_run_summary_made_by_an_older_analysis_is_shown_and_updated(duo, demo_app, tmp_path):
    """A run whose journal figures an older version made (here: written over in the journal) is shown with what the
    current analysis of its recording gives instead; one click puts those into the journal, keeping RPE and kind."""
    import sqlalchemy as sa

    from dashboard.pages.run import summary_rows
    from journal import Journal
    from journal.db import Run

    app, url = demo_app
    shoe_path = tmp_path / "data" / "recordings" / "shoe.parquet"
    shoe_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / "sim_shoe_run.parquet", shoe_path)
    rid = _import_recorded_run(url, tmp_path / "data", shoe_path, "2025-03-12T07:00", "easy")
    with Journal.open(url) as j:
        current = j.runs(runner="demo").set_index("id").loc[rid].to_dict() | {"id": rid}
        with j._write() as s, s.begin():
            s.execute(sa.update(Run).where(Run.id == rid).values(
                cadence_spm=current["cadence_spm"] - 12.0, heel_strike_share=0.05,
                duration_s=current["duration_s"] + 300.0))
        old = j.runs(runner="demo").set_index("id").loc[rid].to_dict() | {"id": rid}
        tz = j.runner("demo").timezone
    # what the page should list: the rows that differ, current value and journal value (independent of the page)
    expected = [f"{k}: {b} now, {a} in the journal"
                for (k, a), (_, b) in zip(summary_rows(old, tz), summary_rows(current, tz))
                if a != b]
    assert {e.split(":")[0] for e in expected} == {"duration", "session load", "cadence", "heel-strike share"}

    _open(duo, app, f"/run?id={rid}", "#run-stale", timeout=60)
    assert [li.text for li in duo.find_elements("#run-stale li")] == expected
    screenshot(duo, "run_stale_summary")
    duo.find_element("#run-refresh").click()
    duo.wait_for_contains_text("#run-refresh-message", "Journal updated", timeout=60)
    assert "cadence" in duo.find_element("#run-refresh-message").text
    assert not duo.find_elements("#run-stale")
    rows = [[td.text for td in tr.find_elements("css selector", "td")]
            for tr in duo.find_elements("#run-summary tbody tr")]
    assert rows == [list(r) for r in summary_rows(current, tz)]
    with Journal.open(url) as j:
        now = j.runs(runner="demo").set_index("id").loc[rid].to_dict()
    for k in ("cadence_spm", "heel_strike_share", "duration_s", "steps_n", "rpe", "kind"):
        assert now[k] == current[k], k
    # shown again: nothing left to update
    duo.driver.get(duo.server_url + f"/run?id={rid}")
    duo.wait_for_element("#run-summary", timeout=30)
    assert not duo.find_elements("#run-stale")
    assert console_errors(duo) == []


def test_clinic_report_pdf(duo, demo_app):
    import re
    import shutil as sh
    import subprocess
    import urllib.request

    from dashboard.report import find_chromium

    if find_chromium() is None:
        pytest.skip("the PDF report needs Chromium on the server")
    app, _ = demo_app
    duo.start_server(app, port=duo.port)
    with urllib.request.urlopen(duo.server_url + "/report.pdf?runner=demo", timeout=120) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "application/pdf"
        assert 'filename="backstride-demo-' in r.headers["Content-Disposition"]
        pdf = r.read()
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    # The document's title (in the PDF's info: a literal string, or UTF-16 in hex when not ASCII) names the runner.
    lit, hexa = re.search(rb"/Title\s*\(([^)]*)\)", pdf), re.search(rb"/Title\s*<FEFF([0-9A-Fa-f]+)>", pdf)
    title = (lit.group(1).decode("latin-1") if lit else
             bytes.fromhex(hexa.group(1).decode()).decode("utf-16-be") if hexa else "")
    assert title == "backstride report: demo"
    # The HTML it was printed from, as the browser shows it (this also makes the screenshot folder).
    duo.driver.get(duo.server_url + "/report.html?runner=demo")
    duo.wait_for_contains_text("h1", "session report", timeout=15)
    out = screenshot(duo, "report_html").with_name("report_pdf.pdf")
    out.write_bytes(pdf)
    if sh.which("pdftotext"):  # poppler-utils: the printed text itself
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        assert "demo" in text and "session report" in text.lower()
    if sh.which("pdftoppm"):  # the first page as a picture
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(out),
                        str(out.with_suffix(""))], check=True)
    # An unknown runner is a clear 404, not a PDF.
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(duo.server_url + "/report.pdf?runner=nobody", timeout=60)
    assert err.value.code == 404



def test_navigation_links_render_the_next_page(duo, demo_app):
    """The first page comes with the first layout; links then go through the router callback."""
    app, url = demo_app
    from journal import Journal

    with Journal.open(url) as j:
        last = j.runs(runner="demo").iloc[-1]
    duo.start_server(app, port=duo.port)
    duo.wait_for_element("#tl-graph .main-svg", timeout=15)
    duo.find_element("#nav-run").click()
    duo.wait_for_contains_text("#run-summary", "session RPE", timeout=15)
    assert f"(#{int(last['id'])})" in duo.find_element("h2").text  # the latest run
    duo.find_element("#nav-runners").click()
    duo.wait_for_contains_text("#runners-table", "demo", timeout=15)
    duo.find_element("#nav-timeline").click()
    duo.wait_for_element("#tl-graph .main-svg", timeout=15)
    screenshot(duo, "navigation")
    assert console_errors(duo) == []


def test_clicking_a_run_marker_on_the_timeline_opens_that_run(duo, demo_app):
    """"click a run marker to open the run": a real click on the latest trunk-lean marker opens its Run page (the
    markers' run ids reach the server in clickData)."""
    from selenium.webdriver.common.action_chains import ActionChains

    from journal import Journal

    app, url = demo_app
    with Journal.open(url) as j:
        runs = j.runs(runner="demo")
    latest = runs[runs["trunk_lean_fwd_deg"].notna()].sort_values("local_date").iloc[-1]
    duo.start_server(app, port=duo.port)
    duo.wait_for_element("#tl-graph .main-svg", timeout=15)
    # the trunk-lean trace's points, in data order: its last point is the latest run
    uid = duo.driver.execute_script(
        "const gd = document.querySelector('#tl-graph .js-plotly-plot');"
        "return gd._fullData.find(t => t.name === 'trunk lean (°)').uid;")
    points = duo.driver.find_elements("css selector", f"#tl-graph g.trace{uid} path.point")
    assert points, "no trunk-lean markers drawn"
    ActionChains(duo.driver).move_to_element(points[-1]).click().perform()
    duo.wait_for_contains_text("#run-summary", "session RPE", timeout=15)
    assert duo.driver.current_url.endswith(f"/run?id={int(latest['id'])}")
    assert f"(#{int(latest['id'])})" in duo.find_element("h2").text
    assert console_errors(duo) == []


def test_timeline_ending_on_a_typed_day(duo, demo_app):
    """The Timeline's "ending" date: typed in the browser's date field, the address takes &end= and the period ends
    there (the field keeps the day; the note on the latest entry goes)."""
    app, _ = demo_app
    duo.start_server(app, port=duo.port)
    duo.wait_for_element("#tl-graph .main-svg", timeout=15)
    assert duo.find_element("#tl-end-note").text.startswith("(empty: the latest entry, ")
    assert duo.driver.current_url == duo.server_url + "/"  # the empty picker does not make the page again
    duo.find_element("#tl-end").send_keys("2026-03-09")  # the picker's own display format
    duo.find_element("#tl-end").send_keys("\n")
    import time

    deadline = time.time() + 15
    while "end=2026-03-09" not in duo.driver.current_url and time.time() < deadline:
        time.sleep(0.2)
    assert "end=2026-03-09" in duo.driver.current_url
    duo.wait_for_text_to_equal("#tl-end-note", "", timeout=15)  # the page made again for that period
    assert duo.find_element("#tl-end").get_attribute("value") == "2026-03-09"  # the picker's text field
    assert console_errors(duo) == []


# ----------------------------------------------------------------------------
# One runner per page: the heading, the runner picker and what the forms save

SECOND_RUNNER = "second"


def _pains_by_runner(url: str) -> dict[str, int]:
    from journal import Journal

    with Journal.open(url) as j:
        return {name: len(j.pain_reports(runner=name)) for name in ("demo", SECOND_RUNNER)}


@pytest.fixture
def two_runner_app(demo_app):
    """The demo app with a second runner (no entries yet), listed after demo in the runner picker."""
    from journal import Journal

    app, url = demo_app
    with Journal.open(url) as j:
        j.add_runner(SECOND_RUNNER, timezone="UTC")
        assert [r.name for r in j.runners()][0] == "demo"  # the picker's default is not the runner of the URL
    return app, url


def _picker(duo) -> str:
    return duo.find_element("#runner .dash-dropdown-value").text


def test_log_page_saves_to_the_runner_of_the_url(duo, two_runner_app):
    app, url = two_runner_app
    before = _pains_by_runner(url)
    _open(duo, app, f"/log?runner={SECOND_RUNNER}", "#log-pain-submit")
    assert duo.find_element("h2").text == f"Log · {SECOND_RUNNER}"
    _wait_for(duo, lambda: _picker(duo) == SECOND_RUNNER, timeout_s=10)
    duo.find_element("#log-pain-submit").click()
    duo.wait_for_contains_text("#log-pain-result", "saved as report", timeout=10)
    assert _pains_by_runner(url) == {"demo": before["demo"], SECOND_RUNNER: before[SECOND_RUNNER] + 1}

    # Picking another runner changes the page (heading and address), and the forms save there.
    duo.select_dcc_dropdown("#runner", "demo")
    duo.wait_for_text_to_equal("h2", "Log · demo", timeout=10)
    assert "runner=demo" in duo.driver.current_url
    duo.find_element("#log-pain-submit").click()
    duo.wait_for_contains_text("#log-pain-result", "saved as report", timeout=10)
    assert _pains_by_runner(url) == {"demo": before["demo"] + 1, SECOND_RUNNER: before[SECOND_RUNNER] + 1}

    # Opened again by address in the same session (the picker remembers "demo"): the address wins.
    duo.driver.get(duo.server_url + f"/log?runner={SECOND_RUNNER}")
    duo.wait_for_text_to_equal("h2", f"Log · {SECOND_RUNNER}", timeout=15)
    _wait_for(duo, lambda: _picker(duo) == SECOND_RUNNER, timeout_s=10)
    _wait_for(duo, lambda: duo.driver.execute_script(CALLBACKS_IDLE_JS))
    assert duo.find_element("h2").text == f"Log · {SECOND_RUNNER}"
    duo.find_element("#log-pain-submit").click()
    duo.wait_for_contains_text("#log-pain-result", "saved as report", timeout=10)
    assert _pains_by_runner(url) == {"demo": before["demo"] + 1, SECOND_RUNNER: before[SECOND_RUNNER] + 2}
    screenshot(duo, "log_second_runner")
    assert console_errors(duo) == []


def test_run_and_day_pages_follow_the_runner_of_the_url(duo, two_runner_app):
    from journal import Journal

    app, url = two_runner_app
    with Journal.open(url) as j:
        rid = j.add_run(start="2025-03-01T07:30", duration_s=1800.0, rpe=4, runner=SECOND_RUNNER)
        demo_last = int(j.runs(runner="demo")["id"].iloc[-1])
    _open(duo, app, f"/run?runner={SECOND_RUNNER}&id={rid}", "#run-summary")
    assert f"(#{rid})" in duo.find_element("h2").text
    _wait_for(duo, lambda: _picker(duo) == SECOND_RUNNER, timeout_s=10)
    # the second runner is in UTC: the start as typed, the zone named
    assert "2025-03-01 07:30 (UTC)" in duo.find_element("#run-summary").text

    # Picking demo shows demo's latest run (the second runner's run id is dropped from the address).
    duo.select_dcc_dropdown("#runner", "demo")
    duo.wait_for_contains_text("h2", f"(#{demo_last})", timeout=15)
    assert "runner=demo" in duo.driver.current_url and f"id={rid}" not in duo.driver.current_url

    duo.driver.get(duo.server_url + f"/day?runner={SECOND_RUNNER}")
    duo.wait_for_contains_text("#day-zone", "Europe/Amsterdam (the recording's time zone)", timeout=30)
    _wait_for(duo, lambda: _picker(duo) == SECOND_RUNNER, timeout_s=10)
    screenshot(duo, "day_second_runner")
    assert console_errors(duo) == []


def test_runners_page_link_opens_that_runners_timeline(duo, two_runner_app):
    from journal import Journal

    app, url = two_runner_app
    with Journal.open(url) as j:
        j.add_run(start="2025-03-01T07:30", duration_s=1800.0, rpe=4, runner=SECOND_RUNNER)
    _open(duo, app, "/runners", "#runners-table")
    duo.find_element(f"#runners-table a[id*='{SECOND_RUNNER}']").click()
    duo.wait_for_text_to_equal("h2", f"Timeline · {SECOND_RUNNER}", timeout=15)
    _wait_for(duo, lambda: _picker(duo) == SECOND_RUNNER, timeout_s=10)
    _wait_for(duo, lambda: duo.driver.execute_script(CALLBACKS_IDLE_JS))
    assert duo.find_element("h2").text == f"Timeline · {SECOND_RUNNER}"
    path = duo.driver.execute_script("return window.location.pathname")
    assert path == "/"
    assert console_errors(duo) == []


def test_timeline_controls_keep_the_runner_of_the_address(duo, two_runner_app):
    """Choosing the period or the load measure rewrites the address: it keeps ``?runner=`` (a bookmarked or shared
    address shows the same runner's timeline)."""
    from journal import Journal

    app, url = two_runner_app
    with Journal.open(url) as j:
        j.add_run(start="2025-03-01T07:30", duration_s=1800.0, rpe=4, runner=SECOND_RUNNER)
    _open(duo, app, f"/?runner={SECOND_RUNNER}", "#tl-weeks")
    duo.find_element("#tl-weeks input[value='4']").click()
    _wait_for(duo, lambda: "weeks=4" in duo.driver.current_url, timeout_s=10)
    _wait_for(duo, lambda: duo.driver.execute_script(CALLBACKS_IDLE_JS))
    assert f"runner={SECOND_RUNNER}" in duo.driver.current_url
    assert duo.find_element("h2").text == f"Timeline · {SECOND_RUNNER}"
    # a reload of that address is the same page
    duo.driver.get(duo.driver.current_url)
    duo.wait_for_text_to_equal("h2", f"Timeline · {SECOND_RUNNER}", timeout=15)
    assert duo.find_element("#tl-weeks input[value='4']").is_selected()
    assert console_errors(duo) == []
