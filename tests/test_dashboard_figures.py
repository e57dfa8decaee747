"""Fast tests of the dashboard's pure figure functions, on journal data with known values.

The expected numbers come from the entries themselves (a 40-min run at RPE 3
has a session load of 120 au; 7 h of sitting is over the 6 h line), not from
what the functions returned before.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import figures as F

ROOT_SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"


@pytest.fixture
def journal(tmp_path):
    from journal import Journal

    j = Journal.open(f"sqlite:///{tmp_path / 'j.sqlite3'}")
    j.add_runner("ana", timezone="UTC")
    # Two weeks: Mon-Sun 2025-03-03..09 and 10..16, everything logged every day (check-ins).
    for k in range(14):
        d = date(2025, 3, 3 + k)
        j.add_checkin(day=d, sleep_s=7 * 3600, stress=2, runner="ana")
    j.add_run(start="2025-03-04T07:00", duration_s=40 * 60, rpe=3, kind="easy", runner="ana")   # 120 au
    j.add_run(start="2025-03-06T07:00", duration_s=50 * 60, rpe=4, kind="easy", runner="ana")   # 200 au
    j.add_run(start="2025-03-11T07:00", duration_s=60 * 60, rpe=6, kind="easy", runner="ana")   # 360 au
    j.add_days([{"date": "2025-03-05", "sitting_s": 7 * 3600, "bouts_ge_30min": 5, "bouts_ge_2h": 0,
                 "longest_sitting_s": 5400, "breaks_per_sitting_h": 2.0, "wear_s": 14 * 3600, "flags": []}],
               runner="ana")
    j.add_pain(4, where="lower-back-left", when="next-morning", at="2025-03-12T07:30", runner="ana")
    yield j
    j.close()


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def test_timeline_figure_values(journal):
    tl = journal.timeline(runner="ana", start="2025-03-03", end="2025-03-16")
    fig = F.timeline_figure(tl.daily, tl.weekly, tl.runs)
    daily = _trace(fig, "load per day")
    by_day = dict(zip(pd.to_datetime(daily.x).date, daily.y))
    assert by_day[date(2025, 3, 4)] == 120.0 and by_day[date(2025, 3, 6)] == 200.0
    assert by_day[date(2025, 3, 11)] == 360.0 and by_day[date(2025, 3, 5)] == 0.0
    weekly = _trace(fig, "load per week")
    assert list(weekly.y) == [320.0, 360.0]
    assert weekly.text[1] == f"{360 / 320 - 1:+.0%}"  # +12 %: over the 10 % line
    assert weekly.marker.color[1] == F.COLOUR["flag"] and weekly.marker.color[0] == F.COLOUR["load"]
    sitting = _trace(fig, "sitting per day (h)")
    s = dict(zip(pd.to_datetime(sitting.x).date, sitting.y))
    assert s[date(2025, 3, 5)] == pytest.approx(7.0)
    assert sitting.marker.color[list(pd.to_datetime(sitting.x).date).index(date(2025, 3, 5))] == F.COLOUR["flag"]
    pain = _trace(fig, "pain")
    p = dict(zip(pd.to_datetime(pain.x).date, pain.y))
    assert p[date(2025, 3, 12)] == 4.0 and np.isnan(p[date(2025, 3, 13)])
    # hovering the pain row gives the day's details (a day without a run has no load bar to hover)
    i12 = list(pd.to_datetime(pain.x).date).index(date(2025, 3, 12))
    assert "pain 4/10" in pain.hovertext[i12] and pain.hovertext[i12].startswith("<b>Wed 12 Mar 2025</b>")
    heel = _trace(fig, "heel strike (%)")
    assert sorted(int(i) for i in heel.customdata) == sorted(int(i) for i in tl.runs["id"])


def test_day_details_says_unknown_for_unlogged_days(journal):
    tl = journal.timeline(runner="ana", start="2025-03-01", end="2025-03-05")
    texts = F.day_details(tl.daily)
    assert "no data logged" in texts[0]  # 1 March: nothing logged
    assert "40 min" in texts[3] and "load 120" in texts[3]  # 4 March
    assert "sitting 7.0 h" in texts[4]


def test_sitting_alerts_at_30_min_and_2_h():
    bouts = pd.DataFrame({"start_s": [100.0, 5000.0, 20000.0], "end_s": [1000.0, 7000.0, 28000.0]})
    a = F.sitting_alerts(bouts)
    # 15 min: none; 33 min: the 30-min alert; 2 h 13 min: both.
    assert list(a["t_s"]) == [5000.0 + 1800, 20000.0 + 1800, 20000.0 + 7200]
    assert list(a["threshold_s"]) == [1800.0, 1800.0, 7200.0]
    assert F.bout_colour(7200.0) == F.COLOUR["flag"]
    # sitting bouts in the sitting colour's shades: not the walking and running colours of the panel above
    assert {F.bout_colour(1799.0), F.bout_colour(1800.0)}.isdisjoint({F.ACTIVITY_COLOURS["walking"],
                                                                     F.ACTIVITY_COLOURS["running"]})
    assert [F.bout_class(d) for d in (1799.0, 1800.0, 7199.0, 7200.0)] == [0, 1, 1, 2]


def test_downsample_keeps_extremes_and_limits_points():
    t = np.arange(720_000) / 100.0  # 2 h at 100 Hz
    y = np.sin(2 * np.pi * 2.9 * t)
    y[360_123] = 25.0  # one impact peak
    tx, ty = F.downsample(t, y, n_out=3000)
    assert len(tx) <= 3000 and ty.max() == 25.0 and np.all(np.diff(tx) > 0)
    zx, _ = F.downsample(t, y, n_out=3000, x_range=(100.0, 110.0))
    assert zx[0] <= 100.0 and zx[-1] >= 110.0 and len(zx) == 1003  # full detail when zoomed in


def test_fatigue_rows_convert_for_display_and_keep_flags():
    fatigue = [{"bout": 0, "metrics": {
        "contact_time_s": {"early": 0.25, "late": 0.27, "change": 0.02, "flagged": True, "threshold": 0.015},
        "trunk_lean_fwd_deg": {"early": 8.0, "late": 9.0, "change": 1.0, "flagged": False, "threshold": 2.0}}}]
    rows = F.fatigue_rows(fatigue)
    ct = next(r for r in rows if r["metric"].startswith("contact"))
    assert ct["early"] == pytest.approx(250.0) and ct["change"] == pytest.approx(20.0) and ct["flagged"]
    assert ct["threshold"] == pytest.approx(15.0)
    assert ct["bout"] == 1  # counted from 1 for people
    # shown with the metric's digits, never "-0": a 0.3 ms drop of contact time is "-0", written "+0"
    assert F.fatigue_text(ct) == "250 → 270 (+20)"
    assert F.fatigue_text(dict(ct, early=250.2, late=249.9, change=-0.3)) == "250 → 250 (+0)"
    lean = next(r for r in rows if r["metric"].startswith("trunk lean"))
    assert F.fatigue_numbers(lean) == ("8.0", "9.0", "+1.0")


def test_pain_trend_words():
    pains = pd.DataFrame({"local_date": pd.to_datetime(["2025-03-01", "2025-03-03", "2025-03-10", "2025-03-12"]),
                          "rating": [2, 2, 5, 6]})
    t = F.pain_trend(pains, date(2025, 3, 13))
    assert t["recent"] == 5.5 and t["before"] == 2.0 and t["word"].startswith("rising")


def test_association_lines_are_careful():
    assoc = pd.DataFrame({"factor": ["sitting", "sleep"], "description": ["sitting time", "sleep duration"],
                          "lag_days": [1, 0], "rho": [0.52, -0.1], "p_value": [0.01, 0.5], "n": [40, 40],
                          "caution": ["40 days: still one person, an association not a cause"] * 2})
    lines = F.association_lines(assoc)
    assert len(lines) == 1 and "1 day(s) after days with more sitting time" in lines[0]
    assert "not a cause" in lines[0] and "+0.52" in lines[0]


def test_create_app_refuses_open_host_without_password(tmp_path):
    from dashboard.app import create_app, is_loopback

    url = f"sqlite:///{tmp_path / 'j.sqlite3'}"
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("0.0.0.0")
    with pytest.raises(ValueError, match="password"):
        create_app(url, host="0.0.0.0", data_dir=tmp_path / "d")
    app = create_app(url, host="0.0.0.0", password="s3cret", data_dir=tmp_path / "d")
    c = app.server.test_client()
    assert c.get("/").status_code == 401
    import base64

    ok = {"Authorization": "Basic " + base64.b64encode(b"clinic:s3cret").decode()}
    bad = {"Authorization": "Basic " + base64.b64encode(b"clinic:wrong").decode()}
    assert c.get("/", headers=bad).status_code == 401
    assert c.get("/", headers=ok).status_code == 200


def test_uploads_stay_in_the_data_dir_and_respect_the_limit(tmp_path):
    import base64

    from dashboard.data import Settings, UploadError, store_upload

    s = Settings(journal_url="sqlite://", data_dir=tmp_path / "data", max_upload_bytes=100)
    payload = "data:application/octet-stream;base64," + base64.b64encode(b"x" * 50).decode()
    path, created = store_upload(s, "../../etc/evil.json", payload)
    assert created and path.parent == (tmp_path / "data" / "uploads").resolve() and path.read_bytes() == b"x" * 50
    assert store_upload(s, "again.json", payload) == (path, False)
    with pytest.raises(UploadError, match="upload limit"):
        store_upload(s, "big.json", "data:;base64," + base64.b64encode(b"x" * 200).decode())
    with pytest.raises(UploadError, match="type"):
        store_upload(s, "run.exe", payload)
    with pytest.raises(UploadError, match=r"type \.csv; accepted: .*`backstride convert`"):
        store_upload(s, "phone.csv", payload)
    assert [p.name for p in (tmp_path / "data" / "uploads").iterdir()] == [path.name]


# ----------------------------------------------------------------------------
# Display-only reduction of long runs, caches, the plotly.js bundle


def _long_run_steps(n: int = 20_000, cadence_spm: float = 174.0, outlier_at: int = 12_345) -> pd.DataFrame:
    """``n`` running steps at a constant cadence (one step every 60/cadence s), one outlier step."""
    t = np.arange(n) * 60.0 / cadence_spm
    cadence = np.full(n, cadence_spm)
    if outlier_at < n:
        cadence[outlier_at] = 250.0
    lean = 8.0 + 4.0 * t / t[-1]  # grows by 4° over the run
    return pd.DataFrame({"ic_s": t, "activity": "running", "bout": 0.0, "cadence_spm": cadence,
                         "trunk_lean_fwd_deg": lean, "impact_index": np.where(np.arange(n) % 2, 1.0, 2.0)})


def _valid(fig):
    """``fig``, once re-built with plotly's validation on (the figures skip it for speed): a misspelt property
    or a wrong value fails here."""
    import plotly.graph_objects as go

    go.Figure(fig.to_dict())
    return fig


def test_long_run_per_step_overview_hides_no_step_and_zoom_shows_each():
    steps = _long_run_steps()
    fig = _valid(F.per_step_figure(steps, []))
    cadence = next(t for t in fig.data if t.name == "cadence_spm")
    band = next(t for t in fig.data if t.name == "cadence_spm (range)")
    assert len(cadence.x) <= F.STEP_WINDOWS + 1 and np.nanmedian(cadence.y) == 174.0
    assert np.nanmax([y for y in band.y if y is not None]) == 250.0  # the outlier stays visible in the band
    n = np.array(cadence.customdata)[:, 2]
    assert np.nansum(n) == len(steps)  # every step is in exactly one window
    # Zoomed in to 2 minutes: each step there is drawn, at its own time and value.
    t_min = steps["ic_s"].to_numpy() / 60
    lo, hi = 70.0, 72.0
    zoom = _valid(F.per_step_figure(steps, [], x_range_min=(lo, hi)))
    cz = next(t for t in zoom.data if t.name == "cadence_spm")
    truth = (t_min >= lo) & (t_min <= hi)
    assert cz.mode == "markers" and len(cz.x) == truth.sum()
    assert np.allclose(cz.x, t_min[truth]) and list(zoom.layout.xaxis3.range) == [lo, hi]  # 3 panels


def test_window_stats_match_a_direct_count():
    t = np.arange(100, dtype=float)  # minutes
    y = t.copy()
    y[[5, 55]] = np.nan  # no value: not counted
    w = F.window_stats(t, y, 0.0, 100.0, 10)
    assert list(w["n"]) == [9, 10, 10, 10, 10, 9, 10, 10, 10, 10]
    assert list(w["min"]) == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90] and list(w["max"][:2]) == [9, 19]
    assert list(w["t"][:2]) == [5.0, 15.0]


def test_signal_figure_marks_each_step_only_when_they_can_be_seen():
    t = np.arange(720_000) / 100.0
    acc = 9.81 + np.sin(2 * np.pi * 2.9 * t)
    ic = np.arange(0.1, 7200.0, 1 / 2.9)
    whole = _valid(F.signal_figure(t, acc, ic))
    assert [d.name for d in whole.data] == ["|acc| (m/s²)"] and len(whole.data[0].x) <= F.SIGNAL_POINTS
    assert f"{len(ic):,} detected steps" in whole.layout.annotations[0].text
    zoom = _valid(F.signal_figure(t, acc, ic, x_range=(100.0, 130.0)))
    steps = next(d for d in zoom.data if d.name == "step (IC)")
    truth = ic[(ic >= 100.0) & (ic <= 130.0)]
    # marked on the signal: linear interpolation between samples, error at most (2π·2.9 Hz·0.01 s)²/8 ≈ 0.004
    assert np.allclose(steps.x, truth) and np.allclose(steps.y, 9.81 + np.sin(2 * np.pi * 2.9 * truth), atol=5e-3)


def test_strike_histogram_counts_every_running_step():
    steps = _long_run_steps(n=1000)
    steps.loc[:9, "activity"] = "walking"  # not counted
    fig = _valid(F.strike_figure(steps, "lower-back"))
    bars = fig.data[0]
    assert sum(bars.y) == 990 and bars.y[0] == 495 and bars.y[-1] == 495  # impact 1.0 and 2.0, half each
    shoe = pd.DataFrame({"activity": ["running"] * 4, "strike": ["rearfoot", "rearfoot", "midfoot", None]})
    assert list(_valid(F.strike_figure(shoe, "foot-left")).data[0].y) == [2, 1, 0, 0]
    # a recording too slow for the impact index (25 Hz): the empty chart says why
    slow = steps.assign(impact_index=np.nan)
    note = _valid(F.strike_figure(slow, "lower-back", 25.0)).layout.annotations[0].text
    assert "needs a recording of 50 Hz or more, this one has 25 Hz" in note
    # at 100 Hz the rate is not the reason: the page points to the analysis' notes instead
    note = F.strike_figure(slow, "lower-back", 100.0).layout.annotations[0].text
    assert "Hz" not in note and "see the notes above" in note
    assert "no running steps" in F.strike_figure(steps.iloc[:10], "lower-back").layout.annotations[0].text


def test_timeline_and_compare_figures_are_valid_plotly(journal):
    tl = journal.timeline(runner="ana", start="2025-03-03", end="2025-03-16")
    _valid(F.timeline_figure(tl.daily, tl.weekly, tl.runs))
    year = journal.timeline(runner="ana", start="2024-03-17", end="2025-03-16")  # dense: lines, no bar texts
    fig = _valid(F.timeline_figure(year.daily, year.weekly, year.runs))
    assert _trace(fig, "load per week").text is None and _trace(fig, "sleep (h)").mode == "lines"
    a, b = _long_run_steps(n=3000), _long_run_steps(n=5000, cadence_spm=180.0)
    cmp = _valid(F.compare_figure(a, b, ("#1", "#2")))
    assert all(len(t.x) <= F.COMPARE_POINTS for t in cmp.data)
    assert np.nanmedian(next(t for t in cmp.data if t.name == "#2").y) == 180.0


def test_zoom_ranges_from_relayout_data():
    from dashboard.pages.run import _x_range

    assert _x_range({"xaxis3.range[0]": 1.5, "xaxis3.range[1]": 2.5}) == (1.5, 2.5)
    assert _x_range({"xaxis.range": [3, 4]}) == (3.0, 4.0)
    assert _x_range({"xaxis2.autorange": True}) is None
    assert _x_range({"autosize": True}) is False and _x_range(None) is False
    assert _x_range({"yaxis.range[0]": 0, "yaxis.range[1]": 1}) is False


def test_page_cache_is_bounded_and_recomputes_only_missing_keys():
    from dashboard.data import PageCache

    cache, calls = PageCache(max_entries=2), []

    def compute(k):
        calls.append(k)
        return k * 10

    assert [cache.get_or_compute(k, lambda k=k: compute(k)) for k in (1, 2, 1, 3, 2)] == [10, 20, 10, 30, 20]
    assert calls == [1, 2, 3, 2] and len(cache) == 2  # 2 was evicted by 3 (1 was used more recently)
    with pytest.raises(ValueError, match="max_entries"):
        PageCache(max_entries=0)


def test_journal_version_changes_with_every_write(tmp_path):
    from dashboard.data import Settings, journal_version
    from journal import Journal

    url = f"sqlite:///{tmp_path / 'j.sqlite3'}"
    s = Settings(journal_url=url, data_dir=tmp_path / "d")
    with Journal.open(url) as j:
        j.add_runner("ana")
        v1 = journal_version(s)
        assert journal_version(s) == v1  # reading changes nothing
        j.add_pain(3, where="lower-back-centre", when="after-run", runner="ana")
        v2 = journal_version(s)
        j.add_pain(3, where="lower-back-centre", when="after-run", runner="ana")
        assert len({v1, v2, journal_version(s)}) == 3
    assert journal_version(Settings(journal_url="postgresql+psycopg://x/y", data_dir=tmp_path)) is None


def test_timeline_page_is_cached_until_the_journal_changes(tmp_path, journal):
    from dashboard.app import create_app
    from dashboard.pages import timeline

    app = create_app(journal.url, data_dir=tmp_path / "d")
    settings, cache = app.server.config["BACKSTRIDE"], app.server.extensions["backstride_cache"]

    def pain_lines():
        with app.server.test_request_context("/"):
            page = timeline.layout(settings, "ana", {"weeks": "8"})
        return str(page).count("pain 0 → 7/10")

    assert pain_lines() == 0 and pain_lines() == 0 and cache.hits == 1
    # A flagged day (a 10 % jump) followed by a pain rise: the page shows it at once, not a cached view.
    journal.add_run(start="2025-03-13T07:00", duration_s=120 * 60, rpe=8, kind="easy", runner="ana")
    journal.add_pain(7, where="lower-back-left", when="next-morning", at="2025-03-14T07:30", runner="ana")
    assert cache.misses == 1
    pain_lines()
    assert cache.misses == 2


def test_display_signal_is_cached_and_equals_the_recording(tmp_path):
    from dashboard.data import Settings, display_signal, signal_arrays

    rec = ROOT_SAMPLES / "sim_lower_back_run.parquet"
    s = Settings(journal_url="sqlite://", data_dir=tmp_path / "d")
    t, acc = display_signal(s, rec)
    t0, acc0 = signal_arrays(rec)
    assert np.array_equal(t, t0) and np.allclose(acc, acc0, rtol=1e-6)
    assert len(list((tmp_path / "d" / "cache").glob("signal-*/*.signal.parquet"))) == 1
    t2, _ = display_signal(s, rec)  # from the cache
    assert np.array_equal(t2, t0)


def test_a_cached_report_is_not_served_after_the_analysis_code_changes(tmp_path, monkeypatch):
    """Reports are cached per version of the analysis and reader sources (the version number never moved); the
    caches of other versions are deleted when the app starts."""
    from dashboard import data as D

    src = tmp_path / "src"
    src.mkdir()
    (src / "gait.py").write_text("SIDES_ALTERNATION_P = 0.9\n")
    before = D._source_fingerprint([src / "gait.py"])
    (src / "gait.py").write_text("SIDES_ALTERNATION_P = 0.8\n")
    assert D._source_fingerprint([src / "gait.py"]) != before
    with pytest.raises(FileNotFoundError, match="cannot tell which code"):
        D._source_fingerprint([src / "missing.py"])

    s = D.Settings(journal_url="sqlite://", data_dir=tmp_path / "d")
    rec = ROOT_SAMPLES / "sim_lower_back_run.parquet"
    monkeypatch.setattr(D, "_analysis_fingerprint", lambda: "oldcode")
    old_steps, _ = D.analysed_steps(s, rec)
    old_key = D.recording_key(rec)
    monkeypatch.setattr(D, "_analysis_fingerprint", lambda: "newcode")
    assert D.recording_key(rec) != old_key
    assert not any(D.report_cache_dir(s).glob("*"))  # the new code's folder is empty: nothing stale is served
    new_steps, _ = D.analysed_steps(s, rec)
    assert len(new_steps) == len(old_steps)
    (s.cache_dir / "x.steps.parquet").write_text("oldest layout")
    assert D.prune_stale_caches(s) == 3  # the old version's steps and meta, and the flat file
    assert sorted(p.name for p in s.cache_dir.iterdir()) == ["reports-newcode", D.signal_cache_dir(s).name]
    monkeypatch.undo()
    assert D._analysis_fingerprint() == D._analysis_fingerprint()  # computed once per process, stable


def test_pages_load_the_basic_plotly_bundle_of_the_installed_version(tmp_path):
    from plotly.offline import get_plotlyjs_version

    from dashboard.app import PLOTLY_BASIC, create_app, plotly_bundle

    assert PLOTLY_BASIC.read_text()[:200].count(f"v{get_plotlyjs_version()}") == 1 or plotly_bundle() != PLOTLY_BASIC
    app = create_app(f"sqlite:///{tmp_path / 'j.sqlite3'}", data_dir=tmp_path / "d")
    c = app.server.test_client()
    index = c.get("/").get_data(as_text=True)
    url = index.split("window._backstridePlotlyURL = ")[1].split(";")[0].strip('"')
    r = c.get(url)
    assert r.status_code == 200 and r.cache_control.max_age == 365 * 86400
    assert r.get_data() == plotly_bundle().read_bytes()


def test_first_layout_holds_the_requested_page_and_the_router_skips_it(tmp_path, journal):
    """The page named by the layout request's Referer is rendered into the first layout (no round trip)."""
    import json

    from dashboard.app import _page_key, create_app

    app = create_app(journal.url, data_dir=tmp_path / "d")
    c = app.server.test_client()

    def layout(referer=None):
        r = c.get("/_dash-layout", headers={"Referer": referer} if referer else {})
        assert r.status_code == 200
        return r.get_data(as_text=True)

    def page_key(text):
        found = []

        def walk(node):
            if isinstance(node, dict):
                if node.get("props", {}).get("id") == "page-key":
                    found.append(node["props"].get("data"))
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(json.loads(text))
        return found[0]

    run_page = layout("http://localhost/run?runner=ana")
    assert '"run-summary"' in run_page and '"tl-graph"' not in run_page
    assert page_key(run_page) == _page_key("/run", "?runner=ana", "ana")
    home = layout("http://localhost/")
    assert '"tl-graph"' in home and page_key(home) == _page_key("/", "", "ana")
    # No Referer (or another site's): an empty page area, rendered by the router callback as before.
    for bare in (layout(), layout("http://elsewhere.example/run")):
        assert '"run-summary"' not in bare and '"tl-graph"' not in bare and page_key(bare) is None
    # The key says what the page depends on: the runner in the query wins over the picker's.
    assert _page_key("/run", "?runner=ana", "bob") == _page_key("/run/", "?runner=ana", "ana")
    assert _page_key("/run", "", "bob") != _page_key("/run", "", "ana")
    assert _page_key("/run", "?id=1", "ana") != _page_key("/run", "?id=2", "ana")


def test_pages_load_regenerator_runtime_instead_of_the_whole_polyfill(tmp_path):
    from dashboard.app import REGENERATOR, create_app

    app = create_app(f"sqlite:///{tmp_path / 'j.sqlite3'}", data_dir=tmp_path / "d")
    c = app.server.test_client()
    index = c.get("/").get_data(as_text=True)
    assert "polyfill@" not in index
    scripts = [line.strip() for line in index.splitlines() if line.strip().startswith("<script src=")]
    # regenerator-runtime where the polyfill was: before React and the component bundles that need it.
    assert "regenerator-runtime" in scripts[0] and "react@" in scripts[1]
    url = scripts[0].split('"')[1]
    r = c.get(url)
    assert r.status_code == 200 and r.get_data() == REGENERATOR.read_bytes()
    assert "regeneratorRuntime = runtime" in r.get_data(as_text=True)


def test_live_numbers_include_heart_rate_and_pace_from_a_strap_or_footpod():
    from dashboard.pages.live import _fmt_metric

    lean, cad, _heel, sit, hr, pace = _fmt_metric({"trunk_lean_deg": 7.25, "cadence_spm": 171.6, "sitting_s": 605.0,
                                                   "hr_bpm": 142.0, "speed_m_s": 3.2})
    assert (lean, cad, sit, hr) == ("7.2°", "172/min", "10:05", "142 bpm")
    assert pace == "5:12 /km"  # 1000 m / 3.2 m/s = 312.5 s, rounded half to even: 312 s
    # no strap, no contact (0 bpm), standing still: nothing invented
    assert _fmt_metric({"hr_bpm": 0.0, "speed_m_s": 0.2})[4:] == ("–", "–")
    assert _fmt_metric({})[4:] == ("–", "–")
    # moving (the sitting timer at 0): said as such, not "0:00" of sitting; no posture yet: "–"
    assert _fmt_metric({"sitting_s": 0.0})[3] == "not sitting" and _fmt_metric({"sitting_s": None})[3] == "–"


def test_sitting_reported_at_the_check_in_is_shown_and_flagged_on_the_timeline(journal):
    """Self-reported sitting at work (check-in) has its own markers and hover line; 6.5 h on a day without an all-day
    recording is flagged, as 6 h measured would be."""
    journal.add_runner("bo", timezone="UTC")
    journal.add_checkin(day=date(2025, 3, 3), work_sitting_s=6.5 * 3600, runner="bo")
    journal.add_checkin(day=date(2025, 3, 4), work_sitting_s=3.0 * 3600, runner="bo")
    tl = journal.timeline(runner="bo", start="2025-03-03", end="2025-03-04")
    assert tl.daily["flags"].tolist() == [["6.5 h sitting at work, reported (≥ 6 h)"], []]
    fig = F.timeline_figure(tl.daily, tl.weekly, tl.runs)
    reported = _trace(fig, "sitting at work, reported (h)")
    assert list(reported.y) == [6.5, 3.0]
    assert "sitting at work 6.5 h (reported at the check-in)" in reported.hovertext[0]
    assert "⚑ 6.5 h sitting at work, reported" in reported.hovertext[0]
    assert list(reported.marker.color) == [F.COLOUR["flag"], F.COLOUR["sitting"]]  # flagged red, as the page says


def test_an_all_day_recording_opens_on_its_run_and_a_run_on_all_of_it():
    # 10 h recording, running from 60 to 90 min (steps every 0.35 s), walking before and after
    run_t = np.arange(3600.0, 5400.0, 0.35)
    steps = pd.DataFrame({"ic_s": np.concatenate([[600.0, 601.0], run_t, [7000.0]]),
                          "activity": ["walking"] * 2 + ["running"] * len(run_t) + ["walking"]})
    lo, hi = F.running_view(steps, 10 * 3600.0)
    assert lo == pytest.approx(3600.0 - 60.0) and hi == pytest.approx(run_t[-1] + 60.0)
    # the same run in a 40-min recording is most of it: the whole recording is shown
    assert F.running_view(steps.assign(ic_s=steps["ic_s"] - 3000.0), 2400.0) is None
    assert F.running_view(steps[steps["activity"] == "walking"], 10 * 3600.0) is None
    # the figures take the view: the signal's x axis and the per-step panels' (minutes)
    t = np.arange(0.0, 10 * 3600.0, 1.0)
    fig = F.signal_figure(t, np.full(len(t), 9.81), steps["ic_s"].to_numpy(), x_range=(lo, hi))
    assert list(fig.layout.xaxis.range) == [lo, hi]


def test_number_text_never_shows_minus_zero():
    """A drift of -0.04° is "+0.0°" (was "-0.0°"), -0.06° is "-0.1°"; missing or non-finite is "–"; the scale
    applies before formatting (one helper for the Run page, the report and the hovers)."""
    assert F.number_text(-0.04, "+.1f", "°") == "+0.0°"
    assert F.number_text(-0.04, ".1f") == "0.0" and F.number_text(-0.4, ".0f", " min") == "0 min"
    assert F.number_text(-0.06, "+.1f", "°") == "-0.1°" and F.number_text(0.04, "+.1f") == "+0.0"
    assert F.number_text(5400, ".1f", " h", 1 / 3600) == "1.5 h"
    assert F.number_text(float("nan"), ".1f") == "–" and F.number_text(None, ".1f", none="?") == "?"
    assert F.number_text("x", ".1f") == "–"
