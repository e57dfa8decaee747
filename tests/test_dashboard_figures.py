"""Fast tests of the dashboard's pure figure functions, on journal data with known values.

The expected numbers come from the entries themselves (a 40-min run at RPE 3
has a session load of 120 au; 7 h of sitting is over the 6 h line), not from
what the functions returned before.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard import figures as F


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
    sitting = _trace(fig, "sitting")
    s = dict(zip(pd.to_datetime(sitting.x).date, sitting.y))
    assert s[date(2025, 3, 5)] == pytest.approx(7.0)
    assert sitting.marker.color[list(pd.to_datetime(sitting.x).date).index(date(2025, 3, 5))] == F.COLOUR["flag"]
    pain = _trace(fig, "pain")
    p = dict(zip(pd.to_datetime(pain.x).date, pain.y))
    assert p[date(2025, 3, 12)] == 4.0 and np.isnan(p[date(2025, 3, 13)])
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
    assert F.bout_colour(7200.0) == F.COLOUR["flag"] and F.bout_colour(1799.0) == F.COLOUR["lean"]


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
    assert [p.name for p in (tmp_path / "data" / "uploads").iterdir()] == [path.name]
