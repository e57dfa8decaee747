"""Unseen data: what bench/unseen.py found, pinned on closed-form and simulated signals.

* A shoe recording of two or three strides used to leave the foot frame's
  pitch sign to chance (the stride-long windows were laid from the first
  sample and held one stance point), and the stride period from the plain
  autocorrelation picked a harmonic on so short a signal.
* A recording just under 3 s was not analysed at all.
* write_bids writes other units (the reader's conversion is exercised) and
  keeps the absolute time of a recording whose first sample index is not 0.
* The path unseen data take — BIDS-Motion → ``backstride analyse`` → JSON —
  gives the same ICs as :func:`analysis.pipeline.analyse` in-process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.transform import Rotation

from analysis import alignment
from analysis.constants import GRAVITY_M_S2
from analysis.pipeline import analyse
from analysis.signals import dominant_frequency_hz
from analysis.simulate import shoe_run
from sensing.bids import read_bids, write_bids
from sensing.formats import read_parquet
from sensing.recording import from_arrays

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import need_dataset  # noqa: E402
SAMPLES = ROOT / "sample_recordings"


# ---------------------------------------------------------------------------
# Stride period and foot pitch sign on short recordings


@pytest.mark.parametrize("periods", [2.2, 3.0, 10.0])
@pytest.mark.parametrize("f_hz", [0.7, 1.1])
def test_dominant_frequency_finds_the_fundamental_of_a_short_signal(f_hz, periods):
    """A shoe's angular-rate norm in closed form: two lobes per stride (push-off, swing), a few strides long.

    Half a stride apart and of nearly equal height, the lobes correlate well
    at half the lag: the plain autocorrelation sum, which falls with the lag
    on a short signal, took the half stride for the stride.
    """
    fs = 100.0
    t = np.arange(int(periods / f_hz * fs)) / fs
    phase = (t * f_hz) % 1.0
    x = np.exp(-(((phase - 0.25) / 0.06) ** 2)) + 0.85 * np.exp(-(((phase - 0.72) / 0.08) ** 2))
    assert dominant_frequency_hz(x, sampling_rate_hz=fs, fmin_hz=0.35, fmax_hz=2.5) == pytest.approx(f_hz, rel=0.03)


def _short_shoe(cadence_spm: float, length_s: float, before_first_ic_s: float, seed: int, mount=None):
    rec, truth = shoe_run(sampling_rate_hz=100.0, run_s=20.0, standing_s=5.0, cadence_spm=cadence_spm,
                          mount=mount, seed=seed)
    a = int(round((truth.steps["ic_s"].iloc[0] - before_first_ic_s) * 100.0))
    data = rec.data.iloc[a:a + int(round(length_s * 100.0))]
    return data, truth


@pytest.mark.parametrize("cadence_spm", [90.0, 110.0, 140.0, 170.0])
@pytest.mark.parametrize("length_s,before_first_ic_s", [(2.5, 0.5), (2.5, 0.0), (2.5, -0.3), (3.0, 0.0), (4.0, 0.0)])
def test_foot_pitch_sign_from_two_or_three_strides(cadence_spm, length_s, before_first_ic_s):
    """The simulator's sagittal rate is toe-down positive: +1 for it, −1 for its negative, whatever the cut."""
    data, _ = _short_shoe(cadence_spm, length_s, before_first_ic_s, seed=0)
    gyr = data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()
    norm = np.linalg.norm(gyr, axis=1)
    assert alignment.foot_pitch_sign(gyr[:, 1], norm, sampling_rate_hz=100.0) == 1.0
    assert alignment.foot_pitch_sign(-gyr[:, 1], norm, sampling_rate_hz=100.0) == -1.0


def test_foot_frame_of_a_short_recording_in_any_mount():
    mount = Rotation.from_euler("xyz", [170, 10, 60], degrees=True)
    data, _ = _short_shoe(90.0, 2.5, 0.5, seed=1, mount=mount)
    frame = alignment.foot_frame(data[["acc_x", "acc_y", "acc_z"]].to_numpy(), data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(),
                                 sampling_rate_hz=100.0)
    assert frame.axes[1] @ mount.inv().apply([0.0, 1.0, 0.0]) > 0.99


def test_a_recording_under_three_seconds_is_analysed():
    """2.9 s of a simulated shoe (three strides at 140 steps/min): its ICs are found, not dropped."""
    data, truth = _short_shoe(140.0, 2.9, 0.5, seed=2)
    rec = from_arrays(data[["acc_x", "acc_y", "acc_z"]].to_numpy(), gyr_rad_s=data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(),
                      sampling_rate_hz=100.0, sample_index=data.index.to_numpy() - data.index[0], placement="foot-left")
    t0 = data.index[0] / 100.0
    ref = truth.steps["ic_s"].to_numpy() - t0
    ref = ref[(ref > 1.0) & (ref < 2.8)]  # the first IC (0.5 s) follows standing, no swing: not a stride
    ic = analyse(rec).steps["ic_s"].to_numpy(float)
    assert len(ref) == 2 and len(ic) == 2
    np.testing.assert_allclose(ic, ref, atol=0.02)


# ---------------------------------------------------------------------------
# write_bids


def _rec(first_index: int = 0):
    rng = np.random.default_rng(0)
    n = 400
    acc = rng.normal(0, 1, (n, 3)) + [0, 0, GRAVITY_M_S2]
    gyr = rng.normal(0, 0.5, (n, 3))
    idx = first_index + np.concatenate([np.arange(150), np.arange(150, n) + 5])  # 5 lost samples
    return from_arrays(acc, gyr_rad_s=gyr, sampling_rate_hz=100.0, sample_index=idx, placement="lower-back",
                       start_utc=datetime(2026, 3, 1, 7, 30, tzinfo=timezone.utc))


def test_write_bids_in_g_and_deg_per_s(tmp_path):
    rec = _rec()
    tsv = write_bids(rec, tmp_path / "sub-01" / "motion", subject="01", task="walk", units={"acc": "g", "gyr": "deg/s"})
    channels = pd.read_csv(tsv.parent / "sub-01_task-walk_tracksys-imu_channels.tsv", sep="\t")
    assert list(channels["units"]) == ["g"] * 3 + ["deg/s"] * 3
    raw = pd.read_csv(tsv, sep="\t", header=None, na_values="n/a").dropna().to_numpy()
    np.testing.assert_allclose(raw[:, :3], rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy() / GRAVITY_M_S2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(raw[:, 3:], np.degrees(rec.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()), rtol=1e-5, atol=1e-4)
    back = read_bids(tsv, nan_as_gap=True)
    np.testing.assert_allclose(back.data.to_numpy(), rec.data.to_numpy(), rtol=1e-5, atol=1e-5)
    assert back.lost_samples == 5
    with pytest.raises(ValueError, match="unknown channel kind"):
        write_bids(rec, tmp_path / "x", subject="01", task="walk", units={"accel": "g"})
    with pytest.raises(ValueError, match="furlong"):
        write_bids(rec, tmp_path / "y", subject="01", task="walk", units={"acc": "furlong/s^2"})


def test_write_bids_keeps_absolute_time_when_the_first_sample_was_lost(tmp_path):
    """BIDS has no sample counter: the first row is time 0, so acq_time must be the first row's time."""
    rec = _rec(first_index=3)
    tsv = write_bids(rec, tmp_path / "sub-01" / "motion", subject="01", task="walk")
    scans = pd.read_csv(tmp_path / "sub-01" / "motion" / "sub-01_scans.tsv", sep="\t")
    assert pd.Timestamp(scans["acq_time"].iloc[0]) == pd.Timestamp("2026-03-01T07:30:00.030")
    back = read_bids(tsv, nan_as_gap=True)
    assert back.start_utc == rec.start_utc + timedelta(seconds=0.03)


# ---------------------------------------------------------------------------
# BIDS-Motion → backstride analyse → JSON, against analyse() in-process


def _ics(doc: dict) -> np.ndarray:
    return np.array([np.nan if s["ic_s"] is None else s["ic_s"] for s in doc["steps"]], float)


def test_bids_through_the_command_gives_the_in_process_ics_sample(tmp_path):
    """The committed real shoe sample (gaitmap), as BIDS in g and deg/s, through the installed command."""
    rec = read_parquet(SAMPLES / "gaitmap_left_shoe_walk.parquet")
    expected = analyse(rec).steps["ic_s"].to_numpy(float)
    tsv = write_bids(rec, tmp_path / "sub-01" / "motion", subject="01", task="walk", units={"acc": "g", "gyr": "deg/s"})
    out = tmp_path / "a.json"
    exe = Path(sys.executable).with_name("backstride")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "sensing.cli"]
    proc = subprocess.run([*cmd, "analyse", str(tsv), "--placement", "foot-left", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    got = _ics(json.loads(out.read_text()))
    assert len(got) == len(expected) > 20
    np.testing.assert_allclose(got, expected, atol=1e-3)  # 6 significant digits in the file


def test_bids_through_the_command_gives_the_in_process_ics_shared_trial(tmp_path):
    """ipol_gait 1-1, lower back, with its lost packets written as n/a rows."""
    need_dataset("ipol_gait")
    from bench import datasets as ds
    from sensing.cli import main

    trial = next(t for t in ds.ipol_trials("lower-back") if t.name == "ipol_gait 1-1 lower-back")
    rec = trial.recording
    assert rec.lost_samples > 0 and rec.data.index[0] == 0
    expected = analyse(rec).steps["ic_s"].to_numpy(float)
    tsv = write_bids(rec, tmp_path / "sub-01" / "motion", subject="01", task="walk")
    out = tmp_path / "a.json"
    assert main(["analyse", str(tsv), "--placement", "lower-back", "--json", str(out), "--quiet", "--nan-as-gap"]) == 0
    got = _ics(json.loads(out.read_text()))
    assert len(got) == len(expected) > 20
    np.testing.assert_allclose(got, expected, atol=1e-3)
