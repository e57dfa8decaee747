"""Sensor clock → UTC, with the sensor's drift measured against host receive times.

Every sample has an index (from the sample counter, the sensor clock or, for
devices with neither, the arrival order; see :mod:`sensing.ingest`).  A sensor's
crystal runs fast or slow by tens of ppm: 50 ppm is 0.18 s, 36 samples at
200 Hz, after an hour.  So the UTC time of sample ``i`` is modelled as::

    utc(i) = utc0 + i / rate_hz          (rate_hz: the sensor's true rate)

and fitted to the host receive times.  A notification arrives *after* its last
sample was taken, by a delay that is never negative and varies (the BLE
connection interval, radio retries, the OS): ``host_k = utc(i_k) + delay_k``.
The least delayed notifications carry the clock; so per window of
``window_s`` seconds only the notification with the smallest
``host - i / nominal_rate`` is kept, and a straight line is fitted through those
minima (least squares).  This is the minimum-delay filter used for one-way
clock skew estimation (Moon, Skelly & Towsley 1999, IEEE INFOCOM, "Estimation
and removal of clock skew from network delay measurements").

What stays is the *smallest* delay, common to sensors on the same host and
radio: two sensors' streams line up with each other, while both are late
against true UTC by that floor (a few ms).

    host time ─┐   ·  ·    ·        ·   ·      ·
               │ ·  ·  ·  ·  ·  ·  ·  ·  ·  · ·    (notifications: delay ≥ 0)
               │─────────────────────────────────  fitted line through window minima
               └──────────────────────────────────► sample index
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np


@dataclass(frozen=True)
class ClockFit:
    """``utc(i) = utc0_s + i / rate_hz`` (``utc0_s``: POSIX seconds of sample index 0)."""

    utc0_s: float
    rate_hz: float
    nominal_rate_hz: float
    n_windows: int

    @property
    def drift_ppm(self) -> float:
        """How much faster (+) or slower (−) the sensor runs than its nominal rate, ppm."""
        return (self.rate_hz / self.nominal_rate_hz - 1.0) * 1e6

    def utc_s(self, sample_index) -> np.ndarray:
        """POSIX seconds of the given sample indices."""
        return self.utc0_s + np.asarray(sample_index, dtype=np.float64) / self.rate_hz

    def index_at(self, utc_s) -> np.ndarray:
        """Fractional sample index at the given POSIX times."""
        return (np.asarray(utc_s, dtype=np.float64) - self.utc0_s) * self.rate_hz

    @property
    def start_utc(self) -> datetime:
        return datetime.fromtimestamp(0, timezone.utc) + timedelta(seconds=self.utc0_s)

    def to_dict(self) -> dict:
        return {"utc0_s": self.utc0_s, "rate_hz": self.rate_hz, "nominal_rate_hz": self.nominal_rate_hz,
                "drift_ppm": self.drift_ppm, "n_windows": self.n_windows}

    @classmethod
    def from_dict(cls, d: dict) -> "ClockFit":
        return cls(float(d["utc0_s"]), float(d["rate_hz"]), float(d["nominal_rate_hz"]), int(d.get("n_windows", 0)))


class ClockSync:
    """Streaming estimate of :class:`ClockFit` from (last sample index, host receive time) pairs.

    Parameters
    ----------
    sampling_rate_hz
        Nominal rate of the sample index.
    window_s
        One minimum-delay point per window of host time.
    min_span_s
        The rate is only fitted once the minima span this long; before, the
        nominal rate is used (a short span cannot resolve ppm).
    """

    def __init__(self, *, sampling_rate_hz: float, window_s: float = 10.0, min_span_s: float = 60.0):
        if not sampling_rate_hz > 0:
            raise ValueError(f"sampling_rate_hz must be positive, got {sampling_rate_hz!r}")
        self.sampling_rate_hz = float(sampling_rate_hz)
        self.window_s = window_s
        self.min_span_s = min_span_s
        self._ref: float | None = None  # host time origin, keeps the numbers small
        self._window_start: float | None = None
        self._best: tuple[float, float] | None = None  # (offset, index) of the current window
        self._points: list[tuple[float, float]] = []  # (index, host - ref) minima of closed windows

    def update(self, last_index: int | float, host_time_s: float) -> None:
        """One notification: index of its last sample and when it arrived (POSIX seconds)."""
        if self._ref is None:
            self._ref = float(host_time_s)
            self._window_start = float(host_time_s)
        if host_time_s - self._window_start >= self.window_s and self._best is not None:
            self._close_window()
            self._window_start = float(host_time_s)
        h = float(host_time_s) - self._ref
        offset = h - float(last_index) / self.sampling_rate_hz
        if self._best is None or offset < self._best[0]:
            self._best = (offset, float(last_index))

    def _close_window(self) -> None:
        off, idx = self._best
        self._points.append((idx, off + idx / self.sampling_rate_hz))
        self._best = None

    def fit(self) -> ClockFit | None:
        """Current estimate (None before the first notification)."""
        if self._ref is None:
            return None
        pts = list(self._points)
        if self._best is not None:
            off, idx = self._best
            pts.append((idx, off + idx / self.sampling_rate_hz))
        idx = np.array([p[0] for p in pts])
        host = np.array([p[1] for p in pts])
        fs = self.sampling_rate_hz
        span_s = (idx.max() - idx.min()) / fs if len(idx) else 0.0
        if len(pts) >= 3 and span_s >= self.min_span_s:
            # host - i/fs = a + c·i/fs  →  utc(i) = a + i (1 + c) / fs
            x = idx / fs
            c, a = np.polyfit(x, host - x, 1)
            rate = fs / (1.0 + c)
        else:
            a = float(np.min(host - idx / fs))
            rate = fs
        return ClockFit(utc0_s=self._ref + float(a), rate_hz=float(rate), nominal_rate_hz=fs, n_windows=len(pts))
