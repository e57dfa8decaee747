"""The demo runner: deterministic, loaded once, and its story shows up as flags (hand-computed)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from journal import Journal
from journal.demo import DEFAULT_START, GAP_DAYS, SPIKE_DAY, generate, load_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "j.sqlite3"
    assert load_demo(path) == "demo"
    with Journal.open(path) as j:
        yield j, j.timeline(runner="demo", weeks=8)


def _ts(i):
    return pd.Timestamp(DEFAULT_START + timedelta(days=i))


def test_generator_is_deterministic():
    a, b, c = generate(1), generate(1), generate(2)
    assert a.runs == b.runs and a.days == b.days and a.pains == b.pains and a.analyses == b.analyses
    assert a.days != c.days
    assert len(a.runs) == 22 and len(a.analyses) == 20 and len(a.days) == 53
    with pytest.raises(ValueError, match="Monday"):
        generate(1, start=date(2025, 1, 7))


def test_load_demo_once(demo, tmp_path):
    j, _ = demo
    assert load_demo(j.url) == "demo"  # second call: nothing added
    assert len(j.runs(runner="demo")) == 22
    assert len(j.sitting_days(runner="demo")) == 53
    # the analysis summaries were merged into the typed runs, not added as extra runs
    assert j.runs(runner="demo")["mechanical_load_au"].notna().sum() == 20


def test_gap_days_are_unknown(demo):
    _, tl = demo
    for i in GAP_DAYS:
        assert not tl.daily.loc[_ts(i), "logged"]
        assert np.isnan(tl.daily.loc[_ts(i), "load"])
    assert tl.weekly["known_days"].iloc[2] == 4


def test_weekly_loads_and_the_spike_week(demo):
    _, tl = demo
    # week 1: 40×3 + 45×3 + 70×4 = 535; week 2: 42×3 + 45×3 + 72×4 = 549;
    # week 3 (known days): 42×3 + 46×3 + 74×4 = 560; week 4: 43×3 + 47×3 + 76×4 = 574;
    # week 5: 50×8 + 50×7 + 100×6 = 1350
    assert list(tl.weekly["load_known"].iloc[:5]) == [535, 549, 560, 574, 1350]
    assert tl.weekly["flag"].iloc[4] is True
    assert tl.weekly["increase"].iloc[4] == pytest.approx(1350 / 574 - 1)
    assert tl.weekly["flag"].iloc[2] is None  # the gap week cannot be decided
    # crossing day: 400 (Tue) + 350 (Thu) = 750 > 1.1 × 574 = 631.4 on Thursday, day 31
    assert "week session load +135% on the week before" in tl.daily.loc[_ts(31), "flags"]


def test_spike_run_and_acute_chronic_ratio(demo):
    _, tl = demo
    flags = tl.daily.loc[_ts(SPIKE_DAY), "flags"]
    # 100 min against the recent long runs 72, 74, 76 min: +31.6 %; load 600 against 304: +97 %
    assert "+32% longer than recent long runs; +97% heavier than recent long runs" in flags
    # acute: days 27-33 = 0+0+400+0+350+0+600 = 1350 / 7; chronic: days 6-26, 18 known days
    # (3 unknown): 0 + 549 + (0+126+138+296) + (0+129+0+141+0+304) = 1683 / 18 = 93.5
    acwr = tl.daily.loc[_ts(SPIKE_DAY), "acwr"]
    assert acwr == pytest.approx((1350 / 7) / (1683 / 18))
    assert any("acute:chronic 2.06" in f for f in flags)


def test_intensity_before_volume_in_week_7(demo):
    _, tl = demo
    # day 45 intervals: runs on days 40 (35 min), 43 (30), 45 (40) = 105 min; usual = median of
    # 155, 159, 162, 166, 200, 65 min = 160.5 min; 105 < 0.9 × 160.5
    flags = tl.daily.loc[_ts(45), "flags"]
    assert "intervals before volume is back to usual (105 min in 7 days, usual 160 min)" in flags


def test_sitting_and_pain_flags(demo):
    _, tl = demo
    for i in range(28, 33):  # the deadline week
        assert "sitting" in tl.daily.loc[_ts(i), "flag_kinds"]
    last = [pf for pf in tl.pain_flags if pf.date == DEFAULT_START + timedelta(days=55)]
    assert [pf.kind for pf in last] == ["persisting"]
    assert last[0].since == DEFAULT_START + timedelta(days=SPIKE_DAY)
    assert "worth discussing with a physiotherapist who works with runners" in last[0].message


def test_pain_episode_after_the_spike(demo):
    _, tl = demo
    eps = {e.date: e for e in tl.pain_episodes()}
    spike = DEFAULT_START + timedelta(days=SPIKE_DAY)
    assert spike in eps
    e = eps[spike]
    assert (e.rating, e.baseline) == (3.0, 0.0)
    flagged_days = [d for d, _ in e.flagged]
    assert DEFAULT_START + timedelta(days=31) in flagged_days and spike in flagged_days
