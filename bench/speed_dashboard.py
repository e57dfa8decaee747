"""Dashboard speed in a real browser (headless Chromium): ``python bench/speed_dashboard.py``.

* Timeline for a year of history and Run page for a 2-hour run: time from
  ``driver.get(url)`` until the main graph has drawn (its SVG is in the page
  and the loading state is gone), median and max of 5 visits after one warm-up
  visit.  The 2-hour run's analysis is cached before (the Run page reads the
  cache; the first visit of a new recording analyses it once, ~20 s here).
* Live: the age of the newest sample when the page shows it.  The bench
  process polls the live session every 5 ms and notes when each sample first
  becomes available; the page notes (MutationObserver, ``Date.now()``) when it
  shows a new "latest sample" time; age = shown − available (same clock).
  Replay at 1× of the sample lower-back run for 25 s.

Targets (issue 6): < 1.5 s for both pages, p95 age < 250 ms.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from dashboard_support import chrome_options, free_port  # noqa: E402


def year_journal(url: str) -> None:
    """One runner, 365 days: 4 runs a week with form figures, daily check-ins and sitting days, weekly pain."""
    from tqdm import tqdm

    from analysis.constants import REPORT_SCHEMA
    from journal import Journal

    rng = np.random.default_rng(1)
    start = date(2024, 1, 1)
    with Journal.open(url) as j:
        j.add_runner("year", timezone="UTC", hr_rest_bpm=50, hr_max_bpm=190)
        days = []
        for k in tqdm(range(365), desc="year of journal", unit="day"):
            d = start + timedelta(days=k)
            if d.weekday() in (1, 3, 5, 6):
                minutes = float(rng.uniform(30, 90))
                j.import_analysis({"schema": REPORT_SCHEMA, "placement": "lower-back", "sampling_rate_hz": 100.0,
                                   "steps": [], "bouts": [{"start_s": 0.0, "end_s": minutes * 60}], "warnings": [],
                                   "summary": {"start_utc": f"{d.isoformat()}T07:00:00+00:00",
                                               "duration_s": minutes * 60, "cadence_spm": 168.0,
                                               "impact_index_mean": 1.0, "rearfoot_share": 0.6,
                                               "trunk_lean_fwd_deg": 8.0,
                                               "fatigue": {"trunk_lean_fwd_deg": {"change": 1.0}}}},
                                  runner="year", rpe=int(rng.integers(2, 8)), kind="easy")
            j.add_checkin(day=d, sleep_s=7 * 3600, stress=2, runner="year")
            days.append({"date": d.isoformat(), "sitting_s": float(rng.uniform(3, 9)) * 3600, "bouts_ge_30min": 4,
                         "bouts_ge_2h": 0, "longest_sitting_s": 5000.0, "breaks_per_sitting_h": 2.0,
                         "wear_s": 50000.0, "flags": []})
            if d.weekday() == 0:
                j.add_pain(int(rng.integers(0, 5)), where="lower-back-centre", when="next-morning",
                           at=f"{d.isoformat()}T07:30", runner="year")
        j.add_days(days, runner="year")


def two_hour_run(data_dir: Path, url: str) -> int:
    """The sample lower-back run tiled to 2 h (100 Hz, 720 000 samples), analysed and stored as a run."""
    from analysis.pipeline import analyse
    from dashboard.data import Settings, cache_report
    from journal import Journal
    from sensing.formats import read_parquet, write_parquet
    from sensing.recording import Recording

    rec = read_parquet(ROOT / "sample_recordings" / "sim_lower_back_run.parquet")
    n = rec.data.index[-1] + 1
    reps = int(np.ceil(7200 * rec.sampling_rate_hz / n))
    tiles = [rec.data.set_axis(rec.data.index + k * n) for k in range(reps)]
    data = pd.concat(tiles).iloc[: int(7200 * rec.sampling_rate_hz)]
    long = Recording(data=data, sampling_rate_hz=rec.sampling_rate_hz, start_utc=rec.start_utc,
                     placement=rec.placement, source="bench-2h")
    path = data_dir / "recordings" / "two_hours.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_parquet(long, path)
    t0 = time.perf_counter()
    report = analyse(long)
    print(f"2-hour run analysed once in {time.perf_counter() - t0:.1f} s ({len(report.steps)} steps); cached")
    cache_report(Settings(journal_url=url, data_dir=data_dir), path, report)
    with Journal.open(url) as j:
        res = j.import_analysis(report.to_dict(), runner="year", recording_path=str(path),
                                start="2025-01-05T08:00", rpe=5, kind="long")
    return res.run_ids[0]


def serve(app, port: int) -> None:
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", port, app.server, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()


def page_time(driver, url: str, selector: str, visits: int = 5) -> list[float]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    out = []
    for k in range(visits + 1):
        driver.get("about:blank")
        t0 = time.perf_counter()
        driver.get(url)
        WebDriverWait(driver, 30, poll_frequency=0.01).until(EC.presence_of_element_located((By.CSS_SELECTOR, selector)))
        WebDriverWait(driver, 30, poll_frequency=0.01).until(lambda d: d.execute_script(
            "return !document.querySelector('[data-dash-is-loading=\"true\"]')"))
        if k:
            out.append(time.perf_counter() - t0)
    return out


def live_ages(driver, base: str, app, seconds: float = 25.0) -> list[float]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + "/live")
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "live-start"))
    driver.execute_script("""
        window.__shown = [];
        const el = document.getElementById('live-t');
        new MutationObserver(() => window.__shown.push([Date.now() / 1000, el.textContent]))
            .observe(el, {childList: true, subtree: true, characterData: true});""")
    driver.find_element(By.ID, "live-start").click()
    sessions = app.server.extensions["backstride_live"]
    session = None
    while session is None:
        with sessions._lock:
            session = next(iter(sessions._sessions.values()), None)
        time.sleep(0.005)
    first_seen: dict[str, float] = {}
    cursor, t_end = 0, time.time() + seconds
    while time.time() < t_end:  # when each sample becomes available (rounded as the page shows it)
        cursor, data = session.samples_since(cursor)
        now = time.time()
        for t in data["t_s"]:
            first_seen.setdefault(f"{t:.2f}", now)
        time.sleep(0.005)
    shown = driver.execute_script("return window.__shown")
    ages = [wall - first_seen[text] for wall, text in shown if text in first_seen]
    sessions.stop_all()
    return ages


def main() -> int:
    from selenium import webdriver

    from dashboard.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="backstride-bench-dash-"))
    url = f"sqlite:///{tmp / 'journal.sqlite3'}"
    year_journal(url)
    rid = two_hour_run(tmp / "data", url)
    app = create_app(url, data_dir=tmp / "data")
    port = free_port()
    serve(app, port)
    base = f"http://127.0.0.1:{port}"
    driver = webdriver.Chrome(options=chrome_options())
    try:
        tl = page_time(driver, base + "/?weeks=52&runner=year", "#tl-graph .main-svg")
        run = page_time(driver, base + f"/run?id={rid}&runner=year", "#run-signal .main-svg")
        ages = live_ages(driver, base, app)
    finally:
        driver.quit()
    p95 = float(np.percentile(ages, 95)) if ages else float("nan")
    print(f"Timeline, 1 year (365 days, {52 * 4} runs): median {statistics.median(tl):.2f} s, max {max(tl):.2f} s "
          f"(target < 1.5 s)")
    print(f"Run page, 2-hour run (720 000 samples): median {statistics.median(run):.2f} s, max {max(run):.2f} s "
          f"(target < 1.5 s)")
    print(f"Live, newest sample age when shown: median {statistics.median(ages) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms,"
          f" max {max(ages) * 1000:.0f} ms over {len(ages)} updates (target p95 < 250 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
