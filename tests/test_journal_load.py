"""Load metrics against values worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from journal import load as L
from journal.errors import InvalidValueError

D0 = date(2026, 3, 2)  # a Monday


def _series(values, start=D0):
    idx = pd.date_range(pd.Timestamp(start), periods=len(values), freq="D")
    return pd.Series([np.nan if v is None else float(v) for v in values], index=idx)


# -- per run ------------------------------------------------------------------------------


def test_session_load_is_minutes_times_rpe():
    assert L.session_load_au(45 * 60, 6) == pytest.approx(270.0)  # 45 min × 6
    assert L.session_load_au(45 * 60, None) is None


def test_trimp_from_mean_heart_rate_male_and_female():
    # 30 min at 150 bpm, rest 50, max 190: HRr = 100/140 = 5/7
    hrr = 5 / 7
    male = 30 * hrr * 0.64 * math.exp(1.92 * hrr)      # 30 × 0.7143 × 0.64 × e^1.3714 = 54.05
    female = 30 * hrr * 0.86 * math.exp(1.67 * hrr)    # 30 × 0.7143 × 0.86 × e^1.1929 = 60.75
    assert male == pytest.approx(54.05, abs=0.01)
    assert female == pytest.approx(60.75, abs=0.01)
    assert L.trimp_from_mean(1800, 150, hr_rest_bpm=50, hr_max_bpm=190) == pytest.approx(male)
    assert L.trimp_from_mean(1800, 150, hr_rest_bpm=50, hr_max_bpm=190, sex="female") == pytest.approx(female)


def test_trimp_from_samples_skips_pauses_and_clips():
    # 0-60 s at 120 bpm (HRr 0.5), 60-120 s at 160 bpm (HRr 110/140), 120-300 s is a pause (> 60 s),
    # the last sample closes nothing.  0.5·0.64·e^0.96 (2.6117) = 0.8357;
    # 0.7857·0.64·e^1.5086 (4.5205) = 2.2731; sum 3.1088.
    t = [0, 60, 120, 300]
    hr = [120, 160, 190, 100]
    expected = 1 * 0.5 * 0.64 * math.exp(1.92 * 0.5) + 1 * (110 / 140) * 0.64 * math.exp(1.92 * 110 / 140)
    assert expected == pytest.approx(3.1088, abs=1e-3)
    assert L.trimp_from_samples(t, hr, hr_rest_bpm=50, hr_max_bpm=190) == pytest.approx(expected)
    # below rest counts as 0, above max as 1
    assert L.trimp_from_samples([0, 60, 120], [40, 200, 0], hr_rest_bpm=50, hr_max_bpm=190) == pytest.approx(
        1 * 1.0 * 0.64 * math.exp(1.92))
    assert L.trimp_from_samples([0], [150], hr_rest_bpm=50, hr_max_bpm=190) is None
    assert L.trimp_from_samples([0, 600], [150, 150], hr_rest_bpm=50, hr_max_bpm=190) is None


def test_mechanical_load_is_steps_times_impact():
    assert L.mechanical_load_au(5000, 1.2) == pytest.approx(6000.0)
    assert L.mechanical_load_au(None, 1.2) is None


# -- daily series and gaps --------------------------------------------------------------------


def _runs(rows):
    return pd.DataFrame(rows, columns=["local_date", "duration_s", "session_load_au", "distance_m", "trimp_au",
                                       "mechanical_load_au"])


def test_daily_load_separates_rest_days_from_unknown_days():
    runs = _runs([(D0, 1800, 120.0, 5000, None, None),
                  (D0, 600, 30.0, 2000, None, None),          # two runs on one day: summed
                  (D0 + timedelta(days=3), 2400, None, 7000, None, None)])  # no RPE: load unknown
    logged = {D0, D0 + timedelta(days=1), D0 + timedelta(days=3)}  # day 2 has nothing at all
    d = L.daily_load(runs, logged, start=D0, end=D0 + timedelta(days=3), load="session")
    assert list(d["runs_n"]) == [2, 0, 0, 1]
    assert d["load"].iloc[0] == pytest.approx(150.0)
    assert d["load"].iloc[1] == 0.0                     # logged, no run: a rest day
    assert np.isnan(d["load"].iloc[2])                  # nothing logged: unknown, not 0
    assert np.isnan(d["load"].iloc[3])                  # a run without RPE: unknown
    dur = L.daily_load(runs, logged, start=D0, end=D0 + timedelta(days=3), load="duration")
    assert list(dur["load"].fillna(-1)) == [2400.0, 0.0, -1, 2400.0]
    rest = L.daily_load(runs, logged, start=D0, end=D0 + timedelta(days=3), load="session", unlogged="rest")
    assert rest["load"].iloc[2] == 0.0
    with pytest.raises(InvalidValueError):
        L.daily_load(runs, logged, start=D0, end=D0, load="speed")


# -- acute:chronic -----------------------------------------------------------------------------


def test_acwr_rolling_uncoupled_and_coupled():
    # days 0-20 at 10, days 21-27 at 20.  On day 27: acute = mean(days 21-27) = 20;
    # uncoupled chronic = mean(days 0-20) = 10 -> 2.0; coupled chronic = (21×10 + 7×20)/28 = 12.5 -> 1.6
    s = _series([10] * 21 + [20] * 7)
    un = L.acwr_rolling(s)
    assert un["acute_mean"].iloc[-1] == pytest.approx(20.0)
    assert un["chronic_mean"].iloc[-1] == pytest.approx(10.0)
    assert un["acwr"].iloc[-1] == pytest.approx(2.0)
    assert un["acute_coverage"].iloc[-1] == 1.0 and un["chronic_coverage"].iloc[-1] == 1.0
    co = L.acwr_rolling(s, coupled=True)
    assert co["acwr"].iloc[-1] == pytest.approx(1.6)
    # before 21 chronic days exist, coverage is short: day 20 has chronic days -7..13 -> 14/21 < 0.75
    assert np.isnan(un["acwr"].iloc[20])
    assert un["chronic_coverage"].iloc[20] == pytest.approx(14 / 21)


def test_acwr_rolling_gap_cases():
    base = [10] * 21 + [20] * 7
    # two unknown acute days: mean over the 5 known is still 20, coverage 5/7 < 0.75 -> NaN by default
    s = _series(base[:22] + [None, None] + base[24:])
    r = L.acwr_rolling(s)
    assert r["acute_coverage"].iloc[-1] == pytest.approx(5 / 7)
    assert np.isnan(r["acwr"].iloc[-1])
    r = L.acwr_rolling(s, min_coverage=0.7)
    assert r["acwr"].iloc[-1] == pytest.approx(2.0)
    # one unknown acute day (6/7 known) passes the default
    s = _series(base[:22] + [None] + base[23:])
    assert L.acwr_rolling(s)["acwr"].iloc[-1] == pytest.approx(2.0)
    # chronic: 5 unknown of 21 (16/21 = 0.76) -> value; 6 unknown (15/21 = 0.71) -> NaN
    s5 = _series([None] * 5 + [10] * 16 + [20] * 7)
    assert L.acwr_rolling(s5)["acwr"].iloc[-1] == pytest.approx(2.0)
    s6 = _series([None] * 6 + [10] * 15 + [20] * 7)
    assert np.isnan(L.acwr_rolling(s6)["acwr"].iloc[-1])
    # a chronic mean of 0 gives no ratio (not infinity)
    z = _series([0] * 21 + [20] * 7)
    assert np.isnan(L.acwr_rolling(z)["acwr"].iloc[-1])


def test_ewma_by_hand_with_an_unknown_day():
    # λ(7) = 2/8 = 0.25: 10 -> 0.25·0 + 0.75·10 = 7.5 -> unknown keeps 7.5 -> 0.25·20 + 0.75·7.5 = 10.625
    e = L.ewma(_series([10, 0, None, 20]), 7)
    assert list(e) == pytest.approx([10.0, 7.5, 7.5, 10.625])
    # λ(28) = 2/29
    lam = 2 / 29
    e28 = L.ewma(_series([10, 0]), 28)
    assert e28.iloc[1] == pytest.approx((1 - lam) * 10)
    # unknown days before the first known day stay unknown
    assert np.isnan(L.ewma(_series([None, 5]), 7).iloc[0])


def test_acwr_ewma_warm_up_and_value():
    s = _series([10] * 40)
    r = L.acwr_ewma(s)
    assert r["acwr_ewma"].iloc[:27].isna().all()          # first 27 days after the first known day
    assert r["acwr_ewma"].iloc[27] == pytest.approx(1.0)   # constant load: both averages are 10
    # a day of 80 after 40 days at 10: acute 0.25·80 + 0.75·10 = 27.5; chronic (2/29)·80 + (27/29)·10
    s2 = _series([10] * 40 + [80])
    r2 = L.acwr_ewma(s2)
    chronic = 2 / 29 * 80 + 27 / 29 * 10
    assert r2["ewma_acute"].iloc[-1] == pytest.approx(27.5)
    assert r2["acwr_ewma"].iloc[-1] == pytest.approx(27.5 / chronic)


def test_acwr_ewma_is_blank_after_weeks_without_data():
    # 40 known days at 10, then 60 unlogged days: the averages carry on at 10, the ratio must not (it would read
    # 1.0, a steady runner, for a runner the journal knows nothing about)
    s = _series([10] * 40 + [None] * 60 + [10] * 7)
    r = L.acwr_ewma(s)
    assert r["ewma_acute"].iloc[99] == pytest.approx(10.0)            # the state is kept ...
    assert r["acwr_ewma"].iloc[40] == pytest.approx(1.0)              # 6 of the last 7 days known (0.86)
    assert r["acwr_ewma"].iloc[41:100].isna().all()                   # ... the ratio is not shown: 5/7 < 0.75
    assert r["acwr_ewma"].iloc[105] == pytest.approx(1.0)             # 6 known days again
    assert r["acwr_ewma"].iloc[100:105].isna().all()


# -- monotony and strain -----------------------------------------------------------------------


def test_monotony_and_strain_by_hand():
    week = [0, 60, 0, 60, 0, 120, 0]
    mean = 240 / 7
    sd = statistics.stdev(week)  # sample SD (n − 1): sqrt(13371.43/6) = 47.21
    assert sd == pytest.approx(47.208, abs=1e-3)
    m = L.monotony_strain(_series(week))
    assert m["monotony"].iloc[-1] == pytest.approx(mean / sd)            # 0.7263
    assert m["strain"].iloc[-1] == pytest.approx(240 * mean / sd)        # 174.3
    assert m["monotony"].iloc[-1] == pytest.approx(0.7263, abs=1e-4)


def test_monotony_gap_cases():
    # one unknown day: computed over the 6 known days, strain scaled to 7 days
    six = [0, 60, 0, 60, 0, 120]
    m = L.monotony_strain(_series(six[:3] + [None] + six[3:]))
    mean6, sd6 = statistics.mean(six), statistics.stdev(six)
    assert m["monotony"].iloc[-1] == pytest.approx(mean6 / sd6)
    assert m["strain"].iloc[-1] == pytest.approx(7 * mean6 * mean6 / sd6)
    # two unknown days: 5/7 < 0.75 -> NaN
    m2 = L.monotony_strain(_series([0, None, 60, None, 0, 120, 0]))
    assert np.isnan(m2["monotony"].iloc[-1])
    # identical loads: SD 0 -> NaN, not infinity
    assert np.isnan(L.monotony_strain(_series([50] * 7))["monotony"].iloc[-1])


def test_weekly_totals_and_coverage():
    # Monday-to-Sunday weeks; second week has two unknown days
    vals = [0, 60, 0, 60, 0, 120, 0] + [30, None, 30, None, 30, 90, 0]
    s = _series(vals)
    daily = pd.DataFrame({"load": s, "duration_s": s * 10})
    w = L.weekly(daily, {"duration_s": "duration_s"})
    assert list(w.index) == [pd.Timestamp(D0), pd.Timestamp(D0 + timedelta(days=7))]
    assert list(w["load_known"]) == [240.0, 180.0]
    assert list(w["known_days"]) == [7, 5]
    assert w["coverage"].iloc[1] == pytest.approx(5 / 7)
    assert w["monotony"].iloc[0] == pytest.approx((240 / 7) / statistics.stdev(vals[:7]))
    assert np.isnan(w["monotony"].iloc[1])  # 5/7 known < 0.75
    assert w["duration_s"].iloc[0] == pytest.approx(2400.0)
