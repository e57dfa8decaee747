"""The daily timeline of one runner, and how pain goes with what came before it.

:func:`build_timeline` joins, per calendar day: load (and its rolling
figures), the flags of :mod:`journal.rules`, sitting, form from the stored
analysis summaries (heel-strike share, trunk lean and its drift within runs),
check-ins, core and mobility exercises, and pain.

:func:`lagged_associations` gives, for each factor and each lag of 0 to 3 days,
Spearman's rank correlation between the factor on day d − lag and pain on day
d, with the number of day pairs and a plain caution.  These are associations
in one person's diary, not causes: a hard week, poor sleep and pain can all
follow from a third thing, and with few days chance alone produces large
coefficients.

Pain per day, for these purposes, is the highest rating reported that day; a
day with a check-in but no pain report counts as pain-free (0); any other day
is unknown.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from journal import load as L
from journal import rules as R
from journal.db import kind_text

CAVEAT = ("Associations in one runner's journal, not causes: several factors move together "
          "(a hard week, short sleep, long sitting), pain itself changes what a runner does (more breaks from a "
          "chair that hurts, a shorter run), so a pattern on the same day can run either way, and with few days "
          "chance alone gives large numbers.")
#: Added to the caution of a same-day association (lag 0): which came first cannot be told within a day.
SAME_DAY_CAUTION = "same day: the pain may have changed this as much as the other way round"

#: Factor name -> (daily column, plain description).
FACTORS = {
    "load": ("load", "training load (chosen measure)"),
    "duration": ("duration_s", "running time"),
    "acwr": ("acwr", "acute:chronic load ratio"),
    "sitting": ("sitting_s", "sitting time"),
    "longest_sitting": ("longest_sitting_s", "longest sitting bout"),
    "breaks_per_sitting_h": ("breaks_per_sitting_h", "breaks per sitting hour"),
    "sleep": ("sleep_s", "sleep duration"),
    "sleep_quality": ("sleep_quality", "sleep quality"),
    "stress": ("stress", "stress"),
    "work_sitting": ("work_sitting_s", "sitting at work"),
    "lifting": ("lifting_level", "lifting at work"),
    "core": ("core_n", "core exercise sessions"),
    "heel_strike_share": ("heel_strike_share", "heel-strike share"),
    "trunk_lean": ("trunk_lean_fwd_deg", "forward trunk lean"),
    "trunk_lean_drift": ("trunk_lean_fwd_drift_deg", "trunk-lean drift within the run"),
    "flagged": ("flagged", "a flagged day (load, build-up, sitting, form under fatigue)"),
}
LIFTING_LEVEL = {"none": 0, "light": 1, "heavy": 2}
#: Flag kinds that count as "a flagged day" for pain episodes (pain flags do not): the load rules, sitting, and form
#: that drifted under fatigue (:func:`journal.rules.check_form`).
LOAD_FLAG_KINDS = ("run", "week", "intensity", "sitting", "acwr", "form")


@dataclass
class JournalData:
    """Everything stored for one runner, as DataFrames (see :meth:`journal.Journal.data`)."""

    runner: dict
    runs: pd.DataFrame
    days: pd.DataFrame
    pains: pd.DataFrame
    checkins: pd.DataFrame
    exercises: pd.DataFrame

    def logged_dates(self) -> set[date]:
        out: set[date] = set()
        for df, col in ((self.runs, "local_date"), (self.days, "date"), (self.pains, "local_date"),
                        (self.checkins, "date"), (self.exercises, "date")):
            if len(df):
                out.update(pd.to_datetime(df[col]).dt.date)
        return out


@dataclass
class PainEpisode:
    """Pain rose by at least ``rise_min`` points within 0-3 days after flagged day(s)."""

    date: date
    rating: float
    baseline: float
    flagged: list[tuple[date, list[str]]] = field(default_factory=list)

    @property
    def text(self) -> str:
        """"2025-02-08: pain 0 → 3/10 after 2025-02-06: …; 2025-02-08 (the same day: which came first is not
        known): …" (a flag of the pain's own day may be from later that day, a run in the evening)."""
        fl = "; ".join(f"{d.isoformat()}{' (the same day: which came first is not known)' if d == self.date else ''}"
                       f": {', '.join(f)}" for d, f in self.flagged)
        return f"{self.date.isoformat()}: pain {self.baseline:g} → {self.rating:g}/10 after {fl}"


@dataclass
class Timeline:
    """The joined daily view of one runner over ``start`` … ``end``."""

    runner: str
    start: date
    end: date
    load: str
    daily: pd.DataFrame
    weekly: pd.DataFrame
    runs: pd.DataFrame
    pain_flags: list[R.PainFlag]
    sitting_trend: R.SittingTrend
    settings: dict

    def associations(self, max_lag_days: int = 3, factors: dict | None = None) -> pd.DataFrame:
        return lagged_associations(self.daily, max_lag_days=max_lag_days, factors=factors)

    def pain_episodes(self, *, rise_min: float = 2.0, lag_days: int = 3) -> list[PainEpisode]:
        return pain_rises_after_flags(self.daily, rise_min=rise_min, lag_days=lag_days)


def _pain_places(day: pd.DataFrame) -> str:
    """Where a day's pain was felt, worst first: the places of its worst rating by name (that rating is the day's
    ``pain_max``), any other with its own rating ("lower-back-left, buttock-left 4/10": 6/10 in the lower back
    was not felt in the buttock)."""
    worst = day.groupby("location")["rating"].max()
    top = worst.max()
    return ", ".join([str(loc) for loc in sorted(worst[worst == top].index)]
                     + [f"{loc} {r:.0f}/10" for loc, r in sorted(worst[worst < top].items(), key=lambda x: (-x[1], x[0]))])


def build_timeline(data: JournalData, *, start: date | None = None, end: date | None = None,
                   load: str = "session", unlogged: str = "unknown", limit: float = 0.10,
                   min_coverage: float = 0.75, acwr_high: float | None = 1.5, pain_threshold: int = R.PAIN_THRESHOLD,
                   coupled: bool = False) -> Timeline:
    """The daily timeline of ``data`` between ``start`` and ``end`` (inclusive).

    Rolling figures and flags are computed over the runner's whole history
    (the chronic window needs the weeks before ``start``) and then cut.

    Parameters
    ----------
    load
        Load measure for the ratios, the weekly rule and the "heavier" part of
        the session rule: one of :data:`journal.load.LOAD_MEASURES`.
    unlogged
        ``"unknown"`` or ``"rest"``: what a day with nothing logged is.
    acwr_high
        Flag days whose rolling acute:chronic ratio exceeds this (1.5, the
        upper edge of the range Gabbett 2016 associated with more injuries);
        None disables it.
    """
    col = L.load_column(load)
    logged = data.logged_dates()
    if end is None:
        end = max(logged) if logged else date.today()
    if start is None:
        start = end - timedelta(weeks=8) + timedelta(days=1)
    if start > end:
        from journal.errors import InvalidValueError

        raise InvalidValueError("start", start, f"a date on or before the end ({end})")
    hist_start = min([start] + [d for d in logged if d < start])
    runs = data.runs
    runs = runs[pd.to_datetime(runs["local_date"]) <= pd.Timestamp(end)] if len(runs) else runs

    d = L.daily_load(runs, logged, start=hist_start, end=end, load=load, unlogged=unlogged)
    for m, mcol in L.LOAD_MEASURES.items():
        if mcol != col:
            d[mcol] = L.daily_load(runs, logged, start=hist_start, end=end, load=m, unlogged=unlogged)["load"]
    d[col] = d["load"]
    d = d.join(L.acwr_rolling(d["load"], coupled=coupled, min_coverage=min_coverage))
    d = d.join(L.acwr_ewma(d["load"]))
    d = d.join(L.monotony_strain(d["load"], min_coverage=min_coverage)[["monotony", "strain"]])

    # Runs: kinds and form per day.
    idx = d.index
    for c in ("run_kinds", "heel_strike_share", "trunk_lean_fwd_deg", "trunk_lean_fwd_drift_deg", "cadence_spm",
              "stance_time_balance_left_pct", "rpe"):
        d[c] = np.nan if c != "run_kinds" else ""
    if len(runs):
        rr = runs.assign(_d=pd.to_datetime(runs["local_date"]))
        kinds = rr.groupby("_d")["kind"].agg(lambda ks: ", ".join(kind_text(k) for k in ks))
        d["run_kinds"] = kinds.reindex(idx).fillna("")
        w = rr["duration_s"].astype(float)
        for c in ("heel_strike_share", "trunk_lean_fwd_deg", "trunk_lean_fwd_drift_deg", "cadence_spm",
                  "stance_time_balance_left_pct", "rpe"):
            x = rr[c].astype(float)
            ok = x.notna() & (w > 0)
            num = (x * w).where(ok).groupby(rr["_d"]).sum(min_count=1)
            den = w.where(ok).groupby(rr["_d"]).sum(min_count=1)
            d[c] = (num / den).reindex(idx)  # duration-weighted mean of the day's runs

    # Sitting days.
    scols = ["sitting_s", "longest_sitting_s", "bouts_ge_30min", "bouts_ge_2h", "breaks_per_sitting_h", "wear_s"]
    if len(data.days):
        s = data.days.assign(_d=pd.to_datetime(data.days["date"])).set_index("_d")[scols]
        d = d.join(s)
    else:
        for c in scols:
            d[c] = np.nan

    # Check-ins.
    ccols = ["sleep_s", "sleep_quality", "stress", "work_sitting_s", "work_standing_s", "lifting"]
    if len(data.checkins):
        c = data.checkins.assign(_d=pd.to_datetime(data.checkins["date"])).set_index("_d")[ccols]
        d = d.join(c)
    else:
        for cc in ccols:
            d[cc] = np.nan
    d["checked_in"] = d.index.isin(pd.to_datetime(data.checkins["date"])) if len(data.checkins) else False
    d["lifting_level"] = d["lifting"].map(LIFTING_LEVEL).astype(float)

    # Exercises: counts on logged days, NaN on unknown days.
    zero = np.where(d["logged"] | (unlogged == "rest"), 0.0, np.nan)
    for cc in ("exercise_n", "core_n", "mobility_n", "exercise_duration_s", "exercise_sets"):
        d[cc] = zero
    if len(data.exercises):
        e = data.exercises.assign(_d=pd.to_datetime(data.exercises["date"]))
        for day, g in e.groupby("_d"):
            if day in idx:
                d.at[day, "exercise_n"] = len(g)
                d.at[day, "core_n"] = int((g["category"] == "core").sum())
                d.at[day, "mobility_n"] = int((g["category"] == "mobility").sum())
                d.at[day, "exercise_duration_s"] = float(g["duration_s"].fillna(0).sum())
                d.at[day, "exercise_sets"] = float(g["sets"].fillna(0).sum())

    # Pain.
    d["pain_max"] = np.nan
    d["pain_n"] = 0
    d["pain_where"] = ""
    d["pain_timing"] = ""
    if len(data.pains):
        p = data.pains.assign(_d=pd.to_datetime(data.pains["local_date"]))
        g = p.groupby("_d")
        days_in = g.size().index
        days_in = days_in[days_in.isin(idx)]
        if len(days_in):  # one assignment per column (not per day: .at is slow over a year)
            d.loc[days_in, "pain_max"] = g["rating"].max().reindex(days_in).astype(float)
            d.loc[days_in, "pain_n"] = g.size().reindex(days_in)
            d.loc[days_in, "pain_where"] = g[["location", "rating"]].apply(_pain_places).reindex(days_in)
            # when the day's worst pain was felt ("next-morning": the answer to the day before, not to this one)
            top = p[p["rating"] == p.groupby("_d")["rating"].transform("max")]
            d.loc[days_in, "pain_timing"] = top.groupby("_d")["timing"].agg(
                lambda ts: ", ".join(sorted(set(ts)))).reindex(days_in)
    d["pain"] = d["pain_max"].where(d["pain_max"].notna(), np.where(d["checked_in"], 0.0, np.nan))

    # Flags.
    flags: dict[pd.Timestamp, list[tuple[str, str]]] = {t: [] for t in idx}

    def add(day, kind, text):
        t = pd.Timestamp(day).normalize()
        if t in flags:
            flags[t].append((kind, text))

    run_checks = R.check_runs(runs, load_col=col, limit=limit) if len(runs) else R.check_runs(runs, load_col=col)
    intensity = R.check_intensity_order(runs, d) if len(runs) else R.check_intensity_order(runs)
    form = R.check_form(runs)
    if len(runs):
        run_day = dict(zip(runs["id"], runs["local_date"]))
        for rid, flag, message in zip(run_checks.index, run_checks["flag"], run_checks["message"]):
            if flag is True and message:
                add(run_day[rid], "run", message)
        for flag, day, reason in zip(intensity["flag"], intensity["date"], intensity["reason"]):
            if flag is True:
                add(day, "intensity", reason)
        for rid, flag, reason in zip(form.index, form["form_flag"], form["form_reason"]):
            if flag is True:
                add(run_day[rid], "form", reason)
    label = L.LOAD_LABELS[load][0]
    weeks = R.check_weeks(d, limit=limit, label=f"week {label}")
    for flag, day, reason in zip(weeks["flag"], weeks["flag_date"], weeks["reason"]):
        if flag is True:
            add(day, "week", reason)
    if len(data.days):
        for day, texts in R.check_sitting(data.days).items():
            for t in texts:
                add(day, "sitting", t)
    if len(data.checkins):
        sensor_days = data.days["date"] if len(data.days) else ()
        for day, texts in R.check_reported_sitting(data.checkins, sensor_days).items():
            for t in texts:
                add(day, "sitting", t)
    if acwr_high is not None:
        for day, val in d["acwr"].items():
            if pd.notna(val) and val > acwr_high:
                add(day, "acwr", f"acute:chronic {val:.2f} (above {acwr_high:g})")
    pain_flags: list[R.PainFlag] = []
    if len(data.pains):
        pain_daily = R.daily_max_pain(data.pains)
        for day in pain_daily.index:
            if pd.Timestamp(start) <= day <= pd.Timestamp(end):
                for pf in R.check_pain_daily(pain_daily, day.date(), threshold=pain_threshold):
                    pain_flags.append(pf)
                    add(day, "pain", pf.message)
    d["flag_items"] = pd.Series({t: list(v) for t, v in flags.items()}, dtype=object)
    d["flags"] = pd.Series({t: [txt for _, txt in v] for t, v in flags.items()}, dtype=object)
    d["flag_kinds"] = pd.Series({t: sorted({k for k, _ in v}) for t, v in flags.items()}, dtype=object)
    d["flagged"] = np.where(d["flag_kinds"].map(lambda ks: any(k in LOAD_FLAG_KINDS for k in ks)), 1.0,
                            np.where(d["logged"], 0.0, np.nan))

    # Cut to the requested range.
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    daily = d[(d.index >= lo) & (d.index <= hi)].copy()
    wk = L.weekly(d, {"runs_n": "runs_n", "duration_s": "duration_s", "distance_m": "distance_m",
                      "core_n": "core_n", "sitting_s": "sitting_s"}, min_coverage=min_coverage)
    wk["logged_days"] = d.groupby(d.index.to_period("W-SUN").start_time)["logged"].sum()
    # distance: the sum of the runs' known distances; how many of the week's runs gave one says whether that is a
    # total, a lower bound, or unknown (the daily sum is unknown on any day with a run without a distance)
    wk["distance_runs_known"] = 0
    if len(runs):
        run_week = pd.to_datetime(runs["local_date"]).dt.to_period("W-SUN").dt.start_time
        dist = runs["distance_m"].astype(float)
        known_n = dist.notna().groupby(run_week).sum().reindex(wk.index).fillna(0).astype(int)
        wk["distance_runs_known"] = known_n
        ran = wk["runs_n"] > 0
        wk.loc[ran, "distance_m"] = dist.groupby(run_week).sum(min_count=1).reindex(wk.index)[ran]
    wk = wk.join(weeks[["increase", "flag", "reason", "unknown_days", "prev_unknown_days"]])
    wk = wk[(wk.index + pd.Timedelta(days=6) >= lo) & (wk.index <= hi)]
    wk["core_note"] = np.where((wk["core_n"] < 2) & (wk["logged_days"] >= 4),
                               "core work below 2 sessions a week (the articles advise 2-3)", "")
    runs_out = runs.copy()
    if len(runs_out):
        runs_out = runs_out[(pd.to_datetime(runs_out["local_date"]) >= lo)]
        runs_out = runs_out.join(run_checks[["duration_increase", "load_increase", "flag", "message"]], on="id")
        runs_out = runs_out.join(intensity[["flag", "reason"]].rename(
            columns={"flag": "intensity_flag", "reason": "intensity_reason"}), on="id")
        runs_out = runs_out.join(form, on="id")
    days_in = data.days[(pd.to_datetime(data.days["date"]) >= lo) & (pd.to_datetime(data.days["date"]) <= hi)] \
        if len(data.days) else data.days
    return Timeline(runner=data.runner.get("name", ""), start=start, end=end, load=load, daily=daily, weekly=wk,
                    runs=runs_out, pain_flags=pain_flags, sitting_trend=R.sitting_trend(days_in),
                    settings={"load": load, "unlogged": unlogged, "limit": limit, "min_coverage": min_coverage,
                              "acwr_high": acwr_high, "pain_threshold": pain_threshold, "coupled": coupled})


# ----------------------------------------------------------------------------
# Pain and what came before


def week_load_text(load_known, coverage) -> str:
    """A week's known load as the timeline writes it (command line and clinic report): "≥ 120" when days of the
    week are unknown (``coverage`` < 1: the sum is a lower bound), "120" when all seven are known, "–" when no
    load is known."""
    if load_known is None or not np.isfinite(load_known):
        return "–"
    return f"≥ {load_known:.0f}" if coverage < 1 else f"{load_known:.0f}"


def week_change_text(increase, flag, unknown_days: int = 0, prev_unknown_days: int = 0) -> str:
    """A week's change on the week before as the timeline writes it (command line, Timeline, clinic report).

    The change is of the known loads, so with days unknown it is a bound: "+12%" when both weeks are known,
    "≥ +15%" when the rule flagged a week with days still unknown (its load can only grow), "≤ +5%" when the rule
    cleared a week after one with unknown days (that week's load can only have been larger), "+12% ?" when the
    rule could not decide (``flag`` None), "" when there is nothing to compare with.  The 10 % flag itself is marked
    by each view."""
    if increase is None or not np.isfinite(increase):
        return ""
    text = f"{increase:+.0%}"
    if flag is None:
        return text + " ?"
    if flag is True and unknown_days:
        return "≥ " + text
    if flag is False and prev_unknown_days:
        return "≤ " + text
    return text


def spearman(x, y) -> tuple[float, float, int]:
    """Spearman's rho, its two-sided p-value and n over the pairs where both are known."""
    from scipy import stats

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    m = ~(np.isnan(x) | np.isnan(y))
    n = int(m.sum())
    if n < 3 or np.ptp(x[m]) == 0 or np.ptp(y[m]) == 0:
        return np.nan, np.nan, n
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.spearmanr(x[m], y[m])
    return float(res.statistic), float(res.pvalue), n


def caution(n: int) -> str:
    if n < 10:
        return f"only {n} days: too few to read anything into"
    if n < 30:
        return f"{n} days: a hint at most, easily chance"
    return f"{n} days: still one person, an association not a cause"


def lagged_associations(daily: pd.DataFrame, *, max_lag_days: int = 3, factors: dict | None = None,
                        pain_col: str = "pain") -> pd.DataFrame:
    """Spearman correlation of pain on day d with each factor on day d − lag.

    Returns one row per (factor, lag) with ``rho``, ``p_value``, ``n`` and
    ``caution`` (for lag 0 also :data:`SAME_DAY_CAUTION`); ``rho`` is NaN when
    fewer than 3 pairs exist or either side is constant.  Read it with :data:`CAVEAT`.
    """
    factors = factors or FACTORS
    full = daily.asfreq("D") if len(daily) else daily
    y = full[pain_col].astype(float)
    rows = []
    for name, (col, desc) in factors.items():
        if col not in full:
            continue
        x = pd.to_numeric(full[col], errors="coerce").astype(float)
        for lag in range(max_lag_days + 1):
            rho, p, n = spearman(x.shift(lag).to_numpy(), y.to_numpy())
            rows.append({"factor": name, "description": desc, "lag_days": lag, "rho": rho, "p_value": p, "n": n,
                         "caution": caution(n) + (f"; {SAME_DAY_CAUTION}" if lag == 0 else "")})
    return pd.DataFrame(rows)


def pain_rises_after_flags(daily: pd.DataFrame, *, rise_min: float = 2.0, lag_days: int = 3,
                           baseline_days: int = 7) -> list[PainEpisode]:
    """Days where pain rose by ``rise_min`` or more within ``lag_days`` after a flagged day.

    The rise is measured against the last known pain value in the
    ``baseline_days`` before (pain-free check-in days count as 0).  Rises on
    consecutive days within ``lag_days`` of a listed episode are part of it.
    Only load, build-up, sitting, ratio and form flags count, not pain flags.  A flag of the pain's own day
    counts unless the day's worst pain was felt the next morning (``pain_timing``), which answers the day before.
    """
    # NumPy arrays instead of pandas masks per day (the same selections, ~100× faster for a year).
    idx = daily.index.to_numpy(dtype="datetime64[ns]")
    pain = daily["pain"].to_numpy(dtype=float)
    items_all = daily["flag_items"].to_numpy(dtype=object)
    timing_all = daily["pain_timing"].to_numpy(dtype=object) if "pain_timing" in daily else np.full(len(daily), "")
    known = ~np.isnan(pain)
    baseline_td, lag_td = np.timedelta64(baseline_days, "D"), np.timedelta64(lag_days, "D")
    episodes: list[PainEpisode] = []
    for i in np.flatnonzero(known):
        t, val = idx[i], pain[i]
        before = pain[(idx < t) & (idx >= t - baseline_td) & known]
        if not len(before):
            continue
        base = float(before[-1])
        if val - base < rise_min:
            continue
        day_t = pd.Timestamp(t).date()
        if episodes and (day_t - episodes[-1].date).days <= lag_days:
            continue
        flagged = []
        # pain felt the next morning answers the day before: that day's own flags (its sitting, its evening run)
        # came after it
        next_morning = timing_all[i] == "next-morning"
        for j in np.flatnonzero((idx >= t - lag_td) & ((idx < t) if next_morning else (idx <= t))):
            texts = [txt for k, txt in items_all[j] if k in LOAD_FLAG_KINDS]
            if texts:
                flagged.append((pd.Timestamp(idx[j]).date(), texts))
        if flagged:
            episodes.append(PainEpisode(day_t, float(val), base, flagged))
    return episodes
