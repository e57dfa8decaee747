"""Small signal helpers shared by the detectors (zero-phase filters, crossings)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal


@lru_cache(maxsize=64)
def butter_sos(order: int, cutoff_hz: float, btype: str, sampling_rate_hz: float) -> np.ndarray:
    """The designed Butterworth filter, once per parameter set (the live detectors re-filter
    short windows many times a second; designing the filter was about half of each call).
    Callers share the array and must not modify it (scipy's sosfilt wants it writable)."""
    return signal.butter(order, cutoff_hz, btype, fs=sampling_rate_hz, output="sos")


def lowpass(x: np.ndarray, cutoff_hz: float, *, sampling_rate_hz: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth low-pass along axis 0 (offline use only)."""
    cutoff_hz = min(cutoff_hz, 0.45 * sampling_rate_hz)
    sos = butter_sos(order, float(cutoff_hz), "low", float(sampling_rate_hz))
    padlen = min(3 * (2 * len(sos) + 1), len(x) - 1)
    return signal.sosfiltfilt(sos, x, axis=0, padlen=max(padlen, 0))


def highpass(x: np.ndarray, cutoff_hz: float, *, sampling_rate_hz: float, order: int = 2) -> np.ndarray:
    sos = butter_sos(order, float(cutoff_hz), "high", float(sampling_rate_hz))
    padlen = min(3 * (2 * len(sos) + 1), len(x) - 1)
    return signal.sosfiltfilt(sos, x, axis=0, padlen=max(padlen, 0))


def dominant_frequency_hz(x: np.ndarray, *, sampling_rate_hz: float, fmin_hz: float, fmax_hz: float) -> float:
    """Frequency of the largest autocorrelation peak between ``fmin_hz`` and ``fmax_hz``."""
    x = np.asarray(x, float) - np.mean(x)
    n = len(x)
    if n < 4:
        return float("nan")
    spec = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    lo = int(sampling_rate_hz / fmax_hz)
    hi = min(int(sampling_rate_hz / fmin_hz), n - 1)
    if hi <= lo + 1:
        return float("nan")
    k = lo + int(np.argmax(ac[lo:hi]))
    return sampling_rate_hz / k


def crossing_time(x: np.ndarray, level: float, i0: int, i1: int, *, rising: bool) -> float | None:
    """Sub-sample index of the first crossing of ``level`` in x[i0:i1] (linear interpolation)."""
    i0 = max(i0, 0)
    i1 = min(i1, len(x))
    seg = x[i0:i1] - level
    if len(seg) < 2:
        return None
    s = np.signbit(seg)
    idx = np.flatnonzero(s[:-1] & ~s[1:]) if rising else np.flatnonzero(~s[:-1] & s[1:])
    if len(idx) == 0:
        return None
    k = idx[0]
    a, b = seg[k], seg[k + 1]
    return i0 + k + (a / (a - b) if a != b else 0.0)


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)
