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

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from analysis import activity_constants as K
from analysis.activity import ActivityResult


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r}: give an IANA name such as Europe/Amsterdam or UTC") from None


def day_summaries(result: ActivityResult, start_utc: datetime | None, tz: str | None = None) -> list[dict]:
    """One dict per local calendar day touched by the recording (keys as in the issue, plus a few).

    Without an absolute start time the days are counted from the recording's
    start (``date`` null, ``day_index`` 0, 1, ...), 24 h each.
    """
    labels = np.asarray(result.labels, dtype=object)
    n = len(labels)
    if n == 0:
        return []
    zone = _zone(tz)
    if start_utc is not None:
        t = pd.Timestamp(start_utc) + pd.to_timedelta(result.t0_s + np.arange(n), unit="s")
        local = t.tz_convert(zone)
        day_key = np.asarray(local.strftime("%Y-%m-%d"))
    else:
        day_key = np.asarray([f"day {int(k)}" for k in (result.t0_s + np.arange(n)) // 86400])
    bouts = result.sitting_bouts
    bout_start_day = {}
    for b in bouts.itertuples():
        k = int(round(b.start_s - result.t0_s))
        bout_start_day.setdefault(day_key[min(max(k, 0), n - 1)], []).append(b)
    out = []
    days, first_idx = np.unique(day_key, return_index=True)
    for i, d in enumerate(days[np.argsort(first_idx)]):
        sel = day_key == d
        lab = labels[sel]
        sitting = float((lab == "sitting").sum())
        upright = float(np.isin(lab, K.UPRIGHT).sum())
        lying = float((lab == "lying").sum())
        wear = float((lab != "unknown").sum())
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
            "breaks_per_sitting_h": (breaks / (sitting / 3600.0)) if sitting > 0 else None,
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
