"""Sample indices and gaps from sample counters and sensor time stamps (closed-form cases)."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_interface.counters import CounterIndexer, Gap, TimestampIndexer, per_sample_counter, per_sample_times_s


def test_counter_wraps_without_gaps():
    indexer = CounterIndexer(counter_modulus=8)
    assert indexer.update(np.array([5, 6, 7, 0])).tolist() == [0, 1, 2, 3]
    assert indexer.update(np.array([1, 2, 3])).tolist() == [4, 5, 6]
    assert indexer.gaps_ == [] and indexer.lost_samples_ == 0


def test_counter_gap_across_a_wrap():
    """The module docstring's diagram: one notification (counters 4, 5, 6) lost."""
    indexer = CounterIndexer(counter_modulus=8)
    indexer.update(np.array([5, 6, 7, 0]))
    indexer.update(np.array([1, 2, 3]))
    assert indexer.update(np.array([7, 0, 1])).tolist() == [10, 11, 12]
    assert indexer.gaps_ == [Gap(start_index=7, lost_samples=3)] and indexer.lost_samples_ == 3


def test_gap_inside_a_batch_and_duplicates():
    indexer = CounterIndexer(counter_modulus=2**16)
    assert indexer.update(np.array([10, 11, 14, 14, 15])).tolist() == [0, 1, 4, -1, 5]
    assert indexer.gaps_ == [Gap(2, 2)] and indexer.duplicates_ == 1


def test_host_time_resolves_dropouts_longer_than_the_counter():
    indexer = CounterIndexer(counter_modulus=256, sampling_rate_hz=100)
    indexer.update(np.arange(0, 10), host_time_s=0.09)
    # 3.0 s later: 300 samples passed, the counter shows (9 + 301) % 256 = 54 for the first new one
    idx = indexer.update(np.array([54, 55]), host_time_s=3.10)
    assert idx.tolist() == [310, 311] and indexer.lost_samples_ == 300


def test_host_time_detects_a_counter_reset():
    indexer = CounterIndexer(counter_modulus=256, sampling_rate_hz=100)
    indexer.update(np.arange(100, 110), host_time_s=1.0)
    idx = indexer.update(np.array([0, 1]), host_time_s=1.02)  # device restarted: counter back to 0
    assert idx.tolist() == [10, 11] and indexer.discontinuities_ == 1


def test_counter_input_checks():
    with pytest.raises(ValueError, match="counter_modulus"):
        CounterIndexer(counter_modulus=1)
    with pytest.raises(ValueError, match="0..7"):
        CounterIndexer(counter_modulus=8).update(np.array([8]))
    with pytest.raises(ValueError, match="integer"):
        CounterIndexer(counter_modulus=8).update(np.array([1.5]))


def test_timestamps_with_jitter_and_a_gap():
    fs = 52.0
    t = np.arange(20) / fs + np.random.default_rng(1).uniform(-0.3, 0.3, 20) / fs  # jitter < half a period
    indexer = TimestampIndexer(sampling_rate_hz=fs)
    assert indexer.update(t[:10]).tolist() == list(range(10))
    assert indexer.update(t[15:]).tolist() == list(range(15, 20))
    assert indexer.gaps_ == [Gap(10, 5)]


def test_timestamps_wrap_and_duplicate():
    indexer = TimestampIndexer(sampling_rate_hz=1000, time_modulus_s=4.294967296)  # a 2**32 µs clock
    assert indexer.update(np.array([4.293, 4.294])).tolist() == [0, 1]
    # 4.294 → wraps → 0.000032: Δt = 0.000999 s → one step; then the same time again → duplicate
    assert indexer.update(np.array([0.000032, 0.000032])).tolist() == [2, -1]
    assert indexer.duplicates_ == 1 and indexer.gaps_ == [] and indexer.discontinuities_ == 0


def test_clock_going_back_is_a_discontinuity():
    indexer = TimestampIndexer(sampling_rate_hz=100)
    indexer.update(np.array([10.0, 10.01]))
    assert indexer.update(np.array([1.0, 1.01])).tolist() == [2, 3]
    assert indexer.discontinuities_ == 1 and indexer.gaps_ == []


def test_reset_starts_at_zero():
    indexer = TimestampIndexer(sampling_rate_hz=100)
    indexer.update(np.array([1.0, 1.05]))
    indexer.reset()
    assert indexer.update(np.array([7.0])).tolist() == [0] and indexer.gaps_ == []


def test_per_sample_helpers():
    assert per_sample_counter(254, 4, 256).tolist() == [254, 255, 0, 1]
    np.testing.assert_allclose(per_sample_times_s(9.99, 3, sampling_rate_hz=100, time_modulus_s=10.0), [9.99, 0.0, 0.01], atol=1e-12)
    with pytest.raises(ValueError, match="sampling_rate_hz"):
        per_sample_times_s(0.0, 3, sampling_rate_hz=0)
