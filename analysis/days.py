"""Per-day sitting summaries from the per-second activity (:mod:`analysis.activity`).

Days are calendar days in the runner's time zone (an IANA name such as
``Europe/Amsterdam``; daylight-saving days have 23 or 25 hours).  Seconds are
split exactly at local midnight, so a sitting bout from 23:30 to 00:45 adds
30 min to one day and 45 min to the next; the bout itself (its length, the
≥ 30 min / ≥ 2 h counts, the longest bout) belongs to the day it started on.

A day with less than ``MIN_WEAR_DAY_S`` of wear (known, worn seconds) says
so: its ``sitting_s`` is ``null`` and ``flags`` holds ``"insufficient-wear"``;
the measured part is in ``measured_sitting_s``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from analysis import activity_constants as K
from analysis.activity import ActivityResult


def known_zone(name) -> str | None:
    """``name``'s IANA key when it names a time zone this machine knows, else None (not a text, or no such zone)."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name).key
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zone(tz: str | None) -> ZoneInfo:
    key = known_zone(tz or "UTC")
    if key is None:
        raise ValueError(f"unknown time zone {tz!r}: give an IANA name such as Europe/Amsterdam or UTC")
    return ZoneInfo(key)


def _day_bounds(t0_s: float, n: int, start_utc: datetime | None, zone: ZoneInfo) -> tuple[list[str], np.ndarray]:
    """Names of the days touched by seconds ``0..n-1`` and their first second indices (plus ``n``)."""
    if start_utc is None:
        first, last = int((t0_s) // 86400), int((t0_s + n - 1) // 86400)
        names = [f"day {k}" for k in range(first, last + 1)]
        starts = [0] + [int(math.ceil(k * 86400 - t0_s)) for k in range(first + 1, last + 1)]
        return names, np.array(starts + [n])
    t_first = pd.Timestamp(start_utc) + pd.to_timedelta(t0_s, unit="s")
    local = t_first.tz_convert(zone)
    day = local.normalize().tz_localize(None).to_pydatetime().date()
    names, starts = [], []
    while True:
        midnight = pd.Timestamp(datetime.combine(day, datetime.min.time())).tz_localize(zone, ambiguous=False,
                                                                                         nonexistent="shift_forward")
        k = max(0, int(math.ceil((midnight - t_first).total_seconds())))
        if k >= n:
            break
        if not starts or k > starts[-1] or not names:
            names.append(day.isoformat())
            starts.append(k if starts else 0)
        day = day + timedelta(days=1)
    return names, np.array(starts + [n])


def day_summaries(result: ActivityResult, start_utc: datetime | None, tz: str | None = None) -> list[dict]:
    """One dict per local calendar day touched by the recording (keys as in the issue, plus a few).

    Without an absolute start time the days are counted from the recording's
    start (``date`` null, ``day_index`` 0, 1, ...), 24 h each.
    """
    from analysis.activity import CODE, UPRIGHT_CODES

    codes = np.asarray(result.codes)
    n = len(codes)
    if n == 0:
        return []
    zone = _zone(tz)
    # day boundaries (second indices) instead of a key per second: memory does not grow with the recording
    names, bounds = _day_bounds(result.t0_s, n, start_utc, zone)
    day_of = lambda k: int(np.searchsorted(bounds, k, side="right") - 1)  # noqa: E731
    bouts = result.sitting_bouts
    bout_start_day = {}
    for b in bouts.itertuples():
        k = int(round(b.start_s - result.t0_s))
        bout_start_day.setdefault(names[day_of(min(max(k, 0), n - 1))], []).append(b)
    out = []
    for i, d in enumerate(names):
        lab = codes[bounds[i]:bounds[i + 1]]
        sitting = float((lab == CODE["sitting"]).sum())
        upright = float(np.isin(lab, UPRIGHT_CODES).sum())
        lying = float((lab == CODE["lying"]).sum())
        wear = float((lab != CODE["unknown"]).sum())
        mine = bout_start_day.get(d, [])
        lengths = np.array([b.duration_s for b in mine], dtype=float)
        breaks = sum(1 for b in mine if b.ended_by in K.UPRIGHT)
        flags = []
        if lengths.size and lengths.max() >= K.BOUT_VERY_LONG_S:
            flags.append("sitting-bout-2h")
        if sitting >= K.DAY_SITTING_FLAG_S:
            flags.append("sitting-6h")
        enough = wear >= K.MIN_WEAR_DAY_S
        if not enough:
            flags.append("insufficient-wear")
        row = {
            "date": d if start_utc is not None else None,
            "sitting_s": sitting if enough else None,
            "bouts_ge_30min": int((lengths >= K.BOUT_LONG_S).sum()),
            "bouts_ge_2h": int((lengths >= K.BOUT_VERY_LONG_S).sum()),
            "longest_sitting_s": float(lengths.max()) if lengths.size else 0.0,
            # a rate over a day seen in part is noise (a minute of sitting and one break read 60 per hour)
            "breaks_per_sitting_h": (breaks / (sitting / 3600.0)) if sitting > 0 and enough else None,
            "wear_s": wear,
            "flags": flags,
            "measured_sitting_s": sitting,
            "upright_s": upright,
            "lying_s": lying,
            "sitting_bouts": int(lengths.size),
            "breaks": int(breaks),
            "time_zone": zone.key,
        }
        if start_utc is None:
            row["day_index"] = i
        out.append(row)
    return out
