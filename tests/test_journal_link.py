"""The daily timeline, lagged associations and pain episodes, on a small journal worked out by hand."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from journal import Journal
from journal.link import CAVEAT, SAME_DAY_CAUTION, caution, lagged_associations, spearman

D0 = date(2026, 3, 2)  # a Monday
UNKNOWN_DAY = D0 + timedelta(days=9)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Two weeks, UTC runner.

    ====  ==========================================  =====================================
    day   entries                                     expected
    ====  ==========================================  =====================================
    0-13  check-in every day except day 9             day 9 unknown (no silent zero)
    1, 3  easy 40 min RPE 3 (load 120 each)
    5     long 60 min RPE 4 (240)                     week 1: 480, all days known
    8, 10 easy 40 min RPE 3 (120 each)
    11    sitting day, longest bout 2.5 h, 7 h        sitting flags
    12    long 80 min RPE 5 (400)                     week 2: 640 > 1.1 × 480 = 528 though
                                                      day 9 is unknown -> flag, crossing day 12
    13    pain 5/10 next morning                      rose from 0 (day 12 check-in without
                                                      pain) -> episode after days 11, 12
    ====  ==========================================  =====================================
    """
    path = tmp_path_factory.mktemp("link") / "j.sqlite3"
    with Journal.open(path) as j:
        j.add_runner("ana")
        for i in range(14):
            if D0 + timedelta(days=i) != UNKNOWN_DAY:
                j.add_checkin(day=D0 + timedelta(days=i), sleep_s=(7 + (i % 3) * 0.5) * 3600, stress=1 + i % 4)
        for off, kind, minutes, rpe in ((1, "easy", 40, 3), (3, "easy", 40, 3), (5, "long", 60, 4),
                                        (8, "easy", 40, 3), (10, "easy", 40, 3), (12, "long", 80, 5)):
            d = D0 + timedelta(days=off)
            j.add_run(start=datetime.combine(d, time(7), timezone.utc), duration_s=minutes * 60, rpe=rpe, kind=kind,
                      distance_m=minutes * 170.0)
        j.add_day({"date": (D0 + timedelta(days=11)).isoformat(), "sitting_s": 7 * 3600.0, "bouts_ge_30min": 4,
                   "bouts_ge_2h": 1, "longest_sitting_s": 9000.0, "breaks_per_sitting_h": 1.0,
                   "wear_s": 15 * 3600.0, "flags": []})
        j.add_exercise("plank", sets=3, day=D0)
        j.add_pain(5, where="lower-back-right", when="next-morning",
                   at=datetime.combine(D0 + timedelta(days=13), time(7, 30), timezone.utc))
    return path


def _ts(off):
    return pd.Timestamp(D0 + timedelta(days=off))


def test_timeline_joins_everything_per_day(small):
    with Journal.open(small) as j:
        tl = j.timeline(weeks=2)
    d = tl.daily
    assert (tl.start, tl.end) == (D0, D0 + timedelta(days=13))
    assert len(d) == 14
    assert d.loc[_ts(0), "load"] == 0.0 and d.loc[_ts(0), "logged"]
    assert d.loc[_ts(1), "load"] == 120.0 and d.loc[_ts(1), "run_kinds"] == "easy"
    assert d.loc[_ts(12), "load"] == 400.0 and d.loc[_ts(12), "duration_s"] == 4800.0
    assert np.isnan(d.loc[_ts(9), "load"]) and not d.loc[_ts(9), "logged"]   # no silent zero
    assert d.loc[_ts(11), "longest_sitting_s"] == 9000.0
    assert d.loc[_ts(4), "sleep_s"] == pytest.approx(7.5 * 3600) and d.loc[_ts(4), "stress"] == 1
    assert d.loc[_ts(0), "core_n"] == 1 and d.loc[_ts(1), "core_n"] == 0 and np.isnan(d.loc[_ts(9), "core_n"])
    # pain: 5 on day 13; 0 on check-in days without a report; unknown on day 9
    assert d.loc[_ts(13), "pain"] == 5 and d.loc[_ts(13), "pain_where"] == "lower-back-right"
    assert d.loc[_ts(12), "pain"] == 0 and np.isnan(d.loc[_ts(9), "pain"])


def test_a_days_pain_in_two_places_keeps_each_places_rating(tmp_path, capsys):
    """6/10 in the lower back after a run and 4/10 in the buttock at work, the same day: the day's worst (6) is the
    lower back's, the buttock shown with its own 4 (was "6 buttock-left, lower-back-left": 6 in both)."""
    from sensing.cli import main

    url = f"sqlite:///{tmp_path / 'j.sqlite3'}"
    with Journal.open(url) as j:
        j.add_runner("ana")
        at = datetime.combine(D0, time(8), timezone.utc)
        j.add_pain(4, where="buttock-left", when="at-work", at=at)
        j.add_pain(6, where="lower-back-left", when="after-run", at=at + timedelta(hours=9))
        j.add_pain(3, where="lower-back-left", when="next-morning", at=at + timedelta(hours=1))
        j.add_pain(6, where="leg-left", when="after-run", at=at + timedelta(hours=10))
        d = j.timeline(end=D0, weeks=1).daily
    assert d.loc[_ts(0), "pain_max"] == 6
    assert d.loc[_ts(0), "pain_where"] == "leg-left, lower-back-left, buttock-left 4/10"
    assert main(["timeline", "--journal", url, "--end", D0.isoformat(), "--weeks", "1"]) == 0
    assert "6 leg-left, lower-back-left, buttock-left 4/10" in " ".join(capsys.readouterr().out.split())


def test_timeline_flags_on_the_right_days(small):
    with Journal.open(small) as j:
        tl = j.timeline(weeks=2)
    d = tl.daily
    assert d.loc[_ts(11), "flag_kinds"] == ["sitting"]
    assert d.loc[_ts(11), "flags"] == ["sitting bout ≥ 2 h (longest 2.5 h)", "7.0 h sitting (≥ 6 h)"]
    assert d.loc[_ts(12), "flag_kinds"] == ["week"]
    assert d.loc[_ts(12), "flags"] == ["week session load +33% on the week before"]
    assert d.loc[_ts(12), "flagged"] == 1.0 and d.loc[_ts(10), "flagged"] == 0.0
    assert np.isnan(d.loc[_ts(9), "flagged"])
    w = tl.weekly
    assert list(w["load_known"]) == [480.0, 640.0]
    assert list(w["known_days"]) == [7, 6]
    assert w["increase"].iloc[1] == pytest.approx(640 / 480 - 1)
    assert w["flag"].iloc[1] is True
    assert list(w["runs_n"]) == [3, 3]


def test_pain_episode_after_flagged_days(small):
    with Journal.open(small) as j:
        episodes = j.pain_episodes()
    assert len(episodes) == 1
    e = episodes[0]
    assert (e.date, e.rating, e.baseline) == (D0 + timedelta(days=13), 5.0, 0.0)
    assert [day for day, _ in e.flagged] == [D0 + timedelta(days=11), D0 + timedelta(days=12)]
    assert "week session load +33%" in e.text


def test_unlogged_days_as_rest_days(small):
    with Journal.open(small) as j:
        tl = j.timeline(weeks=2, unlogged="rest")
    assert tl.daily.loc[_ts(9), "load"] == 0.0
    assert list(tl.weekly["known_days"]) == [7, 7]


def test_other_load_measures(small):
    with Journal.open(small) as j:
        tl = j.timeline(weeks=2, load="duration")
    # weekly running time 40+40+60 = 140 min, then 40+40+80 = 160 min: +14 % > 10 % -> flag on day 12
    assert list(tl.weekly["load_known"]) == [140 * 60.0, 160 * 60.0]
    assert tl.daily.loc[_ts(12), "flags"] == ["week duration +14% on the week before"]


def test_spearman_against_the_rank_formula():
    # no ties: rho = 1 − 6·Σd² / (n(n² − 1)); ranks of y = 2,1,4,3,5 -> d = −1,1,−1,1,0, Σd² = 4
    rho, p, n = spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    assert n == 5 and rho == pytest.approx(1 - 6 * 4 / (5 * 24))  # 0.8
    rho, p, n = spearman([1, np.nan, 3, 4], [1, 2, np.nan, 4])
    assert n == 2 and math.isnan(rho)                               # fewer than 3 pairs
    assert math.isnan(spearman([1, 1, 1, 1], [1, 2, 3, 4])[0])       # constant factor


def test_lagged_associations_shift_the_factor_back():
    idx = pd.date_range("2026-03-02", periods=12, freq="D")
    x = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
    pain = [np.nan] + x[:-1]  # pain today = factor yesterday
    daily = pd.DataFrame({"f": x, "pain": pain}, index=idx)
    a = lagged_associations(daily, factors={"f": ("f", "factor")}, max_lag_days=2)
    assert list(a["lag_days"]) == [0, 1, 2]
    lag1 = a[a["lag_days"] == 1].iloc[0]
    assert lag1["rho"] == pytest.approx(1.0) and lag1["n"] == 11
    assert lag1["caution"] == "11 days: a hint at most, easily chance"
    # the same day cannot tell which came first: pain may have changed the factor
    assert a[a["lag_days"] == 0].iloc[0]["caution"] == f"11 days: a hint at most, easily chance; {SAME_DAY_CAUTION}"
    assert a[a["lag_days"] == 2].iloc[0]["n"] == 10


def test_caution_wording():
    assert caution(7) == "only 7 days: too few to read anything into"
    assert "hint" in caution(20)
    assert "not a cause" in caution(60)
    assert "not causes" in CAVEAT


def test_associations_through_the_journal(small):
    with Journal.open(small) as j:
        a = j.associations()
    sleep0 = a[(a["factor"] == "sleep") & (a["lag_days"] == 0)].iloc[0]
    assert sleep0["n"] == 13          # 13 days with both sleep and pain known
    assert sleep0["caution"].startswith("13 days")
    assert set(a["lag_days"]) == {0, 1, 2, 3}


def test_a_run_whose_form_drifted_under_fatigue_is_flagged_on_its_day_and_counts_before_pain(tmp_path):
    """End to end: two simulated lower-back runs, one steady, one whose forward lean grows 5° over the run (the
    first and last fifths' medians differ by 4°, above the 2° limit), analysed and imported; pain rises the day
    after the drifting run."""
    from analysis.pipeline import analyse
    from analysis.simulate import lower_back_run

    day = {"steady": D0 + timedelta(days=1), "drifting": D0 + timedelta(days=3)}
    with Journal.open(tmp_path / "j.sqlite3") as j:
        j.add_runner("ana")
        for i in range(5):
            j.add_checkin(day=D0 + timedelta(days=i), sleep_s=7 * 3600)
        for name, grow_deg in (("steady", 0.0), ("drifting", 5.0)):
            rec, _ = lower_back_run(sampling_rate_hz=100.0, run_s=120.0, late_lean_increase_deg=grow_deg, seed=5)
            doc = analyse(rec).to_dict()
            doc["recording"]["start_utc"] = datetime.combine(day[name], time(7), timezone.utc).isoformat()
            j.import_analysis(doc, rpe=3, kind="easy")
        j.add_pain(4, where="lower-back-centre", when="next-morning",
                   at=datetime.combine(D0 + timedelta(days=4), time(7, 30), timezone.utc))
        tl = j.timeline(weeks=1, end=D0 + timedelta(days=4))
    runs = tl.runs.set_index("local_date")
    assert runs.loc[day["steady"], "form_flag"] is False and runs.loc[day["steady"], "form_reason"] == ""
    assert runs.loc[day["drifting"], "form_flag"] is True
    change = float(runs.loc[day["drifting"], "form_reason"].split("trunk lean forward ")[1].split("°")[0])
    assert change == pytest.approx(4.0, abs=1.0)
    d = tl.daily
    assert d.loc[pd.Timestamp(day["drifting"]), "flag_kinds"] == ["form"]
    assert d.loc[pd.Timestamp(day["steady"]), "flag_kinds"] == []
    assert d.loc[pd.Timestamp(day["drifting"]), "flagged"] == 1.0
    (episode,) = tl.pain_episodes()
    assert episode.date == D0 + timedelta(days=4) and [f for f, _ in episode.flagged] == [day["drifting"]]
    assert "form drifted under fatigue" in episode.text


def test_a_flag_of_the_pains_own_day_says_which_came_first_is_not_known():
    from journal.link import PainEpisode

    e = PainEpisode(date(2025, 2, 8), 3.0, 0.0, [(date(2025, 2, 6), ["week load +58%"]),
                                                 (date(2025, 2, 8), ["form drifted under fatigue"])])
    assert e.text == ("2025-02-08: pain 0 → 3/10 after 2025-02-06: week load +58%; 2025-02-08 (the same day: which "
                      "came first is not known): form drifted under fatigue")


def test_pain_felt_the_next_morning_is_not_put_after_that_days_own_flags(tmp_path):
    """A long sitting day (flagged) on day 2: pain 5/10 felt the next morning of day 2 answers day 1, not the
    sitting that came after it; the same pain felt at work that day may follow it (same day: order unknown)."""
    def journal(timing):
        with Journal.open(tmp_path / f"{timing}.sqlite3") as j:
            j.add_runner("ana")
            for i in range(4):
                j.add_checkin(day=D0 + timedelta(days=i), sleep_s=7 * 3600)
            j.add_day({"date": (D0 + timedelta(days=2)).isoformat(), "sitting_s": 8 * 3600.0, "bouts_ge_30min": 4,
                       "bouts_ge_2h": 1, "longest_sitting_s": 9000.0, "breaks_per_sitting_h": 1.0,
                       "wear_s": 15 * 3600.0, "flags": []})
            j.add_pain(5, where="lower-back-centre", when=timing,
                       at=datetime.combine(D0 + timedelta(days=2), time(7 if timing == "next-morning" else 15),
                                           timezone.utc))
            return j.timeline(weeks=1, end=D0 + timedelta(days=3))

    tl = journal("next-morning")
    assert tl.daily.loc[_ts(2), "pain_timing"] == "next-morning"
    assert tl.pain_episodes() == []  # the only flag is the sitting that came after the pain
    (e,) = journal("at-work").pain_episodes()
    assert e.date == D0 + timedelta(days=2) and [d for d, _ in e.flagged] == [D0 + timedelta(days=2)]
    assert "(the same day: which came first is not known)" in e.text
