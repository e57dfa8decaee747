"""Streaming metrics agree with the batch analysis of the same recording, within stated tolerances.

Stated tolerances (per step / stride, matched to the batch step with the nearest IC):

* every batch step found, except those within the last ``margin_s + hop_s`` of the recording;
  none found that the batch does not have;
* IC within 2 ms; step (stride) time within 3 ms (per-step cadence within 0.5 steps/min at running
  cadences); the live cadence within 0.5 steps/min of the batch over the same steps;
* trunk lean within 1.0° (the batch adds an AHRS correction for stance vs. the stride mean,
  which the live value leaves out: on the simulated run it is 0.5°);
* strike angle within 0.5°, and the live heel-strike class is the class of the batch's
  median strike angle of the same strides.

Sitting has no batch counterpart in analysis.pipeline; :func:`analysis.streaming.sitting_mask`
is its batch form, and both are checked against a simulated posture sequence with known truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis.constants import GRAVITY_M_S2
from analysis.pipeline import analyse, classify_strike
from analysis.streaming import LiveMetrics, sitting_mask
from sensing.formats import open_recording

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"


def stream(rec, *, block_sizes=(19, 7, 31, 1, 12)):
    """Feed a recording in notification-sized blocks of varying size."""
    lm = LiveMetrics(placement=rec.placement, sampling_rate_hz=rec.sampling_rate_hz)
    d = rec.data
    idx = d.index.to_numpy()
    acc = d[["acc_x", "acc_y", "acc_z"]].to_numpy()
    gyr = d[["gyr_x", "gyr_y", "gyr_z"]].to_numpy() if rec.has_gyr else None
    a, k = 0, 0
    history = []
    while a < len(idx):
        b = min(len(idx), a + block_sizes[k % len(block_sizes)])
        lm.update(idx[a:b], acc[a:b], None if gyr is None else gyr[a:b])
        history.append((idx[b - 1] / rec.sampling_rate_hz, lm.snapshot()))
        a, k = b, k + 1
    return lm, history


def match(lm, batch_steps, fs):
    live_ic = np.array([s.ic_s for s in lm.steps_])
    batch_ic = batch_steps["ic_s"].to_numpy()
    j = np.array([int(np.argmin(np.abs(batch_ic - t))) for t in live_ic])
    return live_ic, j


@pytest.mark.parametrize("name", ["sim_lower_back_run", "sim_shoe_run", "gaitmap_left_shoe_walk"])
def test_steps_and_cadence_agree_with_batch(name):
    rec = open_recording(SAMPLES / f"{name}.parquet")
    fs = rec.sampling_rate_hz
    report = analyse(rec)
    lm, _ = stream(rec)
    steps = report.steps
    live_ic, j = match(lm, steps, fs)
    assert np.max(np.abs(live_ic - steps["ic_s"].to_numpy()[j])) < 0.002
    assert len(set(j)) == len(j)  # no batch step matched twice: nothing extra
    end_s = rec.t_s[-1]
    expected = steps[steps["ic_s"] < end_s - (lm.margin_s + lm.hop_s + 1.5)]
    assert set(range(len(expected))) <= set(j), "a batch step was missed"
    col = "step_time_s" if rec.placement == "lower-back" else "stride_time_s"
    live_t = np.array([np.nan if s.step_time_s is None else s.step_time_s for s in lm.steps_])
    batch_t = steps[col].to_numpy()[j]
    both = np.isfinite(live_t) & np.isfinite(batch_t)
    assert both.sum() > 0.9 * len(live_t)
    assert np.max(np.abs(live_t[both] - batch_t[both])) < 0.003
    # the live value at the end: cadence of the last n_recent steps as the batch has them
    per_step = 60.0 if rec.placement == "lower-back" else 120.0
    last = batch_t[both][-lm.n_recent:]
    assert lm.cadence_spm_ == pytest.approx(per_step / np.median(last), abs=0.5)


def test_trunk_lean_agrees_with_batch():
    rec = open_recording(SAMPLES / "sim_lower_back_run.parquet")
    report = analyse(rec)
    lm, history = stream(rec)
    assert lm.up_standing_ is not None  # found the 10 s of standing before the run
    live_ic, j = match(lm, report.steps, rec.sampling_rate_hz)
    live = np.array([np.nan if s.trunk_lean_fwd_deg is None else s.trunk_lean_fwd_deg for s in lm.steps_])
    batch = report.steps["trunk_lean_fwd_deg"].to_numpy()[j]
    both = np.isfinite(live) & np.isfinite(batch)
    assert both.sum() > 0.9 * len(live)
    assert np.max(np.abs(live[both] - batch[both])) < 1.0
    # the live value follows the lean growing through the run (truth: +4° from start to end)
    leans = [(t, s["trunk_lean_deg"]) for t, s in history if s["trunk_lean_deg"] is not None]
    assert leans[-1][1] - leans[0][1] == pytest.approx(4.0, abs=1.0)


def test_heel_strike_indicator_agrees_with_batch():
    rec = open_recording(SAMPLES / "sim_shoe_run.parquet")
    report = analyse(rec)
    lm, history = stream(rec)
    live_ic, j = match(lm, report.steps, rec.sampling_rate_hz)
    live = np.array([np.nan if s.strike_angle_deg is None else s.strike_angle_deg for s in lm.steps_])
    batch = report.steps["strike_angle_deg"].to_numpy()[j]
    both = np.isfinite(live) & np.isfinite(batch)
    assert both.sum() > 0.9 * len(live)
    assert np.max(np.abs(live[both] - batch[both])) < 0.5
    expected = classify_strike(float(np.median(batch[both][-lm.n_recent:])), band_deg=0.0)
    assert lm.heel_strike_ == expected
    classes = {s["heel_strike"] for _, s in history if s["heel_strike"]}
    assert {"rearfoot", "midfoot"} <= classes  # the simulated run mixes both


def posture_recording(fs: float = 50.0):
    """Standing 10 s, sitting 120 s (pelvis rolled back 30°), standing 20 s, sitting 60 s, standing 10 s.

    A belt sensor mounted rotated (arbitrary mount), with 0.05 m/s² noise.  Truth: the sitting intervals.
    """
    rng = np.random.default_rng(3)
    plan = [("stand", 10), ("sit", 120), ("stand", 20), ("sit", 60), ("stand", 10)]
    mount = Rotation.from_euler("xyz", [170, 20, 95], degrees=True)
    parts, truth, t = [], [], 0.0
    for what, dur in plan:
        n = int(dur * fs)
        tilt = Rotation.from_euler("y", -30 if what == "sit" else 0, degrees=True)
        up_body = tilt.inv().apply([0, 0, GRAVITY_M_S2])
        parts.append(np.tile(mount.inv().apply(up_body), (n, 1)) + rng.normal(0, 0.05, (n, 3)))
        if what == "sit":
            truth.append((t, t + dur))
        t += dur
    return np.vstack(parts), truth


def test_sitting_timer_matches_truth_and_batch():
    fs = 50.0
    acc, truth = posture_recording(fs)
    lm = LiveMetrics(placement="lower-back", sampling_rate_hz=fs)
    timer = []
    for a in range(0, len(acc), 10):
        lm.update(np.arange(a, min(a + 10, len(acc))), acc[a:a + 10])
        timer.append((min(a + 10, len(acc)) / fs, lm.sitting_s_))
    t = np.array([x for x, _ in timer])
    s = np.array([np.nan if v is None else v for _, v in timer])
    for start, end in truth:
        at_end = s[np.argmin(np.abs(t - (end - 0.01)))]
        assert at_end == pytest.approx(end - start, abs=1.5)  # the timer reached the bout's length
        after = s[np.argmin(np.abs(t - (end + 2.0)))]
        assert after == 0.0  # and reset on standing up
    # batch form on the same data, with the reference the streaming form found
    mask = sitting_mask(acc, sampling_rate_hz=fs, up_standing=lm._first_still, body_part="trunk")
    runs = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    bouts = list(zip(runs[::2] / fs, runs[1::2] / fs))
    assert len(bouts) == len(truth)
    for (a, b), (ta, tb) in zip(bouts, truth):
        assert a == pytest.approx(ta, abs=1.0) and b == pytest.approx(tb, abs=1.0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="placement must be one of"):
        LiveMetrics(placement="wrist", sampling_rate_hz=100)
    lm = LiveMetrics(placement="foot-left", sampling_rate_hz=100)
    with pytest.raises(ValueError, match=r"acc_m_s2 must have shape \(3, 3\)"):
        lm.update(np.arange(3), np.zeros((2, 3)))


def test_cached_filter_design_gives_scipys_filter():
    """The live path re-filters short windows every hop with designs made once
    (analysis.signals.butter_sos): the results are SciPy's own, bit for bit."""
    from scipy import signal

    from analysis.orientation import gravity_direction_lowpass

    for fs, n in ((100.0, 600), (200.0, 1200), (52.0, 400)):
        t = np.arange(n) / fs
        acc = np.column_stack([3 * np.sin(2 * np.pi * 2.8 * t), np.cos(2 * np.pi * 0.2 * t), 9.81 + 4 * np.sin(2 * np.pi * 2.8 * t)])
        for _ in range(2):  # the second call uses the cached design
            low = signal.sosfiltfilt(signal.butter(2, 0.5, fs=fs, output="sos"), acc, axis=0)
            np.testing.assert_allclose(gravity_direction_lowpass(acc, sampling_rate_hz=fs),
                                       low / np.linalg.norm(low, axis=1, keepdims=True), rtol=0, atol=1e-12)
