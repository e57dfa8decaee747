"""The dashboard in a real browser (headless Chromium): pages, forms, uploads, live replay.

Every test starts the app on a fresh journal (the journal's demo runner, plus
the sample recordings where a test needs a recording), drives the page as a
user would, checks what the page shows against what the journal then holds,
and saves a screenshot under tests/screenshots/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

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
    return create_app(url, data_dir=tmp_path / "data", max_upload_bytes=2_000_000), url


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
    duo.start_server(app, port=duo.port)
    duo.driver.get(duo.server_url + "/log")
    duo.wait_for_element("#log-pain-submit", timeout=15)

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

    # A run: 50 min at RPE 4 gives a session load of 200 au in the journal.
    duo.find_element("#log-run-start").send_keys("2025-03-03 07:30")
    minutes = duo.find_element("#log-run-minutes")
    minutes.clear()
    minutes.send_keys("50")
    duo.find_element("#log-run-submit").click()
    duo.wait_for_contains_text("#log-run-result", "saved", timeout=10)
    from journal import Journal

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
    screenshot(duo, "log_forms")
    assert console_errors(duo) == []


def _upload(duo, path: Path) -> None:
    duo.find_element("#log-upload input[type=file]").send_keys(str(path))


def test_upload_good_and_bad_file(duo, demo_app, tmp_path):
    app, url = demo_app
    data = tmp_path / "data"
    runs0 = _count(url, "runs")
    duo.start_server(app, port=duo.port)
    duo.driver.get(duo.server_url + "/log")
    duo.wait_for_element("#log-upload", timeout=15)

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
    duo.start_server(app, port=duo.port)
    duo.driver.get(duo.server_url + "/live")
    duo.wait_for_element("#live-start", timeout=15)
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
    assert console_errors(duo) == []
