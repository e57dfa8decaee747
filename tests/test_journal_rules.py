"""The rules of the articles (10 % per session and week, volume before intensity, sitting, pain)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from journal import rules as R

D0 = date(2026, 3, 2)  # a Monday


def _runs(rows):
    """rows: (day offset, kind, minutes, rpe)."""
    out = []
    for i, (off, kind, minutes, rpe) in enumerate(rows, start=1):
        d = D0 + timedelta(days=off)
        out.append({"id": i, "start_utc": datetime(d.year, d.month, d.day, 7, tzinfo=timezone.utc),
                    "local_date": d, "kind": kind, "duration_s": minutes * 60.0,
                    "session_load_au": None if rpe is None else minutes * rpe})
    return pd.DataFrame(out)


def _daily(values, start=D0):
    idx = pd.date_range(pd.Timestamp(start), periods=len(values), freq="D")
    return pd.DataFrame({"load": [np.nan if v is None else float(v) for v in values]}, index=idx)


# -- 10 % per session ------------------------------------------------------------------------


def test_run_longer_than_recent_comparable_runs_is_flagged():
    runs = _runs([(0, "easy", 40, 3), (2, "easy", 42, 3), (4, "easy", 41, 3),
                  (7, "easy", 50, 3),     # 50/42 − 1 = +19.0 %  -> flag
                  (9, "easy", 46, 3),     # max of last 3 (42, 41, 50) = 50 -> −8 %
                  (11, "easy", 55.1, 3),  # max(41, 50, 46) = 50 -> +10.2 % -> flag
                  (13, "easy", 60.61, 3)])  # max(50, 46, 55.1) = 55.1 -> +10.0 % exactly -> no flag
    c = R.check_runs(runs, load_col="session_load_au")
    assert c.loc[4, "duration_increase"] == pytest.approx(50 / 42 - 1)
    assert c.loc[4, "duration_flag"] is True and c.loc[4, "flag"] is True
    assert c.loc[5, "baseline_duration_s"] == pytest.approx(50 * 60)
    assert c.loc[5, "duration_flag"] is False
    assert c.loc[6, "duration_flag"] is True
    assert c.loc[7, "duration_increase"] == pytest.approx(0.10)
    assert c.loc[7, "duration_flag"] is False
    assert "+19% longer than recent easy runs" in c.loc[4, "message"]


def test_run_rule_needs_comparable_runs_of_the_same_kind():
    runs = _runs([(0, "easy", 40, 3), (2, "easy", 40, 3), (5, "long", 90, 4),  # first long run: nothing to compare
                  (8, "easy", 45, 3),   # second easy run -> 2 comparables: +12.5 % -> flag
                  (40, "easy", 40, 3)])  # the others are older than 28 days -> None
    c = R.check_runs(runs, load_col="session_load_au")
    assert c.loc[1, "flag"] is None and c.loc[1, "comparable_n"] == 0
    assert c.loc[2, "flag"] is None and c.loc[2, "comparable_n"] == 1  # one earlier run is not a habit
    assert c.loc[3, "flag"] is None and c.loc[3, "comparable_n"] == 0
    assert c.loc[4, "flag"] is True
    assert c.loc[5, "comparable_n"] == 0 and c.loc[5, "flag"] is None


def test_run_heavier_by_load_while_not_longer():
    # same 40 min, RPE 3 -> 5: load 120 -> 200 (+66.7 %), duration +0 %
    runs = _runs([(0, "easy", 40, 3), (2, "easy", 40, 3), (4, "easy", 40, 3), (6, "easy", 40, 5),
                  (8, "easy", 40, None)])  # no RPE: the load part cannot be decided
    c = R.check_runs(runs, load_col="session_load_au")
    assert c.loc[4, "duration_flag"] is False
    assert c.loc[4, "load_increase"] == pytest.approx(200 / 120 - 1)
    assert c.loc[4, "load_flag"] is True and c.loc[4, "flag"] is True
    assert c.loc[5, "load_flag"] is None and c.loc[5, "duration_flag"] is False
    assert c.loc[5, "flag"] is None


# -- 10 % per week -----------------------------------------------------------------------------


def test_week_rule_flags_above_ten_percent_and_marks_the_crossing_day():
    prev = [0, 30, 0, 30, 0, 40, 0]                  # 100
    cur = [0, 40, 0, 40, 0, 31, 0]                   # 111: +11 %, crosses 110 on Saturday
    w = R.check_weeks(_daily(prev + cur))
    wk = w.loc[pd.Timestamp(D0 + timedelta(days=7))]
    assert wk["load_known"] == 111 and wk["prev_load_known"] == 100
    assert wk["increase"] == pytest.approx(0.11)
    assert wk["flag"] is True
    assert wk["flag_date"] == pd.Timestamp(D0 + timedelta(days=12))   # 40 + 40 + 31 = 111 > 110 on day 12
    same = R.check_weeks(_daily(prev + [0, 40, 0, 40, 0, 30, 0]))   # exactly +10 %: no flag
    assert same.iloc[1]["flag"] is False
    first = R.check_weeks(_daily(prev)).iloc[0]
    assert first["flag"] is None and "no data for the week before" in first["reason"]


def test_week_rule_gap_cases():
    prev = [0, 30, 0, 30, 0, 40, 0]  # 100, fully known
    # this week has unknown days but is already above 110: certain flag
    w = R.check_weeks(_daily(prev + [0, 60, None, 60, None, 0, 0]))
    assert w.iloc[1]["flag"] is True
    # this week has unknown days and 105 so far: the unknown days could push it over -> None
    w = R.check_weeks(_daily(prev + [0, 60, None, 45, None, 0, 0]))
    assert w.iloc[1]["flag"] is None
    assert "2 day(s) without data this week" in w.iloc[1]["reason"]
    # the week before has unknown days: it may have been bigger, so 200 is not certainly +10 % -> None
    w = R.check_weeks(_daily([0, 30, None, 30, 0, 40, 0] + [0, 100, 0, 100, 0, 0, 0]))
    assert w.iloc[1]["flag"] is None
    assert "1 day(s) without data the week before" in w.iloc[1]["reason"]
    # ... but this week fully known and within 1.1 × the known part of the week before: certainly fine
    w = R.check_weeks(_daily([0, 30, None, 30, 0, 40, 0] + [0, 50, 0, 50, 0, 0, 0]))
    assert w.iloc[1]["flag"] is False
    # the change is of the known loads, so these two are bounds, and the text says which way (independent of the
    # rule's wording: 100 -> 120 known is +20 %, of which more could still come; 100 known -> 100 is 0 % at most)
    from journal.link import week_change_text
    flagged = R.check_weeks(_daily(prev + [0, 60, None, 60, None, 0, 0])).iloc[1]
    assert week_change_text(*flagged[["increase", "flag", "unknown_days", "prev_unknown_days"]]) == "≥ +20%"
    cleared = R.check_weeks(_daily([0, 30, None, 30, 0, 40, 0] + [0, 50, 0, 50, 0, 0, 0])).iloc[1]
    assert week_change_text(*cleared[["increase", "flag", "unknown_days", "prev_unknown_days"]]) == "≤ +0%"
    exact = R.check_weeks(_daily(prev + [0, 40, 0, 40, 0, 31, 0])).iloc[1]
    assert week_change_text(*exact[["increase", "flag", "unknown_days", "prev_unknown_days"]]) == "+11%"
    # an empty week before: the increase is undefined
    w = R.check_weeks(_daily([0] * 7 + [0, 50, 0, 0, 0, 0, 0]))
    assert w.iloc[1]["flag"] is None and "no load" in w.iloc[1]["reason"]


def test_week_rule_says_why_a_days_load_is_unknown():
    prev = [0, 30, 0, 30, 0, 40, 0]
    # Mon-Sat of the week shown (Sunday lies after the period), Wednesday's run without its load, Friday empty
    d = _daily(prev + [0, 40, None, 20, None, 0])
    d["runs_n"] = [0, 1, 0, 1, 0, 1, 0] + [0, 1, 1, 1, 0, 0]
    w = R.check_weeks(d)
    assert w.iloc[1]["flag"] is None and w.iloc[1]["unknown_days"] == 3
    assert w.iloc[1]["reason"] == "1 day(s) without data, 1 run day(s) without a load, 1 day(s) after 14 Mar this week"
    # the run-day count is left out where only the runs matter (volume before intensity)
    days = pd.date_range(pd.Timestamp(D0) + pd.Timedelta(days=7), periods=7, freq="D")
    assert R.unknown_days_text(d, days, run_days=False) == "1 day(s) without data, 1 day(s) after 14 Mar"
    assert R.unknown_days_text(d, days[:2]) == ""


# -- volume before intensity ---------------------------------------------------------------------


def _baseline(weeks=4):
    rows = []
    for w in range(weeks):
        rows += [(7 * w + 1, "easy", 40, 3), (7 * w + 3, "easy", 40, 3), (7 * w + 5, "long", 40, 4)]
    return rows  # usual: 3 runs, 120 min a week


def test_usual_week_is_the_median_of_weeks_with_runs():
    runs = _runs(_baseline(3) + [(29, "easy", 30, 3)])  # week 4 (days 21-27) empty, week 5 one run
    n, dur, used = R.usual_week(runs, pd.Timestamp(D0 + timedelta(days=35)))
    assert used == 4 and n == pytest.approx(3.0)  # weeks with runs: 3, 3, 3, 1 -> median 3
    assert dur == pytest.approx(120 * 60)          # 120, 120, 120, 30 min -> median 120


def test_intensity_before_volume_is_flagged():
    # after 4 usual weeks, a week with one easy run and intervals: 2 runs, 80 min in 7 days
    runs = _runs(_baseline(4) + [(29, "easy", 40, 3), (31, "intervals", 40, 8)])
    c = R.check_intensity_order(runs)
    row = c.loc[14]
    assert row["intensity_7d"] == 1 and row["intensity_prev_7d"] == 0
    # window days 25-31: the long run of day 26 (40), day 29 (40), day 31 (40) -> 3 runs, 120 min: back to usual
    assert row["runs_7d"] == 3 and row["flag"] is False
    # same, but after a week off: only 2 runs, 80 min in the 7 days
    runs = _runs(_baseline(4) + [(36, "easy", 40, 3), (38, "intervals", 40, 8)])
    row = R.check_intensity_order(runs).loc[14]
    assert row["runs_7d"] == 2 and row["duration_7d_s"] == pytest.approx(80 * 60)
    assert row["usual_runs"] == pytest.approx(3) and row["usual_duration_s"] == pytest.approx(120 * 60)
    assert row["flag"] is True
    assert "2 runs in 7 days, usual 3" in row["reason"] and "80 min in 7 days, usual 120 min" in row["reason"]


def test_intensity_rule_not_raised_unknown_days_and_short_history():
    # tempo in consecutive weeks: intensity not raised by the second one
    runs = _runs(_baseline(4) + [(29, "tempo", 40, 7), (36, "tempo", 40, 7)])
    c = R.check_intensity_order(runs)
    assert c.loc[14, "flag"] is False and c.loc[14, "reason"] == "intensity not raised"
    # short volume, but unknown days in the window: the missing days may hold runs -> None
    runs = _runs(_baseline(4) + [(36, "easy", 40, 3), (38, "intervals", 40, 8)])
    loads = [1.0] * 39
    loads[33] = None  # day 33 unknown
    c = R.check_intensity_order(runs, _daily(loads))
    assert c.loc[14, "flag"] is None and "1 day(s) without data" in c.loc[14, "reason"]
    # one week of history is not yet a usual
    runs = _runs(_baseline(1) + [(8, "intervals", 40, 8)])
    c = R.check_intensity_order(runs)
    assert c.loc[4, "flag"] is None and "usual is not known" in c.loc[4, "reason"]


# -- sitting -----------------------------------------------------------------------------------


def test_sitting_flags_at_two_hours_bout_and_six_hours_total():
    days = pd.DataFrame([
        {"date": D0, "sitting_s": 21599, "longest_sitting_s": 7199, "bouts_ge_2h": 0},
        {"date": D0 + timedelta(days=1), "sitting_s": 21600, "longest_sitting_s": 7200, "bouts_ge_2h": 1},
        {"date": D0 + timedelta(days=2), "sitting_s": 10000, "longest_sitting_s": 5000, "bouts_ge_2h": 0},
    ])
    f = R.check_sitting(days)
    assert f.iloc[0] == []
    assert len(f.iloc[1]) == 2
    assert "sitting bout ≥ 2 h (longest 2.0 h)" in f.iloc[1][0]
    assert "6.0 h sitting (≥ 6 h)" in f.iloc[1][1]
    assert f.iloc[2] == []


def test_sitting_trend_slope_per_week():
    days = pd.DataFrame({"date": [D0 + timedelta(days=i) for i in range(8)],
                         "breaks_per_sitting_h": [1.0 + 0.1 * i for i in range(8)]})
    t = R.sitting_trend(days)
    assert t.slope_per_week == pytest.approx(0.7)  # 0.1 per day
    assert t.n_days == 8 and t.mean == pytest.approx(1.35)
    assert "more breaks" in t.text
    short = R.sitting_trend(days.head(3))
    assert "too few days" in short.text


# -- pain -------------------------------------------------------------------------------------


def _pains(rows):
    return pd.DataFrame([{"local_date": D0 + timedelta(days=o), "rating": r} for o, r in rows])


def test_pain_not_eased_after_three_weeks():
    p = _pains([(0, 4), (3, 5), (6, 4), (9, 4), (12, 5), (15, 4), (18, 4), (21, 4)])
    assert R.check_pain(p, D0 + timedelta(days=20)) == []  # 20 days: not yet
    flags = R.check_pain(p, D0 + timedelta(days=21))
    assert [f.kind for f in flags] == ["persisting"]
    assert flags[0].since == D0
    assert "worth discussing with a physiotherapist who works with runners" in flags[0].message
    assert "not eased after 3 weeks" in flags[0].message


def test_pain_chain_breaks_on_a_low_rating_or_a_long_gap():
    eased = _pains([(0, 4), (6, 2), (9, 4), (15, 4), (21, 4)])  # a 2/10 on day 6: episode restarts on day 9
    assert R.check_pain(eased, D0 + timedelta(days=21)) == []
    gap = _pains([(0, 4), (10, 4), (15, 4), (21, 4)])           # 10 days without a report
    assert R.check_pain(gap, D0 + timedelta(days=21)) == []
    stale = _pains([(0, 4), (5, 4), (10, 4), (14, 4)])         # last report 8 days before as_of
    assert R.check_pain(stale, D0 + timedelta(days=22)) == []


def test_pain_keeps_rising():
    # windows (as_of = day 20): days 0-6, 7-13, 14-20 with means 2, 3, 4.5
    p = _pains([(1, 2), (8, 3), (15, 4), (19, 5)])
    flags = R.check_pain(p, D0 + timedelta(days=20))
    assert [f.kind for f in flags] == ["rising"]
    assert "2.0 → 3.0 → 4.5/10" in flags[0].message
    assert "physiotherapist who works with runners" in flags[0].message
    assert R.check_pain(_pains([(1, 2), (8, 4), (15, 4)]), D0 + timedelta(days=20)) == []  # level, not rising
    assert R.check_pain(_pains([(8, 3), (15, 4)]), D0 + timedelta(days=20)) == []           # first window empty
    # occasional stiffness (DOMAIN.md: normal): averages 1 -> 1.5 -> 2 rise, but no day reached 3/10
    assert R.check_pain(_pains([(1, 1), (8, 1), (9, 2), (15, 2)]), D0 + timedelta(days=20)) == []
    # the 3/10 must be in the last week: 0.5 -> 1.0 -> 2.0 rises, but its only 3 was in the week before
    assert R.check_pain(_pains([(1, 0), (2, 1), (8, 3), (9, 0), (10, 0), (15, 2)]), D0 + timedelta(days=20)) == []


def test_pain_wording_never_diagnoses():
    p = _pains([(i, 3 + i // 7) for i in range(0, 22)])
    text = " ".join(f.message for f in R.check_pain(p, D0 + timedelta(days=21))).lower()
    assert text
    for word in (r"diagnos\w*", r"injur\w*", r"disc", r"herni\w*", r"you have", r"syndrome"):
        assert not re.search(rf"\b{word}\b", text), word


# -- form under fatigue ----------------------------------------------------------------------


def _bout(**metrics):
    """One bout of ``analysis.pipeline.fatigue``'s list: metric -> (early, late, flagged, threshold)."""
    return {"bout": 0, "start_s": 0.0, "end_s": 600.0, "steps_per_fifth": 100,
            "metrics": {m: {"early": e, "late": l, "change": l - e, "flagged": f, "threshold": t}
                        for m, (e, l, f, t) in metrics.items()},
            "flags": [m for m, (_, _, f, _) in metrics.items() if f]}


def test_form_flag_names_the_largest_flagged_change_over_the_bouts_in_display_units():
    summary = {"fatigue": [
        _bout(trunk_lean_fwd_deg=(8.0, 10.5, True, 2.0), contact_time_s=(0.250, 0.262, False, 0.015)),
        _bout(trunk_lean_fwd_deg=(8.0, 11.3, True, 2.0), contact_time_s=(0.250, 0.270, True, 0.015),
              impact_index=(50.0, 65.0, True, 0.25)),
    ]}
    flag, texts = R.form_drifts(summary)
    assert flag is True
    # the second bout's +3.3° beats the first's +2.5°; 20 ms in ms; the impact index's +15 g/s of 50 is +30 %
    assert texts == ["trunk lean forward +3.3° (limit 2°)", "contact time +20 ms (limit 15 ms)",
                     "impact index +30% (limit 25%)"]


def test_form_flag_false_when_checked_and_fine_none_without_an_analysis():
    assert R.form_drifts({"fatigue": [_bout(cadence_spm=(170.0, 168.0, False, 5.0))]}) == (False, [])
    assert R.form_drifts({"fatigue": []}) == (None, [])     # bouts too short to compare
    assert R.form_drifts({}) == (None, [])                  # an analysis without fatigue
    assert R.form_drifts(None) == (None, [])                # a run without an analysis


def test_form_flag_from_a_summary_only_document_uses_the_analysis_thresholds():
    # {"metric": {"change": x}}: trunk lean limit 2°, cadence 5 steps/min; an impact change without its early
    # value cannot be made relative and is not checked
    assert R.form_drifts({"fatigue": {"trunk_lean_fwd_deg": {"change": 2.6}}}) == (
        True, ["trunk lean forward +2.6° (limit 2°)"])
    assert R.form_drifts({"fatigue": {"trunk_lean_fwd_deg": {"change": -1.9}, "cadence_spm": {"change": 4.0}}}) \
        == (False, [])
    assert R.form_drifts({"fatigue": {"impact_index": {"change": 30.0}}}) == (None, [])
    runs = pd.DataFrame({"id": [7, 8], "analysis_summary": [{"fatigue": {"trunk_lean_fwd_deg": {"change": -2.4}}},
                                                           None]})
    out = R.check_form(runs)
    assert out.loc[7, "form_flag"] is True and "trunk lean forward -2.4°" in out.loc[7, "form_reason"]
    assert out.loc[8, "form_flag"] is None and out.loc[8, "form_reason"] == ""


def test_sitting_reported_at_the_check_in_is_flagged_at_six_hours_where_no_sensor_measured_the_day():
    checkins = pd.DataFrame({"date": [D0, D0 + timedelta(days=1), D0 + timedelta(days=2), D0 + timedelta(days=3)],
                             "work_sitting_s": [7.0 * 3600, 5.5 * 3600, 7.5 * 3600, np.nan]})
    # day 2 has an all-day recording (4 h measured): the sensor's figure stands, the check-in's is not flagged
    flags = R.check_reported_sitting(checkins, sensor_dates=[D0 + timedelta(days=2)])
    assert list(flags.index) == [pd.Timestamp(D0)]
    assert flags[pd.Timestamp(D0)] == ["7.0 h sitting at work, reported (≥ 6 h)"]
    assert R.check_reported_sitting(checkins.iloc[0:0]).empty


def test_form_flag_reads_odd_stored_summaries_without_failing_or_printing_nan():
    odd = [{"fatigue": [{"metrics": ["trunk_lean_fwd_deg"]}]},                                   # metrics not a dict
           {"fatigue": [_bout(trunk_lean_fwd_deg=(8.0, float("nan"), True, 2.0))]},              # NaN change
           {"fatigue": [{"metrics": {"impact_index": {"change": 20.0, "flagged": True}}}]},     # no early value
           {"fatigue": "trunk lean +3"}, "not a summary", float("nan")]
    assert [R.form_drifts(x) for x in odd] == [(None, [])] * len(odd)
    # a runs frame without the analysis column (a FIT-only journal read elsewhere): no flags, no error
    out = R.check_form(pd.DataFrame({"id": [1, 2]}))
    assert out["form_flag"].tolist() == [None, None] and out["form_reason"].tolist() == ["", ""]
