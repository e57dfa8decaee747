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


def dominant_frequency_hz(x: np.ndarray, *, sampling_rate_hz: float, fmin_hz: float, fmax_hz: float,
                          near_max_fraction: float = 0.9) -> float:
    """Frequency of the fundamental autocorrelation peak between ``fmin_hz`` and ``fmax_hz``.

    The autocorrelation at lag k is the Pearson correlation of ``x[:n-k]``
    with ``x[k:]`` (each part with its own mean and spread, as gait
    regularity is computed, Moe-Nilssen & Helbostad 2004), so a long lag is
    not penalised for overlapping less: on a recording only two or three
    periods long the plain sum falls with the lag and picked a harmonic (a
    shoe's half stride, bench/unseen.py).  The multiples of the period
    correlate about as well as the period itself, so the answer is the
    shortest-lag local maximum within ``near_max_fraction`` of the largest.
    """
    from scipy.signal import argrelmax

    x = np.asarray(x, float)
    n = len(x)
    if n < 4:
        return float("nan")
    lo = int(sampling_rate_hz / fmax_hz)
    hi = min(int(sampling_rate_hz / fmin_hz), (2 * n) // 3)  # at least half a lag of overlap
    if hi <= lo + 1:
        return float("nan")
    x = x - np.mean(x)
    spec = np.fft.rfft(x, 2 * n)
    k = np.arange(lo, hi)
    m = n - k
    sxy = np.fft.irfft(spec * np.conj(spec))[lo:hi]
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    mean_a, mean_b = c1[m] / m, (c1[n] - c1[k]) / m  # x[:n-k] and x[k:]
    var_a = c2[m] / m - mean_a**2
    var_b = (c2[n] - c2[k]) / m - mean_b**2
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (sxy / m - mean_a * mean_b) / np.sqrt(np.clip(var_a * var_b, 0.0, None))
    r = np.nan_to_num(r, nan=-1.0)
    peaks = argrelmax(r)[0]
    if len(peaks) == 0:
        return sampling_rate_hz / (lo + int(np.argmax(r)))
    best = r[peaks].max()
    return sampling_rate_hz / (lo + int(peaks[np.argmax(r[peaks] >= near_max_fraction * best)]))


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




def peak_heights(a: np.ndarray, level: float, gap_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """The peaks of ``a`` above ``level``: runs of samples at or above it, more than ``gap_samples`` apart.
    Returns each peak's height and its first sample."""
    idx = np.flatnonzero(a >= level)
    if not len(idx):
        return np.array([]), np.array([], dtype=int)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(idx) > gap_samples) + 1])
    return np.maximum.reduceat(a[idx], starts), idx[starts]


def saturated_axes(x: np.ndarray, full_scales: tuple[float, ...], *, below: float, above: float, band: float,
                   min_peaks: int, gap_samples: int) -> list[tuple[int, float, int, int]]:
    """Axes of ``x`` (n × 3, one unit with ``full_scales``) that read the end of the sensor's range.

    An axis saturates at a full scale ``fs`` when its largest magnitude lies within ``fs·(1 − below)`` …
    ``fs·(1 + above)`` and, among its peaks above ``fs·(1 − band)`` (:func:`peak_heights`), at least ``min_peaks``
    reach ``fs·(1 − below)`` and more reach it than stay under it: real peak heights thin out toward the largest,
    a movement beyond the range piles them up at the range's end.  Returns ``(axis, fs, peaks at it, first sample
    of the first)`` per saturated axis.
    """
    out = []
    for k in range(x.shape[1]):
        a = np.abs(x[:, k])
        if not np.isfinite(a).any():
            continue
        m = float(np.nanmax(a))
        for fs in full_scales:
            if fs * (1 - below) <= m <= fs * (1 + above):
                heights, first = peak_heights(np.nan_to_num(a), fs * (1 - band), gap_samples)
                at = heights >= fs * (1 - below)
                n_at = int(at.sum())
                if n_at >= min_peaks and n_at > len(heights) - n_at:
                    out.append((k, fs, n_at, int(first[at][0])))
                break
    return out
