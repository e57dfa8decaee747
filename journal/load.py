"""Training load: per run, per day, per week and rolling.

Per run
-------
``session_load_au = duration_min × RPE``
    Session-RPE load (Foster et al. 2001, J Strength Cond Res 15:109-115):
    duration in minutes times the CR-10 rating of the whole session.
``trimp_au = Σ Δt_min · HRr · k·e^(b·HRr)``, ``HRr = (HR − HRrest)/(HRmax − HRrest)``
    Banister's training impulse (Banister 1991; Morton, Fitz-Clarke & Banister
    1990, J Appl Physiol 69:1171-1177), k = 0.64, b = 1.92 (male, also used
    when sex is not given) or k = 0.86, b = 1.67 (female).  Summed over the
    heart-rate samples when the run has them, else from the mean heart rate.
``mechanical_load_au = steps × mean impact index``
    From an IMU recording (see :mod:`journal.documents`).

Days and gaps
-------------
The daily series has one row per calendar day.  A day's load is *known* when
the journal holds something for that day (a run, a check-in, a sitting day, a
pain report, an exercise session): known days without a run are rest days
(load 0).  A day with nothing logged is *unknown* (NaN), never a silent zero,
unless the caller says that unlogged days are rest days (``unlogged="rest"``,
for runners whose watch records every run).  A run without the chosen load
(say no RPE for session load) makes that day's load unknown as well.

Rolling figures use the known days of their window only and come with a
*coverage* (known days / window days); below ``min_coverage`` (0.75) they are NaN.

* Acute:chronic ratio, rolling and uncoupled (Windt & Gabbett 2017, Br J
  Sports Med 51:1507; Lolli et al. 2019, Br J Sports Med 53:921): mean daily
  load of the last 7 days (t−6…t) over the mean daily load of the 21 days
  before them (t−27…t−7).  ``coupled=True`` uses the full 28 days (t−27…t).
* Acute:chronic ratio from exponentially weighted moving averages (Williams et
  al. 2017, Br J Sports Med 51:209): ``EWMA_t = λ·load_t + (1−λ)·EWMA_{t−1}``
  with ``λ = 2/(N+1)``, N = 7 and 28 days.  The average starts at the first
  known day's load; an unknown day leaves it unchanged (as if that day's load
  were the current average).  The ratio is NaN for the first 27 days after the
  first known day (warm-up) and, as the rolling ratio, where under
  ``min_coverage`` of the last 7 days are known (weeks without data).
* Monotony and strain (Foster 1998, Med Sci Sports Exerc 30:1164-1168):
  monotony = mean daily load / standard deviation (sample, ddof=1) of the
  daily loads over 7 days; strain = weekly load × monotony, the weekly load
  being 7 × the mean of the known days.  NaN when the SD is 0.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

#: ``load=`` choices and the run column each one reads.
LOAD_MEASURES = {
    "session": "session_load_au",
    "duration": "duration_s",
    "distance": "distance_m",
    "trimp": "trimp_au",
    "mechanical": "mechanical_load_au",
}
#: Plain names and units for tables.
LOAD_LABELS = {
    "session": ("session load", "AU"),
    "duration": ("duration", "min"),
    "distance": ("distance", "km"),
    "trimp": ("TRIMP", "AU"),
    "mechanical": ("mechanical load", "AU"),
}
TRIMP_COEFFICIENTS = {"male": (0.64, 1.92), "female": (0.86, 1.67)}


def load_column(load: str) -> str:
    try:
        return LOAD_MEASURES[load]
    except KeyError:
        from journal.errors import InvalidValueError

        raise InvalidValueError("load", load, "one of " + ", ".join(LOAD_MEASURES)) from None


# ----------------------------------------------------------------------------
# Per run


def session_load_au(duration_s: float, rpe: float | None) -> float | None:
    """Foster's session load: minutes × session RPE (None without an RPE)."""
    if rpe is None or duration_s is None or (isinstance(rpe, float) and np.isnan(rpe)):
        return None
    return duration_s / 60.0 * rpe


def _trimp_weight(hrr: np.ndarray, sex: str | None) -> np.ndarray:
    k, b = TRIMP_COEFFICIENTS["female" if sex == "female" else "male"]
    return hrr * k * np.exp(b * hrr)


def _hrr(hr_bpm, hr_rest_bpm: float, hr_max_bpm: float) -> np.ndarray:
    if not hr_max_bpm > hr_rest_bpm:
        raise ValueError(f"hr_max_bpm ({hr_max_bpm}) must exceed hr_rest_bpm ({hr_rest_bpm})")
    return np.clip((np.asarray(hr_bpm, dtype=float) - hr_rest_bpm) / (hr_max_bpm - hr_rest_bpm), 0.0, 1.0)


def trimp_from_samples(t_s, hr_bpm, *, hr_rest_bpm: float, hr_max_bpm: float, sex: str | None = None,
                       max_gap_s: float = 60.0) -> float | None:
    """Banister TRIMP summed over heart-rate samples.

    Each sample's heart rate holds until the next sample (the interval
    ``t[i] … t[i+1]``); intervals longer than ``max_gap_s`` are pauses and not
    counted; HRr is clipped to 0…1.

    Parameters
    ----------
    t_s, hr_bpm
        Sample times (s, increasing) and heart rates (bpm), same length.
    """
    t = np.asarray(t_s, dtype=float)
    hr = np.asarray(hr_bpm, dtype=float)
    if len(t) < 2:
        return None
    dt_s = np.diff(t)
    keep = (dt_s > 0) & (dt_s <= max_gap_s)
    if not keep.any():
        return None
    w = _trimp_weight(_hrr(hr[:-1], hr_rest_bpm, hr_max_bpm), sex)
    return float(np.sum(dt_s[keep] / 60.0 * w[keep]))


def trimp_from_mean(duration_s: float, avg_hr_bpm: float, *, hr_rest_bpm: float, hr_max_bpm: float,
                    sex: str | None = None) -> float:
    """Banister TRIMP from the mean heart rate: minutes × HRr × k·e^(b·HRr)."""
    return float(duration_s / 60.0 * _trimp_weight(_hrr(avg_hr_bpm, hr_rest_bpm, hr_max_bpm), sex))


def mechanical_load_au(steps_n: int | None, impact_index_mean: float | None) -> float | None:
    if steps_n is None or impact_index_mean is None:
        return None
    return steps_n * impact_index_mean


# ----------------------------------------------------------------------------
# Daily series


def daily_load(runs: pd.DataFrame, logged_days, *, start: date, end: date, load: str = "session",
               unlogged: str = "unknown") -> pd.DataFrame:
    """One row per day from ``start`` to ``end`` (inclusive).

    Parameters
    ----------
    runs
        One row per run with ``local_date`` and the column of the chosen
        ``load`` (see :data:`LOAD_MEASURES`).
    logged_days
        Dates on which the journal holds any entry (runs included or not).
    unlogged
        ``"unknown"`` (default): days with nothing logged have an unknown load;
        ``"rest"``: they are rest days (load 0).

    Returns
    -------
    DataFrame indexed by date with ``load`` (NaN where unknown), ``runs_n``
    and ``logged`` (bool).
    """
    if unlogged not in ("unknown", "rest"):
        from journal.errors import InvalidValueError

        raise InvalidValueError("unlogged", unlogged, "'unknown' or 'rest'")
    col = load_column(load)
    idx = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
    logged_idx = pd.DatetimeIndex(pd.to_datetime(list(logged_days)))
    out = pd.DataFrame(index=idx)
    out["logged"] = idx.isin(logged_idx)
    if len(runs):
        r = runs.assign(_d=pd.to_datetime(runs["local_date"]))
        r = r[(r["_d"] >= idx[0]) & (r["_d"] <= idx[-1])] if len(idx) else r.iloc[0:0]
        g = r.groupby("_d")[col]
        total = g.sum(min_count=1)
        has_missing = r[col].isna().groupby(r["_d"]).any()  # vectorised: a per-day lambda is slow for a year
        counts = g.size()
    else:
        total = has_missing = counts = pd.Series(dtype=float)
    out["runs_n"] = counts.reindex(idx).fillna(0).astype(int)
    out.loc[out["runs_n"] > 0, "logged"] = True
    base = 0.0 if unlogged == "rest" else np.nan
    ld = pd.Series(np.where(out["logged"], 0.0, base), index=idx, dtype=float)
    if len(total):
        t = total.reindex(idx)
        m = has_missing.reindex(idx).fillna(False).astype(bool)
        ran = out["runs_n"] > 0
        ld[ran] = t[ran]
        ld[ran & m] = np.nan
    out["load"] = ld
    out.index.name = "date"
    return out


# ----------------------------------------------------------------------------
# Rolling


def coverage(load: pd.Series, window_days: int) -> pd.Series:
    """Share of the known days (load not NaN) in the trailing ``window_days`` window of each day; days before the
    start of the series count as unknown."""
    return load.notna().astype(float).rolling(window_days, min_periods=1).sum() / window_days


def rolling_known(load: pd.Series, window_days: int, *, shift_days: int = 0, min_coverage: float = 0.75
                  ) -> tuple[pd.Series, pd.Series]:
    """Mean daily load over the known days of a trailing window, and its coverage.

    The window for day t is t−shift−window+1 … t−shift.  Days before the start
    of the series count as unknown.
    """
    s = load.shift(shift_days) if shift_days else load
    cov = coverage(s, window_days)
    mean = s.rolling(window_days, min_periods=1).mean()
    mean = mean.where(cov >= min_coverage)
    return mean, cov


def acwr_rolling(load: pd.Series, *, acute_days: int = 7, chronic_days: int = 28, coupled: bool = False,
                 min_coverage: float = 0.75) -> pd.DataFrame:
    """Acute:chronic ratio of rolling means (uncoupled by default), with coverages."""
    acute, acute_cov = rolling_known(load, acute_days, min_coverage=min_coverage)
    if coupled:
        chronic, chronic_cov = rolling_known(load, chronic_days, min_coverage=min_coverage)
    else:
        chronic, chronic_cov = rolling_known(load, chronic_days - acute_days, shift_days=acute_days,
                                             min_coverage=min_coverage)
    ratio = acute / chronic.where(chronic > 0)
    return pd.DataFrame({
        "acute_mean": acute, "chronic_mean": chronic, "acwr": ratio,
        "acute_coverage": acute_cov, "chronic_coverage": chronic_cov,
    })


def ewma(load: pd.Series, span_days: int) -> pd.Series:
    """Exponentially weighted moving average, λ = 2/(span+1); unknown days leave it unchanged."""
    lam = 2.0 / (span_days + 1.0)
    out = np.full(len(load), np.nan)
    prev = np.nan
    for i, x in enumerate(load.to_numpy(dtype=float)):
        if not np.isnan(x):
            prev = x if np.isnan(prev) else lam * x + (1.0 - lam) * prev
        out[i] = prev
    return pd.Series(out, index=load.index)


def acwr_ewma(load: pd.Series, *, acute_days: int = 7, chronic_days: int = 28, min_coverage: float = 0.75
              ) -> pd.DataFrame:
    """EWMA acute and chronic load and their ratio (NaN during the warm-up and, as the rolling ratio, where
    fewer than ``min_coverage`` of the last ``acute_days`` days are known: the averages only carry on there)."""
    a = ewma(load, acute_days)
    c = ewma(load, chronic_days)
    known = load.notna().to_numpy()
    first = int(np.argmax(known)) if known.any() else len(load)
    warm = np.arange(len(load)) < first + chronic_days - 1
    ratio = (a / c.where(c > 0)).mask(warm | (coverage(load, acute_days) < min_coverage).to_numpy())
    return pd.DataFrame({"ewma_acute": a, "ewma_chronic": c, "acwr_ewma": ratio})


def monotony_strain(load: pd.Series, *, window_days: int = 7, min_coverage: float = 0.75) -> pd.DataFrame:
    """Foster's monotony and strain over a trailing window of known days."""
    cov = coverage(load, window_days)
    mean = load.rolling(window_days, min_periods=2).mean()
    sd = load.rolling(window_days, min_periods=2).std(ddof=1)
    monotony = (mean / sd.where(sd > 0)).where(cov >= min_coverage)
    strain = (mean * window_days * monotony)
    return pd.DataFrame({"monotony": monotony, "strain": strain, "coverage": cov})


def weekly(daily: pd.DataFrame, columns: dict[str, str] | None = None, *, min_coverage: float = 0.75
           ) -> pd.DataFrame:
    """Calendar weeks (Monday to Sunday) of a daily frame.

    ``load_known`` is the sum over the known days (a lower bound when
    ``coverage`` < 1); ``known_days`` and ``coverage`` say how much of the week
    is known; monotony and strain are Foster's over that week's known days.
    ``columns`` maps extra output names to daily columns to sum.
    """
    d = daily.copy()
    week = d.index.to_period("W-SUN").start_time
    d["_week"] = week
    g = d.groupby("_week")
    out = pd.DataFrame({
        "load_known": g["load"].sum(min_count=1).fillna(0.0),
        "known_days": g["load"].count(),
        "days": g.size(),
    })
    out["coverage"] = out["known_days"] / 7.0
    mean = g["load"].mean()
    sd = g["load"].std(ddof=1)
    out["monotony"] = (mean / sd.where(sd > 0)).where(out["coverage"] >= min_coverage)
    out["strain"] = mean * 7 * out["monotony"]
    for name, col in (columns or {}).items():
        out[name] = g[col].sum(min_count=1)
    out.index.name = "week_start"
    return out
