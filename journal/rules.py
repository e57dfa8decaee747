"""The rules from the articles, as flags (patterns worth a look, never a diagnosis).

Every check is three-valued where data can be missing: ``True`` (flag),
``False`` (checked, fine) or ``None`` (cannot be decided; the ``reason`` says
why, e.g. days without data).

10 % per session (:func:`check_runs`)
    A run is flagged when it is more than 10 % longer (``duration_s``), or
    more than 10 % heavier by the chosen load, than the longest / heaviest of
    the comparable recent runs: the last ``n_recent`` (3) runs of the same
    kind within ``lookback_days`` (28) before it (all kinds when the run's
    kind is not known).  Fewer than ``min_comparable`` (2) comparable runs
    with the value: ``None`` (one earlier run is not yet a habit).
10 % per week (:func:`check_weeks`)
    Calendar weeks (Monday to Sunday) against the week before, by the chosen
    load.  Loads are never negative, so a week with unknown days has a known
    lower bound: the flag is certain when this week's known load already
    exceeds 1.1 × a fully known previous week, and certainly absent when this
    week is fully known and stays within 1.1 × the previous week's known load;
    otherwise ``None``.  The flag is placed on the day the week crossed the
    limit.
Volume before intensity (:func:`check_intensity_order`)
    The build-up order of the articles: number of runs back to the usual, then
    their duration, only then intensity (tempo, then intervals).  A tempo,
    interval or race run is flagged when it raises intensity (more such runs in
    the 7 days ending with it than in the 7 days before) while the runs of those
    7 days are fewer than usual, or shorter in total than usual, by more than
    ``tolerance`` (10 %).  *Usual* is the median weekly number of runs and
    weekly running time over the ``baseline_weeks`` (8) calendar weeks before,
    counting weeks with at least one run.
Form under fatigue (:func:`check_form`)
    A run whose analysis found a per-step metric changing from the first to
    the last fifth of a running bout by more than the analysis' stated
    threshold (:data:`analysis.constants.FATIGUE_FLAG_THRESHOLDS`: trunk lean
    2°, cadence 5 steps/min, contact time 15 ms, impact index 25 %, ...) is
    flagged: form that drifts under fatigue raises the load on the spine
    (DOMAIN.md, "neuro-functional shifts").  The flags are the ones the
    analysis stored with the run; a summary-only document (``{"metric":
    {"change": x}}``) is checked against the same thresholds.  A run without
    an analysis: ``None``.
Sitting (:func:`check_sitting`, :func:`check_reported_sitting`, :func:`sitting_trend`)
    A day with a sitting bout of 2 h or more, or 6 h or more of sitting in
    total, is flagged (a day without an all-day recording: 6 h or more of
    sitting at work reported at the check-in); the trend of breaks per sitting hour is the least-squares
    slope over the days that have it.
Pain (:func:`check_pain`)
    Pain that has not eased after three weeks (reports at or above
    ``threshold`` (3/10) with no gap over 7 days, the first at least 21 days
    ago, one in the last 7 days) or keeps rising (the mean rating of each of
    the last three 7-day windows higher than the one before, and a day at or
    above ``threshold`` in the last: occasional stiffness of 1-2/10 is normal,
    DOMAIN.md) is flagged as
    worth discussing with a physiotherapist who works with runners.  Only the
    days with a pain report count here, each with its highest rating (the
    averages are over the days reported): a check-in without one, which the
    associations read as a pain-free day, neither breaks a chain nor lowers an
    average, so pain that comes back twice a week for weeks is still
    "not eased".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from analysis.constants import FATIGUE_FLAG_THRESHOLDS, METRIC_DISPLAY
from journal.db import INTENSITY_KINDS

PHYSIO = "worth discussing with a physiotherapist who works with runners"
SITTING_BOUT_LIMIT_S = 2 * 3600.0
SITTING_TOTAL_LIMIT_S = 6 * 3600.0
#: Pain at or above this rating (0-10) counts for the pain flags.
PAIN_THRESHOLD = 3


def _ts(d) -> pd.Timestamp:
    return pd.Timestamp(d).normalize()


# ----------------------------------------------------------------------------
# 10 % per session


#: The 10 % rule per session compares a run with the last RUN_COMPARE_N runs of its kind within RUN_LOOKBACK_DAYS,
#: and needs at least RUN_MIN_COMPARABLE of them (one earlier run is not yet a habit).
RUN_LOOKBACK_DAYS = 28
RUN_COMPARE_N = 3
RUN_MIN_COMPARABLE = 2


def check_runs(runs: pd.DataFrame, *, load_col: str, limit: float = 0.10, lookback_days: int = RUN_LOOKBACK_DAYS,
               n_recent: int = RUN_COMPARE_N, min_comparable: int = RUN_MIN_COMPARABLE) -> pd.DataFrame:
    """The per-session 10 % check for every run.

    Parameters
    ----------
    runs
        Columns ``id``, ``start_utc``, ``local_date``, ``kind``,
        ``duration_s`` and ``load_col``.

    Returns
    -------
    DataFrame indexed by run id: ``baseline_duration_s``,
    ``duration_increase`` (fraction), ``duration_flag``, ``baseline_load``,
    ``load_increase``, ``load_flag``, ``flag`` (either), ``comparable_n``,
    ``message``.
    """
    cols = ["baseline_duration_s", "duration_increase", "duration_flag", "baseline_load", "load_increase",
            "load_flag", "flag", "comparable_n", "message"]
    if runs.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="id"))
    r = runs.sort_values("start_utc").reset_index(drop=True)
    dates = [_ts(x) for x in r["local_date"]]
    kinds = [k if isinstance(k, str) else None for k in r["kind"]]
    values = {"duration": r["duration_s"].astype(float).tolist(), "load": r[load_col].astype(float).tolist()}
    ids = r["id"].tolist()
    lookback = pd.Timedelta(days=lookback_days)
    rows = []
    for i in range(len(r)):
        lo = dates[i] - lookback
        prev = [k for k in range(i) if dates[k] >= lo and (kinds[i] is None or kinds[k] == kinds[i])][-n_recent:]
        row = {"id": ids[i], "comparable_n": len(prev)}
        msgs = []
        for name, label in (("duration", "longer"), ("load", "heavier")):
            known = [values[name][k] for k in prev if not np.isnan(values[name][k])]
            base = max(known) if len(known) >= min_comparable else np.nan
            val = values[name][i]
            if np.isnan(val) or np.isnan(base) or base <= 0:
                inc, flag = np.nan, None
            else:
                inc = val / base - 1.0
                flag = bool(inc > limit)
            row["baseline_duration_s" if name == "duration" else "baseline_load"] = base
            row[f"{name}_increase"] = inc
            row[f"{name}_flag"] = flag
            if flag and not (name == "load" and load_col == "duration_s"):
                msgs.append(f"{inc:+.0%} {label} than {'recent ' + kinds[i] if kinds[i] else 'recent'} runs")
        flags = [row["duration_flag"], row["load_flag"]]
        row["flag"] = True if any(f is True for f in flags) else (False if all(f is False for f in flags) else None)
        row["message"] = "; ".join(msgs)
        rows.append(row)
    return _tristate(pd.DataFrame(rows).set_index("id")[cols], "duration_flag", "load_flag", "flag")


def _tristate(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    """Keep True / False / None as Python objects (pandas would turn an all-bool column into numpy bools)."""
    for c in cols:
        df[c] = pd.Series([None if v is None or (isinstance(v, float) and np.isnan(v)) else bool(v)
                           for v in df[c]], index=df.index, dtype=object)
    return df


# ----------------------------------------------------------------------------
# 10 % per week


def unknown_days_text(daily: pd.DataFrame, days: pd.DatetimeIndex, *, run_days: bool = True) -> str:
    """Why the load of ``days`` is unknown, counted: e.g. "1 day(s) without data, 1 run day(s) without a load,
    1 day(s) after 14 Nov" (days outside ``daily``'s span are not in the period looked at; a run day's load is
    unknown when one of its runs lacks the measure, an RPE for session load).  ``run_days=False`` leaves run days
    out (their runs are known, only their load is not).  "" when nothing of ``days`` is unknown."""
    load = daily["load"].reindex(days)
    runs_n = daily["runs_n"].reindex(days) if "runs_n" in daily else pd.Series(np.nan, index=days)
    unknown = load.isna().to_numpy()
    if len(daily.index):
        after = np.asarray(days > daily.index.max())
        before = np.asarray(days < daily.index.min())
    else:
        after = before = np.zeros(len(days), dtype=bool)
    run_day = unknown & ~after & ~before & (runs_n.fillna(0).to_numpy() > 0)
    empty = unknown & ~after & ~before & ~run_day
    parts = []
    if empty.any():
        parts.append(f"{int(empty.sum())} day(s) without data")
    if run_day.any() and run_days:
        parts.append(f"{int(run_day.sum())} run day(s) without a load")
    if before.any():
        parts.append(f"{int(before.sum())} day(s) before {daily.index.min():%d %b}")
    if after.any():
        parts.append(f"{int(after.sum())} day(s) after {daily.index.max():%d %b}")
    return ", ".join(parts)


def check_weeks(daily: pd.DataFrame, *, limit: float = 0.10, label: str = "load") -> pd.DataFrame:
    """The weekly 10 % check on a daily frame with ``load`` (NaN = unknown).

    Returns one row per calendar week (index ``week_start``): ``load_known``,
    ``unknown_days``, ``prev_load_known``, ``prev_unknown_days``,
    ``increase`` (fraction, known loads), ``flag`` (True/False/None),
    ``flag_date`` (the day the limit was crossed) and ``reason``.
    """
    load = daily["load"]
    weeks = sorted(load.index.to_period("W-SUN").start_time.unique())
    rows = []
    if weeks:
        # All days from the Monday before the first week to the last Sunday, as a (weeks, 7) array: one
        # reindex instead of two per week (same values: days not in ``daily`` are unknown, NaN).
        first = weeks[0] - pd.Timedelta(days=7)
        span = pd.date_range(first, weeks[-1] + pd.Timedelta(days=6), freq="D")
        by_week = load.reindex(span).to_numpy(dtype=float).reshape(-1, 7)
    for w in weeks:
        k = (w - first).days // 7
        cur, prev = by_week[k], by_week[k - 1]
        cur_known, cur_unknown = float(np.nansum(cur)), int(np.isnan(cur).sum())
        prev_known, prev_unknown = float(np.nansum(prev)), int(np.isnan(prev).sum())
        threshold = (1.0 + limit) * prev_known
        inc = cur_known / prev_known - 1.0 if prev_known > 0 and cur_unknown < 7 else np.nan  # no day known: no change
        flag, reason, flag_date = None, "", pd.NaT
        if prev_unknown == 7:
            reason = "no data for the week before"
        elif prev_unknown == 0 and prev_known > 0 and cur_known > threshold:
            flag = True
            crossed = np.cumsum(np.nan_to_num(cur, nan=0.0)) > threshold
            flag_date = w + pd.Timedelta(days=int(np.argmax(crossed)))
            reason = f"{label} {inc:+.0%} on the week before"
        elif cur_unknown == 0 and cur_known <= threshold:
            flag = False
        elif prev_unknown == 0 and prev_known == 0 and cur_known > 0:
            reason = "the week before had no load: compare with the usual weeks instead"
        else:
            parts = []
            if cur_unknown:
                parts.append(f"{unknown_days_text(daily, pd.date_range(w, periods=7, freq='D'))} this week")
            if prev_unknown:
                parts.append(f"{unknown_days_text(daily, pd.date_range(w - pd.Timedelta(days=7), periods=7, freq='D'))}"
                             " the week before")
            reason = "; ".join(parts)
        rows.append({"week_start": w, "load_known": cur_known, "unknown_days": cur_unknown,
                     "prev_load_known": prev_known, "prev_unknown_days": prev_unknown,
                     "increase": inc, "flag": flag, "flag_date": flag_date, "reason": reason})
    return _tristate(pd.DataFrame(rows).set_index("week_start"), "flag") if rows else pd.DataFrame(
        columns=["load_known", "unknown_days", "prev_load_known", "prev_unknown_days", "increase", "flag",
                 "flag_date", "reason"])


# ----------------------------------------------------------------------------
# Volume before intensity


def usual_week(runs: pd.DataFrame, week_start: pd.Timestamp, *, baseline_weeks: int = 8
               ) -> tuple[float, float, int]:
    """Median runs per week and running time per week (s) before ``week_start``.

    Only calendar weeks with at least one run count; returns
    ``(runs_per_week, duration_s_per_week, weeks_used)``.
    """
    if runs.empty:
        return np.nan, np.nan, 0
    d = pd.to_datetime(runs["local_date"])
    lo = week_start - pd.Timedelta(weeks=baseline_weeks)
    sel = runs[(d >= lo) & (d < week_start)]
    if sel.empty:
        return np.nan, np.nan, 0
    wk = pd.to_datetime(sel["local_date"]).dt.to_period("W-SUN").dt.start_time
    g = sel.groupby(wk)
    return float(g.size().median()), float(g["duration_s"].sum().median()), int(g.ngroups)


def check_intensity_order(runs: pd.DataFrame, daily: pd.DataFrame | None = None, *, baseline_weeks: int = 8,
                          tolerance: float = 0.10, min_baseline_weeks: int = 2) -> pd.DataFrame:
    """Flag intensity added before volume is back to usual (see the module docstring).

    Parameters
    ----------
    runs
        Columns ``id``, ``local_date``, ``kind``, ``duration_s``.
    daily
        Optional daily frame with ``load`` (NaN = unknown day): when the 7-day
        window has unknown days and looks short of the usual, the result is
        ``None`` (the missing days may hold runs).

    Returns
    -------
    One row per tempo/interval/race run (index run id): ``date``,
    ``intensity_7d``, ``intensity_prev_7d``, ``runs_7d``, ``duration_7d_s``,
    ``usual_runs``, ``usual_duration_s``, ``flag``, ``reason``.
    """
    cols = ["date", "intensity_7d", "intensity_prev_7d", "runs_7d", "duration_7d_s", "usual_runs",
            "usual_duration_s", "flag", "reason"]
    if runs.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="id"))
    r = runs.copy()
    r["_d"] = pd.to_datetime(r["local_date"])
    r["_int"] = r["kind"].isin(INTENSITY_KINDS)
    rows = []
    for _, run in r[r["_int"]].iterrows():
        d = run["_d"]
        win = r[(r["_d"] > d - pd.Timedelta(days=7)) & (r["_d"] <= d)]
        prev = r[(r["_d"] > d - pd.Timedelta(days=14)) & (r["_d"] <= d - pd.Timedelta(days=7))]
        n_int, n_int_prev = int(win["_int"].sum()), int(prev["_int"].sum())
        week_start = d - pd.Timedelta(days=d.weekday())
        usual_n, usual_dur, used = usual_week(r, week_start, baseline_weeks=baseline_weeks)
        runs_7d, dur_7d = len(win), float(win["duration_s"].sum())
        row = {"id": run["id"], "date": d.date(), "intensity_7d": n_int, "intensity_prev_7d": n_int_prev,
               "runs_7d": runs_7d, "duration_7d_s": dur_7d, "usual_runs": usual_n, "usual_duration_s": usual_dur}
        if n_int <= n_int_prev:
            row["flag"], row["reason"] = False, "intensity not raised"
        elif used < min_baseline_weeks:
            row["flag"], row["reason"] = None, f"only {used} week(s) with runs before: the usual is not known yet"
        else:
            short = []
            if runs_7d < (1 - tolerance) * usual_n:
                short.append(f"{runs_7d} runs in 7 days, usual {usual_n:g}")
            if dur_7d < (1 - tolerance) * usual_dur:
                short.append(f"{dur_7d / 60:.0f} min in 7 days, usual {usual_dur / 60:.0f} min")
            unknown = ""
            if daily is not None:
                days = pd.date_range(d - pd.Timedelta(days=6), d, freq="D")
                unknown = unknown_days_text(daily, days, run_days=False)  # its runs are known: volume is
            if not short:
                row["flag"], row["reason"] = False, "volume back to usual"
            elif unknown:
                row["flag"] = None
                row["reason"] = f"{unknown} in the 7 days: volume may be short ({'; '.join(short)})"
            else:
                row["flag"] = True
                row["reason"] = f"{run['kind']} before volume is back to usual ({'; '.join(short)})"
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="id"))
    return _tristate(pd.DataFrame(rows).set_index("id")[cols], "flag")


# ----------------------------------------------------------------------------
# Form under fatigue


def _form_text(metric: str, change: float, threshold: float | None) -> str:
    """"trunk lean forward +2.8° (limit 2°)"; the impact index's change and limit are relative."""
    name, unit, factor, digits = METRIC_DISPLAY.get(metric, (metric, "", 1.0, 2))
    if metric == "impact_index":
        return f"{name} {change:+.0%}" + (f" (limit {threshold:.0%})" if threshold is not None else "")
    sep = "" if unit == "°" else " "
    lim = f" (limit {threshold * factor:g}{sep}{unit})" if threshold is not None else ""
    return f"{name} {change * factor:+.{digits}f}{sep}{unit}{lim}"


def form_drifts(summary) -> tuple[bool | None, list[str]]:
    """Whether a run's stored analysis summary flags its form under fatigue, and the flagged changes as texts.

    ``summary`` is the run's ``analysis_summary``: its ``fatigue`` is the list of
    :func:`analysis.pipeline.fatigue` (per bout, each metric with ``change``, ``flagged`` and ``threshold``) or,
    from a summary-only document, ``{"metric": {"change": x}}``.  Per metric the largest flagged change over the
    bouts is named.  ``(None, [])`` when there is nothing to check.
    """
    fat = summary.get("fatigue") if isinstance(summary, dict) else None
    worst: dict[str, tuple[float, float | None]] = {}
    checked = False
    def number(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and bool(np.isfinite(x))

    if isinstance(fat, list):
        for b in fat:
            metrics = b.get("metrics") if isinstance(b, dict) else None
            for m, val in metrics.items() if isinstance(metrics, dict) else ():
                if not isinstance(val, dict) or not number(val.get("change")):
                    continue
                change = float(val["change"])
                if m == "impact_index":  # stored absolute; flagged (and shown) relative to the early fifth
                    early = val.get("early")
                    if not number(early) or not early:
                        continue
                    change = change / abs(early)
                checked = True
                if val.get("flagged") is True and (m not in worst or abs(change) > abs(worst[m][0])):
                    worst[m] = (change, val.get("threshold") if number(val.get("threshold")) else None)
    elif isinstance(fat, dict):
        for m, val in fat.items():
            limit = FATIGUE_FLAG_THRESHOLDS.get(m)
            change = val.get("change") if isinstance(val, dict) else None
            if limit is None or not number(change):
                continue
            if m == "impact_index":  # a relative limit needs the early value
                early = val.get("early")
                if not number(early) or not early:
                    continue
                change = change / abs(early)
            checked = True
            if abs(change) > limit:
                worst[m] = (float(change), limit)
    if not checked:
        return None, []
    return bool(worst), [_form_text(m, c, t) for m, (c, t) in worst.items()]


def check_form(runs: pd.DataFrame) -> pd.DataFrame:
    """The form-under-fatigue flag of every run (index = run id): ``form_flag`` (True / False / None) and
    ``form_reason`` ("form drifted under fatigue: trunk lean forward +2.8° (limit 2°)": the largest change from
    the first to the last fifth of a running bout)."""
    rows = []
    summaries = runs["analysis_summary"] if "analysis_summary" in runs else [None] * len(runs)
    for rid, summary in zip(runs["id"] if len(runs) else [], summaries):
        flag, texts = form_drifts(summary)
        reason = ("form drifted under fatigue: " + ", ".join(texts)) if flag else ""
        rows.append({"id": rid, "form_flag": flag, "form_reason": reason})
    out = pd.DataFrame(rows, columns=["id", "form_flag", "form_reason"]).set_index("id")
    return _tristate(out, "form_flag")


# ----------------------------------------------------------------------------
# Sitting


def check_sitting(days: pd.DataFrame, *, bout_limit_s: float = SITTING_BOUT_LIMIT_S,
                  total_limit_s: float = SITTING_TOTAL_LIMIT_S) -> pd.Series:
    """Flag texts per sitting day (index = date): a bout ≥ 2 h, ≥ 6 h in total."""
    out = {}
    if days.empty:
        return pd.Series(out, dtype=object)
    dates = pd.to_datetime(days["date"]).dt.normalize()
    for t, longest, n_2h, total in zip(dates, days["longest_sitting_s"], days["bouts_ge_2h"], days["sitting_s"]):
        flags = []
        if longest >= bout_limit_s or n_2h > 0:
            flags.append(f"sitting bout ≥ {bout_limit_s / 3600:g} h (longest {longest / 3600:.1f} h)")
        if total >= total_limit_s:
            flags.append(f"{total / 3600:.1f} h sitting (≥ {total_limit_s / 3600:g} h)")
        out[t] = flags
    return pd.Series(out, dtype=object)


def check_reported_sitting(checkins: pd.DataFrame, sensor_dates=(), *,
                           total_limit_s: float = SITTING_TOTAL_LIMIT_S) -> pd.Series:
    """Flag texts per day (index = date) from the sitting at work a check-in reports (``work_sitting_s``), on days
    without a sensor-measured sitting day (``sensor_dates``; the sensor's figure is the better one): 6 h or more.
    A check-in gives no bouts, so the 2-h rule needs the sensor."""
    out = {}
    if checkins.empty or "work_sitting_s" not in checkins:
        return pd.Series(out, dtype=object)
    measured = set(pd.to_datetime(list(sensor_dates)).normalize())
    for t, sit in zip(pd.to_datetime(checkins["date"]).dt.normalize(), checkins["work_sitting_s"]):
        if t not in measured and pd.notna(sit) and sit >= total_limit_s:
            out[t] = [f"{sit / 3600:.1f} h sitting at work, reported (≥ {total_limit_s / 3600:g} h)"]
    return pd.Series(out, dtype=object)


@dataclass(frozen=True)
class SittingTrend:
    """Least-squares trend of breaks per sitting hour."""

    slope_per_week: float
    n_days: int
    first_date: date | None
    last_date: date | None
    mean: float

    @property
    def text(self) -> str:
        if self.n_days < 7:
            return f"breaks per sitting hour: too few days ({self.n_days}) for a trend"
        if abs(self.slope_per_week) < 0.1:
            word = "about level"
        elif self.slope_per_week > 0:
            word = "more breaks (good)"
        else:
            word = "fewer breaks"
        return (f"breaks per sitting hour: {self.mean:.1f} on average, {self.slope_per_week:+.2f} per week "
                f"over {self.n_days} days ({word})")


def sitting_trend(days: pd.DataFrame) -> SittingTrend:
    d = days.dropna(subset=["breaks_per_sitting_h"]) if len(days) else days
    if len(d) < 2:
        return SittingTrend(np.nan, len(d), None, None, float(d["breaks_per_sitting_h"].mean()) if len(d) else np.nan)
    first = _ts(d["date"].min())
    x = (pd.to_datetime(d["date"]).dt.normalize() - first).dt.days.to_numpy(dtype=float)
    y = d["breaks_per_sitting_h"].to_numpy(dtype=float)
    if np.ptp(x) == 0:
        slope = np.nan
    else:
        slope = float(np.polyfit(x, y, 1)[0]) * 7.0
    return SittingTrend(slope, len(d), _ts(d["date"].min()).date(), _ts(d["date"].max()).date(), float(y.mean()))


# ----------------------------------------------------------------------------
# Pain


@dataclass(frozen=True)
class PainFlag:
    date: date
    #: "persisting" or "rising".
    kind: str
    message: str
    since: date | None = None


def check_pain(pains: pd.DataFrame, as_of: date, *, threshold: int = PAIN_THRESHOLD, persist_days: int = 21,
               max_gap_days: int = 7) -> list[PainFlag]:
    """Pain flags on ``as_of`` from the reports up to that day.

    Parameters
    ----------
    pains
        Columns ``local_date`` and ``rating``.
    """
    if pains.empty:
        return []
    return check_pain_daily(daily_max_pain(pains), as_of, threshold=threshold, persist_days=persist_days,
                            max_gap_days=max_gap_days)


def daily_max_pain(pains: pd.DataFrame) -> pd.Series:
    """Highest rating per day with a report (index: day), from reports with ``local_date`` and ``rating``."""
    return pains.groupby(pd.to_datetime(pains["local_date"]))["rating"].max().sort_index().astype(float)


def check_pain_daily(daily_all: pd.Series, as_of: date, *, threshold: int = PAIN_THRESHOLD, persist_days: int = 21,
                     max_gap_days: int = 7) -> list[PainFlag]:
    """:func:`check_pain` on the output of :func:`daily_max_pain`."""
    # NumPy arrays rather than pandas selections: the Timeline calls this once per pain day.
    as_of_ts = _ts(as_of)
    t_all = daily_all.index.to_numpy(dtype="datetime64[ns]")
    upto = t_all <= as_of_ts.to_datetime64()
    days, ratings = t_all[upto], daily_all.to_numpy(dtype=float)[upto]
    if not len(days):
        return []
    now = as_of_ts.to_datetime64()
    one_day = np.timedelta64(1, "D")

    def mean_of(sel: np.ndarray) -> float:  # pandas' mean: NaN skipped, NaN when nothing is left
        vals = ratings[sel]
        vals = vals[~np.isnan(vals)]
        return float(vals.mean()) if len(vals) else np.nan

    flags: list[PainFlag] = []

    # Not eased: walk back from the latest report while at/above threshold and no long gap.
    if ratings[-1] >= threshold and days[-1] >= now - (max_gap_days - 1) * one_day:
        start = days[-1]
        for t, rating in zip(days[::-1][1:], ratings[::-1][1:]):
            if rating < threshold or (start - t) // one_day > max_gap_days:
                break
            start = t
        held_days = int((now - start) // one_day)
        if held_days >= persist_days:
            recent = mean_of(days > now - 7 * one_day)
            start_d = pd.Timestamp(start).date()
            flags.append(PainFlag(as_of_ts.date(), "persisting",
                                  f"pain has not eased after {held_days // 7} weeks "
                                  f"(since {start_d}, {recent:.1f}/10 on average over the days reported in the "
                                  "last 7): "
                                  f"{PHYSIO}", start_d))

    # Keeps rising: three 7-day windows, each mean above the one before.
    means = []
    for k in (2, 1, 0):
        hi = now - 7 * k * one_day
        means.append(mean_of((days > hi - 7 * one_day) & (days <= hi)))
    last_week = ratings[days > now - 7 * one_day]
    if (not np.isnan(means).any() and means[0] < means[1] < means[2]
            and np.nanmax(last_week, initial=-np.inf) >= threshold):
        flags.append(PainFlag(as_of_ts.date(), "rising",
                              f"pain keeps rising (weekly average of the days reported {means[0]:.1f} → "
                              f"{means[1]:.1f} → {means[2]:.1f}/10): {PHYSIO}",
                              (as_of_ts - pd.Timedelta(days=20)).date()))
    return flags
