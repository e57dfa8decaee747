"""Sample indices from device sample counters or sensor time stamps.

A recording indexes its rows by ``sample_index`` (0 for the first sample; see
:mod:`sensing.recording`); lost samples are simply absent indices.  Devices
tell which samples were lost in one of two ways:

* a **sample counter** that increments by one per sample and wraps at a
  modulus (2**32 for the reference profile) → :class:`CounterIndexer`;
* **sensor time stamps** on a regular clock → :class:`TimestampIndexer`
  (Polar PMD, Movesense, the reference profile's time field).

Both are streaming objects: feed them each decoded frame's per-sample values in
order, and they return int64 indices and keep the list of gaps.  A repeated
counter or time (a duplicated sample) gets index -1: drop those rows.  That
includes a whole notification delivered twice (BlueZ does that when a stale
notification session survives a reconnection): a batch whose first counter (time)
lies behind the last one, among values already seen in this stream, repeats
samples already indexed; only a counter going back *before* the stream's first
value is a device restart (a discontinuity).

Timing diagram (counter modulus 8, one notification lost)::

    counter   5 6 7 0 | 1 2 3 | · · · | 7 0 1
    index     0 1 2 3 | 4 5 6 | · · · | 10 11 12      gap: start_index 7, lost 3
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Gap:
    """Lost samples: ``lost_samples`` indices starting at ``start_index``."""

    start_index: int
    lost_samples: int


def per_sample_counter(first_counter: int, n_samples: int, counter_modulus: int) -> np.ndarray:
    """Counters of ``n_samples`` consecutive samples starting at ``first_counter`` (wrapping)."""
    if n_samples < 0:
        raise ValueError(f"n_samples must be ≥ 0, got {n_samples}")
    return (int(first_counter) + np.arange(n_samples, dtype=np.int64)) % int(counter_modulus)


def per_sample_times_s(
    first_time_s: float, n_samples: int, *, sampling_rate_hz: float, time_modulus_s: float | None = None
) -> np.ndarray:
    """Times of ``n_samples`` samples spaced ``1 / sampling_rate_hz`` from ``first_time_s`` (wrapping)."""
    _check_rate(sampling_rate_hz)
    times = float(first_time_s) + np.arange(n_samples, dtype=np.float64) / sampling_rate_hz
    return np.mod(times, time_modulus_s) if time_modulus_s else times


def _check_rate(sampling_rate_hz: float) -> None:
    if not isinstance(sampling_rate_hz, (int, float)) or not np.isfinite(sampling_rate_hz) or sampling_rate_hz <= 0:
        raise ValueError(f"sampling_rate_hz must be a positive number, got {sampling_rate_hz!r}")


class _Indexer:
    """Shared bookkeeping: last index, gaps, duplicates, discontinuities."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start over: the next sample gets index 0."""
        self.last_index_: int | None = None
        self.gaps_: list[Gap] = []
        self.lost_samples_ = 0
        self.duplicates_ = 0
        #: Places where the counter/clock went backwards (device restart): the
        #: index continues at +1, and the amount lost there is unknown.
        self.discontinuities_ = 0

    def _assign(self, steps: np.ndarray) -> np.ndarray:
        """Indices from per-sample steps (step to the previous sample; 0 = duplicate)."""
        steps = steps.astype(np.int64)
        base = -1 if self.last_index_ is None else self.last_index_
        idx = base + np.cumsum(steps)
        for k in np.flatnonzero(steps > 1):
            start = int(idx[k] - steps[k] + 1)
            self.gaps_.append(Gap(start, int(steps[k] - 1)))
            self.lost_samples_ += int(steps[k] - 1)
        dup = steps == 0
        self.duplicates_ += int(dup.sum())
        if len(idx):
            self.last_index_ = int(idx[-1])
        return np.where(dup, -1, idx)

    def _span(self) -> int:
        """Samples this stream has covered so far (indexed or lost): how far back a repeat can reach."""
        return 0 if self.last_index_ is None else self.last_index_ + 1

    def _repeats(self, n_repeated: int, rest: np.ndarray, again) -> np.ndarray:
        """-1 for the first ``n_repeated`` samples (counted as duplicates), then ``again(rest)``."""
        self.duplicates_ += n_repeated
        tail = again(rest) if len(rest) else np.zeros(0, dtype=np.int64)
        return np.concatenate([np.full(n_repeated, -1, dtype=np.int64), tail])


class CounterIndexer(_Indexer):
    """Sample indices from a wrapping sample counter.

    Parameters
    ----------
    counter_modulus
        The counter counts 0 … counter_modulus-1 and then wraps to 0.
    sampling_rate_hz
        Nominal rate; only used with ``host_time_s`` to tell how many times the
        counter wrapped during a long dropout.  Without host times, a jump is
        taken modulo ``counter_modulus`` (a dropout of ``counter_modulus`` samples
        or more cannot be seen; with 32-bit counters that is never a concern).

    Attributes
    ----------
    gaps_ : list of Gap
    lost_samples_, duplicates_, discontinuities_ : int
    """

    def __init__(self, *, counter_modulus: int, sampling_rate_hz: float | None = None):
        super().__init__()
        if not isinstance(counter_modulus, (int, np.integer)) or counter_modulus < 2:
            raise ValueError(f"counter_modulus must be an int ≥ 2, got {counter_modulus!r}")
        if sampling_rate_hz is not None:
            _check_rate(sampling_rate_hz)
        self.counter_modulus = counter_modulus
        self.sampling_rate_hz = sampling_rate_hz

    def reset(self) -> None:
        super().reset()
        self._last_counter: int | None = None
        self._last_host_time_s: float | None = None

    def update(self, sample_counter: np.ndarray, *, host_time_s: float | None = None) -> np.ndarray:
        """Indices of the next samples.

        Parameters
        ----------
        sample_counter
            Counter of each sample, in arrival order, shape (n,).
        host_time_s
            Host receive time of this batch (of its last sample), seconds on
            any monotonic clock; with ``sampling_rate_hz`` it resolves dropouts
            longer than one counter period and counter resets.

        Returns
        -------
        np.ndarray
            int64 indices, shape (n,); -1 marks a duplicated counter value.
        """
        counter = np.asarray(sample_counter)
        if counter.ndim != 1 or not np.issubdtype(counter.dtype, np.integer):
            raise ValueError(f"sample_counter must be a 1-d integer array, got shape {counter.shape} dtype {counter.dtype}")
        counter = counter.astype(np.int64)
        modulus = self.counter_modulus
        if len(counter) and (counter.min() < 0 or counter.max() >= modulus):
            raise ValueError(f"sample counter values must lie in 0..{modulus - 1}, got {counter.min()}..{counter.max()}")
        if len(counter) == 0:
            return np.zeros(0, dtype=np.int64)
        prev = counter[0] - 1 if self._last_counter is None else self._last_counter
        steps = np.diff(np.concatenate([[prev], counter])) % modulus
        if self._last_counter is not None:
            # Leading samples whose counter lies behind the last one, within what this stream
            # already indexed, repeat samples already indexed (a notification delivered twice).
            behind = (self._last_counter - counter) % modulus
            window = min(self._span(), modulus // 2)
            n_rep = int(np.argmin(behind < window)) if not (behind < window).all() else len(counter)
            if n_rep and self._is_repeat(int(behind[0]), len(counter), host_time_s):
                return self._repeats(n_rep, counter[n_rep:], lambda rest: self.update(rest, host_time_s=host_time_s))
        if self._last_counter is not None and host_time_s is not None and self._last_host_time_s is not None and self.sampling_rate_hz:
            expected_first = (host_time_s - self._last_host_time_s) * self.sampling_rate_hz - (len(counter) - 1)
            wraps = int(np.round((expected_first - steps[0]) / modulus))
            if wraps < 0:  # the counter went back: the device restarted
                self.discontinuities_ += 1
                steps[0] = max(1, int(np.round(expected_first)))
            else:
                steps[0] += wraps * modulus
        self._last_counter = int(counter[-1])
        if host_time_s is not None:
            self._last_host_time_s = float(host_time_s)
        return self._assign(steps)

    def _is_repeat(self, behind: int, n: int, host_time_s: float | None) -> bool:
        """Whether a first counter ``behind`` the last one is a repeat rather than a long dropout.

        With host times and a rate, the reading closest to the host's estimate
        wins (a counter with a small modulus can also come round after a
        dropout); without, a counter behind by less than half the modulus is a
        repeat.
        """
        if host_time_s is None or self._last_host_time_s is None or not self.sampling_rate_hz:
            return True
        expected_first = (host_time_s - self._last_host_time_s) * self.sampling_rate_hz - (n - 1)
        forward = self.counter_modulus - behind
        return abs(expected_first + behind) <= abs(expected_first - forward)


class TimestampIndexer(_Indexer):
    """Sample indices from sensor time stamps on a regular clock.

    The step between consecutive samples is ``round(Δt · sampling_rate_hz)``, so
    slow clock drift and jitter below half a period never create gaps.  With
    time stamps quantised to 1 ms (Movesense) this needs rates below ~500 Hz.

    Parameters
    ----------
    sampling_rate_hz
        Nominal rate of the samples.
    time_modulus_s
        Period after which the sensor clock wraps (e.g. 2**32 ms for Movesense),
        or None.

    Attributes
    ----------
    gaps_ : list of Gap
    lost_samples_, duplicates_, discontinuities_ : int
    """

    def __init__(self, *, sampling_rate_hz: float, time_modulus_s: float | None = None):
        super().__init__()
        _check_rate(sampling_rate_hz)
        if time_modulus_s is not None and not time_modulus_s > 0:
            raise ValueError(f"time_modulus_s must be positive or None, got {time_modulus_s!r}")
        self.sampling_rate_hz = sampling_rate_hz
        self.time_modulus_s = time_modulus_s

    def reset(self) -> None:
        super().reset()
        self._last_time_s: float | None = None

    def update(self, sensor_time_s: np.ndarray) -> np.ndarray:
        """Indices of the next samples from their sensor times (seconds), shape (n,)."""
        times = np.asarray(sensor_time_s, dtype=np.float64)
        if times.ndim != 1 or not np.all(np.isfinite(times)):
            raise ValueError(f"sensor_time_s must be a 1-d array of finite seconds, got shape {times.shape}")
        if len(times) == 0:
            return np.zeros(0, dtype=np.int64)
        if self._last_time_s is not None:
            # leading samples at or behind the last time, within what this stream indexed: repeats
            back = self._last_time_s - times
            if self.time_modulus_s:
                back = np.mod(back + self.time_modulus_s / 2, self.time_modulus_s) - self.time_modulus_s / 2
            behind = back > -0.5 / self.sampling_rate_hz
            behind &= back < self._span() / self.sampling_rate_hz
            n_rep = int(np.argmin(behind)) if not behind.all() else len(times)
            if n_rep:
                return self._repeats(n_rep, times[n_rep:], self.update)
        prev = times[0] - 1.0 / self.sampling_rate_hz if self._last_time_s is None else self._last_time_s
        dt = np.diff(np.concatenate([[prev], times]))
        if self.time_modulus_s:
            dt = np.where(dt < -self.time_modulus_s / 2, dt + self.time_modulus_s, dt)
        steps = np.rint(dt * self.sampling_rate_hz).astype(np.int64)
        back = steps < 0
        if back.any():
            self.discontinuities_ += int(back.sum())
            steps[back] = 1
        self._last_time_s = float(times[-1])
        return self._assign(steps)
