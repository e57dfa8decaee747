"""A movement beyond the sensor's range: the analysis says where (analysis.signals.saturated_axes).

Truth: a simulated run whose accelerometer is cut at ±2 g (every step's impact, 2.1 g in the simulation, reads
2 g), the same run uncut, and the shared real data (gaitmap_example's NilsPod shoes read ±16 g at a few heel
strikes, visible as a pile of peaks at 156-158 m/s² with a gap under it; ipol_gait's Xsens MTw (±16 g, ±2000 °/s)
and mobgap_lab never reach their range).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.constants import GRAVITY_M_S2 as G
from analysis.pipeline import analyse, saturation_warnings
from analysis.simulate import lower_back_run

ROOT = Path(__file__).resolve().parents[1]


def _clipped(rec, limit_m_s2):
    from dataclasses import replace

    data = rec.data.copy()
    cols = ["acc_x", "acc_y", "acc_z"]
    data[cols] = np.clip(data[cols].to_numpy(), -limit_m_s2, limit_m_s2)
    return replace(rec, data=data)


def test_a_run_cut_at_the_accelerometers_range_is_reported_and_the_uncut_run_is_not():
    rec, truth = lower_back_run(sampling_rate_hz=100.0, run_s=60.0, seed=3)
    assert np.abs(rec.data["acc_z"]).max() > 2.05 * G  # premise: the impacts go beyond 2 g
    assert saturation_warnings(rec, "lower-back") == []
    report = analyse(_clipped(rec, 2.0 * G))
    (w,) = [w for w in report.warnings if w.startswith("accelerometer at the end of its range")]
    assert "reached the sensor's 2 g limit (its z axis)" in w and "impact index of those steps reads low" in w
    n_peaks = int(w.split(" peaks")[0].rsplit(" ", 1)[1])
    assert n_peaks >= 0.9 * len(truth.steps)  # (nearly) every step's impact is cut
    # the steps are still found: the range cuts the impact, not the step
    assert len(report.steps) == pytest.approx(len(truth.steps), abs=3)


def _spikes(heights, fs_hz=100.0):
    """One sample per peak, 0.29 s apart, on the z axis."""
    x = np.zeros((int((0.2 + 0.29 * len(heights)) * fs_hz), 3))
    for i, h in enumerate(heights):
        x[int((0.1 + 0.29 * i) * fs_hz), 2] = h
    return x


def test_peaks_that_thin_out_toward_the_largest_are_not_saturation_and_a_pile_at_the_range_is():
    from analysis.signals import saturated_axes

    kw = dict(below=0.015, above=0.03, band=0.06, min_peaks=3, gap_samples=5)
    rng = np.random.default_rng(1)
    # skewed peak heights (few near the top) whose largest happens to be exactly 2 g: real data, not a cut
    heights = 1.6 * G + 0.4 * G * rng.beta(2, 5, size=200)
    heights[17] = 2.0 * G
    assert saturated_axes(_spikes(heights), (2.0 * G,), **kw) == []
    # peaks spread from 1.6 to 2.4 g, cut by a 2-g range that reads 1.25 % low (1.975 g): they pile up there
    heights = rng.uniform(1.6 * G, 2.4 * G, size=200)
    n_cut = int((heights >= 0.985 * 2.0 * G).sum())  # the peaks at the range (from 1.5 % under it)
    assert n_cut > int(((heights >= 1.88 * G) & (heights < 1.97 * G)).sum())  # premise: more at than under
    (hit,) = saturated_axes(_spikes(np.minimum(heights, 1.975 * G)), (2.0 * G,), **kw)
    assert hit[:3] == (2, 2.0 * G, n_cut)


@pytest.mark.shared_data
def test_real_recordings_saturate_only_where_they_do():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench import datasets as D
    from conftest import need_dataset

    need_dataset("gaitmap_example")
    shoes = {t.name: saturation_warnings(t.recording, t.recording.placement) for t in D.gaitmap_trials()
             if "raw-frame" not in t.name}
    assert {n: len(w) for n, w in shoes.items()} == {"gaitmap_example left shoe": 1, "gaitmap_example right shoe": 1}
    assert all("reached the sensor's 16 g limit (its z axis)" in w[0] and "gyroscope, which this does not touch" in w[0]
               for w in shoes.values())
    need_dataset("ipol_gait")
    for placement in ("foot-left", "lower-back"):
        for t in D.ipol_trials(placement):
            assert saturation_warnings(t.recording, placement) == [], t.name
    need_dataset("mobgap_lab")
    for t in D.mobgap_trials():
        assert saturation_warnings(t.recording, "lower-back") == [], t.name
