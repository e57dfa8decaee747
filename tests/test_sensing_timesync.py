"""Sensor clocks → UTC: two drifting sensors line up within one sample period over an hour (simulated)."""

from __future__ import annotations

import numpy as np
import pytest

from sensing.timesync import ClockFit, ClockSync

FS = 200.0
PER_FRAME = 19


def simulate(rng, *, drift_ppm: float, start_utc_s: float, duration_s: float, first_host_delay_s: float = 0.0):
    """Frames of a sensor whose crystal is off by ``drift_ppm``; host receive = true time + BLE delay.

    The delay: a floor of 7.5 ms (one connection interval) plus a random wait
    for the next connection event (uniform 0–30 ms) plus rare retries (exponential,
    mean 20 ms, 5 % of frames).
    """
    true_rate = FS * (1 + drift_ppm * 1e-6)
    n = int(duration_s * true_rate)
    last_index = np.arange(PER_FRAME - 1, n, PER_FRAME)
    true_time = start_utc_s + last_index / true_rate
    delay = 0.0075 + rng.uniform(0, 0.030, len(last_index)) + (rng.random(len(last_index)) < 0.05) * rng.exponential(0.02, len(last_index))
    return last_index, true_time + delay, true_rate


def fit(last_index, host):
    sync = ClockSync(sampling_rate_hz=FS)
    for i, h in zip(last_index, host):
        sync.update(int(i), float(h))
    return sync.fit()


def test_two_drifting_sensors_line_up_within_one_sample_over_an_hour():
    rng = np.random.default_rng(7)
    t0 = 1_780_000_000.0
    ia, ha, rate_a = simulate(rng, drift_ppm=+40.0, start_utc_s=t0, duration_s=3600.0)
    ib, hb, rate_b = simulate(rng, drift_ppm=-35.0, start_utc_s=t0 + 0.3137, duration_s=3600.0)
    fa, fb = fit(ia, ha), fit(ib, hb)
    assert fa.drift_ppm == pytest.approx(40.0, abs=2.0)
    assert fb.drift_ppm == pytest.approx(-35.0, abs=2.0)
    # one true instant every minute: where does each sensor's fitted clock put its samples?
    instants = t0 + 1.0 + np.arange(0, 3590, 60.0)
    true_a = (instants - t0) * rate_a  # fractional sample index of sensor A at each instant
    true_b = (instants - (t0 + 0.3137)) * rate_b
    err_a = fa.utc_s(true_a) - instants
    err_b = fb.utc_s(true_b) - instants
    # both carry the same delay floor; against each other they agree within a sample period
    assert np.max(np.abs(err_a - err_b)) < 1.0 / FS
    # and each is late by about the floor only (7.5 ms + the smallest wait seen)
    assert 0.0 < np.median(err_a) < 0.0095


def test_without_drift_correction_the_streams_would_not_line_up():
    """The point of the fit: the nominal rate alone is off by tens of samples after an hour."""
    rng = np.random.default_rng(8)
    ia, ha, rate_a = simulate(rng, drift_ppm=+40.0, start_utc_s=0.0, duration_s=3600.0)
    nominal_error_s = ia[-1] / FS - ia[-1] / rate_a
    assert nominal_error_s * FS > 20  # > 20 samples
    fa = fit(ia, ha)
    assert abs(fa.utc_s(ia[-1]) - ia[-1] / rate_a - 0.0075) < 0.5 / FS


def test_short_streams_use_the_nominal_rate_and_round_trip():
    sync = ClockSync(sampling_rate_hz=FS)
    assert sync.fit() is None
    sync.update(18, 100.1)
    sync.update(37, 100.2)
    f = sync.fit()
    assert f.rate_hz == FS and f.utc0_s == pytest.approx(100.1 - 18 / FS)
    assert ClockFit.from_dict(f.to_dict()) == f
    assert f.index_at(f.utc_s(1234.5)) == pytest.approx(1234.5)
    with pytest.raises(ValueError, match="sampling_rate_hz must be positive"):
        ClockSync(sampling_rate_hz=0)
