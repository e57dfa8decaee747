"""BIDS-Motion as the specification and real data sets write it (BIDS 1.9-1.11, "Motion").

Every file here is built in the spec's own shape: ``*_motion.tsv`` without a header,
``*_channels.tsv`` with name/component/type/tracked_point/units (and the optional
sampling_frequency, placement, status columns), ``*_motion.json`` with SamplingFrequency,
``*_scans.tsv`` with acq_time.  Channel tables copy the layout of the bids-examples data sets
(motion_systemvalidation: Noraxon IMUs, 16 tracked points, MAGN in T, sampling_frequency
199.905882352941; motion_spotrotation / motion_dualtask: ORNT quaternions, POS, MISC and a
LATENCY channel).  Values are closed-form (gravity, a known rotation rate), so each test checks
the reader against an independent truth.
"""

from __future__ import annotations

import json
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.constants import GRAVITY_M_S2
from sensing.bids import BidsWarning, placement_from_name, read_bids
from sensing.formats import open_recording, unit_factor
from sensing.recording import RecordingError

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"
STEM = "sub-01_task-walk_tracksys-imu"


def _channels(rows: list[dict], columns=("name", "component", "type", "tracked_point", "units")) -> str:
    cols = list(columns)
    for r in rows:
        cols += [k for k in r if k not in cols]
    lines = ["\t".join(cols)] + ["\t".join(str(r.get(c, "n/a")) for c in cols) for r in rows]
    return "\n".join(lines) + "\n"


def _imu_rows(point="LowerBack", acc_unit="m/s^2", gyr_unit="rad/s", mag_unit=None, **extra) -> list[dict]:
    rows = [{"name": f"{point}_ACC_{a}", "component": a, "type": "ACCEL", "tracked_point": point, "units": acc_unit, **extra} for a in "xyz"]
    rows += [{"name": f"{point}_GYRO_{a}", "component": a, "type": "GYRO", "tracked_point": point, "units": gyr_unit, **extra} for a in "xyz"]
    if mag_unit:
        rows += [{"name": f"{point}_MAGN_{a}", "component": a, "type": "MAGN", "tracked_point": point, "units": mag_unit, **extra} for a in "xyz"]
    return rows


def _write(d: Path, rows: list[dict], data: np.ndarray, side: dict | None = None, stem: str = STEM,
           channels_text: str | None = None) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{stem}_channels.tsv").write_text(channels_text if channels_text is not None else _channels(rows))
    (d / f"{stem}_motion.json").write_text(json.dumps(side if side is not None else {"TaskName": "walk", "SamplingFrequency": 100}))
    p = d / f"{stem}_motion.tsv"
    p.write_text("".join("\t".join("n/a" if not np.isfinite(v) else repr(float(v)) for v in row) + "\n" for row in data))
    return p


def _still(n=200, acc=(0.0, 0.0, GRAVITY_M_S2), gyr=(0.0, 0.0, 1.0), mag=None) -> np.ndarray:
    """n samples of a sensor lying still (gravity on +z) turning at 1 rad/s about z: SI values."""
    row = list(acc) + list(gyr) + (list(mag) if mag is not None else [])
    return np.tile(row, (n, 1)).astype(float)


# ---------------------------------------------------------------------------------------------
# Units


@pytest.mark.parametrize("unit, per_si", [
    ("m/s^2", 1.0), ("m/s2", 1.0), ("m s-2", 1.0), ("m·s⁻²", 1.0), ("m/s²", 1.0), ("m.s^-2", 1.0), ("M/S^2", 1.0),
    ("g", 1 / GRAVITY_M_S2), ("mg", 1000 / GRAVITY_M_S2),
])
def test_acc_units(tmp_path, unit, per_si):
    data = _still()
    data[:, :3] *= per_si
    rec = read_bids(_write(tmp_path, _imu_rows(acc_unit=unit), data))
    assert rec.data["acc_z"].iloc[0] == pytest.approx(GRAVITY_M_S2, rel=1e-9)


@pytest.mark.parametrize("unit, per_si", [
    ("rad/s", 1.0), ("rad s-1", 1.0), ("rad*s^-1", 1.0), ("deg/s", 180 / np.pi), ("°/s", 180 / np.pi), ("º/s", 180 / np.pi),
    ("dps", 180 / np.pi), ("deg s-1", 180 / np.pi), ("degrees/second", 180 / np.pi), ("°·s⁻¹", 180 / np.pi),
])
def test_gyro_units(tmp_path, unit, per_si):
    data = _still()
    data[:, 3:6] *= per_si
    rec = read_bids(_write(tmp_path, _imu_rows(gyr_unit=unit), data))
    assert rec.data["gyr_z"].iloc[0] == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("unit, per_ut", [
    ("uT", 1.0), ("µT", 1.0), ("μT", 1.0), ("microtesla", 1.0), ("nT", 1000.0), ("mT", 1e-3), ("T", 1e-6),  # T: bids-examples Noraxon
    ("gauss", 0.01), ("G", 0.01), ("mG", 10.0),
])
def test_magn_units(tmp_path, unit, per_ut):
    data = _still(mag=(20.0 * per_ut, 0.0, -40.0 * per_ut))
    rec = read_bids(_write(tmp_path, _imu_rows(mag_unit=unit), data))
    assert rec.has_mag
    assert rec.data["mag_x"].iloc[0] == pytest.approx(20.0, rel=1e-9)
    assert rec.data["mag_z"].iloc[0] == pytest.approx(-40.0, rel=1e-9)


def test_unknown_unit_names_file_channel_and_unit(tmp_path):
    p = _write(tmp_path, _imu_rows(gyr_unit="rpm"), _still())
    with pytest.raises(RecordingError) as info:
        read_bids(p)
    msg = str(info.value)
    assert f"{STEM}_channels.tsv" in msg and "LowerBack_GYRO_x" in msg and "unknown unit 'rpm' for gyr" in msg
    assert "row 5" in msg  # the channel's line in channels.tsv
    with pytest.raises(RecordingError, match="unknown unit 'n/a' for acc"):
        read_bids(_write(tmp_path, _imu_rows(acc_unit="n/a"), _still()))


def test_unknown_magnetometer_unit_drops_only_the_magnetometer(tmp_path):
    """The analysis never uses the magnetometer: an unknown unit there loses nothing, so it warns."""
    p = _write(tmp_path, _imu_rows(mag_unit="a.u."), _still(mag=(1, 2, 3)))
    with pytest.warns(BidsWarning, match="unknown unit 'a.u.' for mag"):
        rec = read_bids(p)
    assert not rec.has_mag and rec.has_gyr
    assert any("magnetometer not used" in w for w in rec.extra["warnings"])


def test_unit_factor_direct():
    assert unit_factor("acc", " m s^-2 ") == 1.0
    assert unit_factor("gyr", "DEG/S") == pytest.approx(np.pi / 180)
    with pytest.raises(RecordingError, match="expected one of m/s"):
        unit_factor("acc", "furlong/fortnight", source="x.tsv", where="units of a")


# ---------------------------------------------------------------------------------------------
# Sampling rate and LATENCY


@pytest.mark.parametrize("fs", ["100", " 100.0 ", "100 Hz", 100, 100.0])
def test_sampling_frequency_as_number_or_numeric_string(tmp_path, fs):
    rec = read_bids(_write(tmp_path, _imu_rows(), _still(), side={"TaskName": "walk", "SamplingFrequency": fs}))
    assert rec.sampling_rate_hz == 100.0


@pytest.mark.parametrize("fs, match", [("fast", "not a number: 'fast'"), ("n/a", "no LATENCY channel"), (-5, "impossible sampling rate")])
def test_sampling_frequency_bad(tmp_path, fs, match):
    p = _write(tmp_path, _imu_rows(), _still(), side={"TaskName": "walk", "SamplingFrequency": fs})
    with pytest.raises(RecordingError, match=match) as info:
        read_bids(p)
    assert f"{STEM}_motion.json" in str(info.value)


def _latency_file(d, t, fs="n/a", data=None, units="s", **kw):
    rows = _imu_rows() + [{"name": "imu_latency", "component": "n/a", "type": "LATENCY", "tracked_point": "n/a", "units": units}]
    data = _still(len(t)) if data is None else data
    return _write(d, rows, np.column_stack([data, t]), side={"TaskName": "walk", "SamplingFrequency": fs, **kw})


def test_latency_gives_the_rate_when_sampling_frequency_is_na(tmp_path):
    """Timestamped data with jitter (±2 ms at 60 Hz) and 5 lost samples: rate and gap from the latencies."""
    rng = np.random.default_rng(1)
    k = np.concatenate([np.arange(300), np.arange(305, 600)])  # samples 300-304 lost
    t = 0.25 + k / 60.0 + rng.uniform(-0.002, 0.002, len(k))
    p = _latency_file(tmp_path, t)
    (tmp_path / "sub-01_scans.tsv").write_text(f"filename\tacq_time\nmotion/{p.name}\t2024-05-06T10:00:00.000Z\n")
    rec = read_bids(p)
    assert rec.sampling_rate_hz == pytest.approx(60.0, rel=1e-4)
    assert rec.lost_samples == 5
    assert rec.gaps["start_s"].iloc[0] == pytest.approx(300 / 60.0, abs=1 / 60)
    # LATENCY counts from the recording onset (acq_time): the first sample is 0.25 s after it
    assert rec.start_utc == datetime(2024, 5, 6, 10, 0, 0, 250000, tzinfo=timezone.utc) + timedelta(seconds=t[0] - 0.25)


def test_latency_on_the_nominal_grid_keeps_the_nominal_rate(tmp_path):
    k = np.concatenate([np.arange(100), np.arange(103, 200)])
    rec = read_bids(_latency_file(tmp_path, k / 100.0, fs=100))
    assert rec.sampling_rate_hz == 100.0 and rec.lost_samples == 3


def test_latency_off_the_nominal_rate_within_5_percent_uses_latencies_and_says_so(tmp_path):
    """HTC Vive in motion_spotrotation: SamplingFrequency 90, effective 89.30 Hz."""
    t = np.arange(900) / 89.30152619
    with pytest.warns(BidsWarning, match="latencies give 89.30"):
        rec = read_bids(_latency_file(tmp_path, t, fs=90))
    assert rec.sampling_rate_hz == pytest.approx(89.30152619, rel=1e-6)
    assert rec.lost_samples == 0


def test_latency_in_milliseconds(tmp_path):
    rec = read_bids(_latency_file(tmp_path, np.arange(200) * 10.0, units="ms"))
    assert rec.sampling_rate_hz == pytest.approx(100.0)


@pytest.mark.parametrize("make_t, fs, match", [
    (lambda: np.cumsum(np.random.default_rng(2).uniform(0.005, 0.015, 300)), "n/a", "off a regular"),  # irregular
    (lambda: np.r_[np.arange(100) / 100, np.arange(99, 200) / 100], "n/a", "strictly increasing"),  # repeated time
    (lambda: np.arange(300) / 50.0, 100, "LATENCY channel gives 50 Hz"),  # contradicts the sidecar
])
def test_latency_bad(tmp_path, make_t, fs, match):
    with pytest.raises(RecordingError, match=match) as info:
        read_bids(_latency_file(tmp_path, make_t(), fs=fs))
    assert STEM in str(info.value)


def test_latency_missing_for_a_sample_names_the_row(tmp_path):
    t = np.arange(100) / 100.0
    t[41] = np.nan
    with pytest.raises(RecordingError, match="row 42, column imu_latency: missing latency"):
        read_bids(_latency_file(tmp_path, t))


def test_channel_sampling_frequency(tmp_path):
    """systemvalidation writes the rate per channel (199.905882352941) and in the sidecar (199.9058823529412)."""
    rows = _imu_rows(sampling_frequency="199.905882352941")
    rows.append({"name": "trigger", "component": "n/a", "type": "MISC", "tracked_point": "n/a", "units": "n/a", "sampling_frequency": 50})
    data = np.column_stack([_still(), np.zeros(200)])
    rec = read_bids(_write(tmp_path, rows, data, side={"TaskName": "walk", "SamplingFrequency": 199.9058823529412}))
    assert rec.sampling_rate_hz == pytest.approx(199.9058823529412)  # a MISC channel at its own rate is not ours to judge
    rows[4]["sampling_frequency"] = 100  # LowerBack_GYRO_y
    p = _write(tmp_path, rows, data, side={"TaskName": "walk", "SamplingFrequency": 199.9058823529412})
    with pytest.raises(RecordingError, match=r"row 6, channel LowerBack_GYRO_y \(sampling_frequency\): 100 Hz disagrees with SamplingFrequency 199.906"):
        read_bids(p)


def test_channel_sampling_frequency_stands_in_for_na_sidecar(tmp_path):
    rec = read_bids(_write(tmp_path, _imu_rows(sampling_frequency=128), _still(), side={"TaskName": "walk", "SamplingFrequency": "n/a"}))
    assert rec.sampling_rate_hz == 128.0


# ---------------------------------------------------------------------------------------------
# Channel types


def test_only_accel_gyro_magn_are_read(tmp_path):
    """An IMU table beside the other motion types (spotrotation/dualtask shapes): they are ignored."""
    others = [
        {"name": "head_quat_w", "component": "quat_w", "type": "ORNT", "tracked_point": "head", "units": "n/a"},
        {"name": "head_eul_x", "component": "x", "type": "ORNT", "tracked_point": "head", "units": "rad"},
        {"name": "head_cart_x", "component": "x", "type": "POS", "tracked_point": "head", "units": "m"},
        {"name": "head_vel_x", "component": "x", "type": "VEL", "tracked_point": "head", "units": "m/s"},
        {"name": "knee", "component": "n/a", "type": "JNTANG", "tracked_point": "LeftKnee", "units": "deg"},
        {"name": "head_angacc_x", "component": "x", "type": "ANGACCEL", "tracked_point": "head", "units": "rad/s^2"},
        {"name": "conf", "component": "n/a", "type": "MISC", "tracked_point": "head", "units": "n/a"},
    ]
    rows = others[:3] + _imu_rows(mag_unit="T") + others[3:]
    imu = _still(mag=(20e-6, 0, -40e-6))
    data = np.column_stack([np.full((200, 3), 7.0), imu, np.full((200, 4), 7.0)])
    rec = read_bids(_write(tmp_path, rows, data))
    assert list(rec.data.columns) == ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z", "mag_x", "mag_y", "mag_z"]
    assert rec.data["acc_z"].iloc[0] == pytest.approx(GRAVITY_M_S2)
    assert rec.data["mag_z"].iloc[0] == pytest.approx(-40.0)
    assert rec.placement == "lower-back" and rec.extra["tracked_point"] == "LowerBack"


def test_angvel_of_an_inertial_sensor_is_its_gyroscope(tmp_path):
    """ANGVEL (pre-release BEP029 type, removed by bids-specification #1478) from an IMU: read as GYRO, said so."""
    rows = [r if r["type"] != "GYRO" else {**r, "type": "ANGVEL", "units": "deg/s"} for r in _imu_rows()]
    data = _still(gyr=(0, 0, 180 / np.pi))
    with pytest.warns(BidsWarning, match="ANGVEL"):
        rec = read_bids(_write(tmp_path, rows, data))
    assert rec.has_gyr and rec.data["gyr_z"].iloc[0] == pytest.approx(1.0)


def test_angvel_is_not_used_beside_gyro_nor_without_accel(tmp_path):
    rows = _imu_rows() + [{"name": f"LowerBack_ANGVEL_{a}", "component": a, "type": "ANGVEL", "tracked_point": "LowerBack", "units": "rad/s"}
                          for a in "xyz"]
    rows += [{"name": f"HMD_ANGVEL_{a}", "component": a, "type": "ANGVEL", "tracked_point": "HMD", "units": "rad/s"} for a in "xyz"]
    data = np.column_stack([_still(), np.full((200, 6), 5.0)])
    with pytest.warns(BidsWarning, match="ANGVEL channels ignored: GYRO channels are there"):
        rec = read_bids(_write(tmp_path, rows, data))
    assert rec.data["gyr_z"].iloc[0] == pytest.approx(1.0)  # from GYRO, not the 5.0 of ANGVEL
    assert rec.extra["tracked_point"] == "LowerBack"  # HMD has no ACCEL: not a candidate point


def test_lower_case_type_is_read_with_a_warning(tmp_path):
    rows = [{**r, "type": r["type"].lower()} for r in _imu_rows()]
    with pytest.warns(BidsWarning, match="not upper-case"):
        rec = read_bids(_write(tmp_path, rows, _still()))
    assert rec.has_gyr


def test_no_accel_is_a_clear_error(tmp_path):
    rows = [{"name": f"m_{a}", "component": a, "type": "POS", "tracked_point": "lHeel", "units": "m"} for a in "xyz"]
    with pytest.raises(RecordingError, match=r"no ACCEL channels \(types here: POS\)"):
        read_bids(_write(tmp_path, rows, np.zeros((10, 3))))


# ---------------------------------------------------------------------------------------------
# component absent or n/a


@pytest.mark.parametrize("acc, gyr, case", [
    ("acc_{}", "gyr_{}", str.lower), ("ACC_{}", "GYR_{}", str.upper), ("LowerBack_ACC_{}", "LowerBack_GYRO_{}", str.upper),
    ("accX", "gyroX", str.upper), ("Acc.{}", "Gyr.{}", str.lower), ("{}_acc", "{}_gyr", str.lower), ("acc_{}_raw", "gyr_{}_raw", str.lower),
])
@pytest.mark.parametrize("component_column", [True, False])
def test_axis_from_channel_name(tmp_path, acc, gyr, case, component_column):
    """Columns in the order z, x, y: only a correct reading of the names puts gravity on acc_z."""
    rows = []
    for kind, pattern in (("ACCEL", acc), ("GYRO", gyr)):
        for a in "zxy":
            name = pattern[:-1] + a.upper() if pattern.endswith("X") else pattern.format(case(a))
            rows.append({"name": name, "type": kind, "tracked_point": "pelvis",
                         "units": "m/s^2" if kind == "ACCEL" else "rad/s", **({"component": "n/a"} if component_column else {})})
    cols = ("name", "component", "type", "tracked_point", "units") if component_column else ("name", "type", "tracked_point", "units")
    data = np.tile([GRAVITY_M_S2, 0.0, 0.0, 1.0, 0.0, 0.0], (50, 1))  # z first
    with pytest.warns(BidsWarning, match="axis is taken from the name"):
        rec = read_bids(_write(tmp_path, rows, data, channels_text=_channels(rows, cols)))
    assert rec.data["acc_z"].iloc[0] == pytest.approx(GRAVITY_M_S2)
    assert rec.data["acc_x"].iloc[0] == 0.0
    assert rec.data["gyr_z"].iloc[0] == 1.0
    assert rec.placement == "lower-back"


def test_no_axis_anywhere_is_a_clear_error(tmp_path):
    rows = [{"name": n, "component": "n/a", "type": "ACCEL", "tracked_point": "pelvis", "units": "g"} for n in ("a1", "a2", "a3")]
    with pytest.raises(RecordingError, match="row 2, channel a1: component 'n/a' and no x/y/z in the name"):
        read_bids(_write(tmp_path, rows, np.zeros((10, 3))))


def test_two_channels_for_one_axis_is_a_clear_error(tmp_path):
    rows = _imu_rows()
    rows[1] = {**rows[1], "component": "x"}
    with pytest.raises(RecordingError, match="all claim acc axis x"):
        read_bids(_write(tmp_path, rows, _still()))


# ---------------------------------------------------------------------------------------------
# Header row in motion.tsv (the spec says: none)


def test_header_row_repeating_channel_names_is_skipped_with_a_warning(tmp_path):
    rows = _imu_rows()
    data = _still(5)
    data[:, 0] = np.arange(5)  # acc_x numbers the rows: the first data row must not be lost
    p = _write(tmp_path, rows, data)
    p.write_text("\t".join(r["name"] for r in rows) + "\n" + p.read_text())
    with pytest.warns(BidsWarning, match="header row"):
        rec = read_bids(p)
    assert list(rec.data["acc_x"]) == [0, 1, 2, 3, 4]
    assert any("header row" in w for w in rec.extra["warnings"])


def test_header_row_in_another_order_is_an_error(tmp_path):
    rows = _imu_rows()
    p = _write(tmp_path, rows, _still(5))
    names = [r["name"] for r in rows]
    p.write_text("\t".join(names[1:] + names[:1]) + "\n" + p.read_text())
    with pytest.raises(RecordingError, match="row 1: a header row naming the channels in another order"):
        read_bids(p)


def test_header_row_with_other_names_is_skipped_and_said(tmp_path):
    p = _write(tmp_path, _imu_rows(), _still(5))
    p.write_text("ax\tay\taz\tgx\tgy\tgz\n" + p.read_text())
    with pytest.warns(BidsWarning, match="names differ"):
        rec = read_bids(p)
    assert len(rec.data) == 5


def test_non_numeric_cell_is_located(tmp_path):
    p = _write(tmp_path, _imu_rows(), _still(20))
    lines = p.read_text().splitlines()
    lines[12] = lines[12].rsplit("\t", 1)[0] + "\tx1.0"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordingError, match=r"row 13, column 6 \(LowerBack_GYRO_z\): not numeric 'x1.0'"):
        read_bids(p)


# ---------------------------------------------------------------------------------------------
# Inheritance, status, several tracking systems, several tracked points


def test_inheritance_from_session_subject_and_root(tmp_path):
    """channels.tsv in the session folder without tracksys/run; motion.json split over subject and root."""
    root = tmp_path / "ds"
    (root).mkdir()
    (root / "dataset_description.json").write_text('{"Name": "x", "BIDSVersion": "1.10.0"}')
    (root / "task-walk_motion.json").write_text(json.dumps({"TaskName": "walk", "SamplingFrequency": 50, "Manufacturer": "Xsens"}))
    sub = root / "sub-01"
    ses = sub / "ses-1"
    mot = ses / "motion"
    mot.mkdir(parents=True)
    (sub / "sub-01_task-walk_motion.json").write_text(json.dumps({"SamplingFrequency": 100}))  # more specific: wins
    (ses / "sub-01_ses-1_task-walk_channels.tsv").write_text(_channels(_imu_rows(acc_unit="g")))
    (ses / "sub-01_ses-1_task-run_channels.tsv").write_text(_channels(_imu_rows(acc_unit="mg")))  # another task: not ours
    data = _still()
    data[:, :3] /= GRAVITY_M_S2
    p = mot / "sub-01_ses-1_task-walk_tracksys-imu_run-1_motion.tsv"
    p.write_text("".join("\t".join(repr(float(v)) for v in row) + "\n" for row in data))
    (ses / "sub-01_ses-1_scans.tsv").write_text(f"filename\tacq_time\nmotion/{p.name}\t2023-05-05T17:39:47.307Z\n")
    rec = read_bids(p)
    assert rec.sampling_rate_hz == 100.0
    assert rec.data["acc_z"].iloc[0] == pytest.approx(GRAVITY_M_S2)  # g, from the walk table
    assert rec.sensor.make == "Xsens"
    assert rec.start_utc == datetime(2023, 5, 5, 17, 39, 47, 307000, tzinfo=timezone.utc)
    assert open_recording(mot).data.shape == rec.data.shape  # the folder, too
    # two equally specific tables in one folder: the spec forbids it, we say so
    (ses / "sub-01_task-walk_channels.tsv").write_text(_channels(_imu_rows()))
    (ses / "sub-01_ses-1_tracksys-imu_channels.tsv").write_text(_channels(_imu_rows()))
    with pytest.raises(RecordingError, match="both apply"):
        read_bids(p)


def test_missing_channels_anywhere_is_a_clear_error(tmp_path):
    p = _write(tmp_path, _imu_rows(), _still())
    (tmp_path / f"{STEM}_channels.tsv").unlink()
    with pytest.raises(RecordingError, match="missing BIDS channels table"):
        read_bids(p)


def test_bad_channels_are_not_used(tmp_path):
    rows = _imu_rows(status="good", status_description="n/a")
    rows[4] = {**rows[4], "status": "bad", "status_description": "cable fault"}  # GYRO y
    with pytest.warns(BidsWarning, match=r"LowerBack_GYRO_y: status bad: not used \(cable fault\)"):
        rec = read_bids(_write(tmp_path, rows, _still()))
    assert rec.has_gyr is False and "acc_z" in rec.data
    rows[0] = {**rows[0], "status": "bad"}
    with pytest.raises(RecordingError, match="no usable ACCEL channel for axis x"):
        read_bids(_write(tmp_path, rows, _still()))


def _two_systems(d: Path):
    imu = _write(d, _imu_rows(), _still(), stem="sub-01_task-walk_tracksys-imu")
    pos = [{"name": f"lHeel_POS_{a}", "component": a, "type": "POS", "tracked_point": "lHeel", "units": "m"} for a in "xyz"]
    _write(d, pos, np.zeros((200, 3)), stem="sub-01_task-walk_tracksys-omc")
    return imu


def test_several_tracking_systems_in_one_folder(tmp_path):
    imu = _two_systems(tmp_path)
    rec = open_recording(tmp_path)  # only one of them has accelerometers
    assert rec.source == str(imu)
    _write(tmp_path, _imu_rows("LeftFoot"), _still(), stem="sub-01_task-walk_tracksys-imuFoot")
    with pytest.raises(RecordingError, match="2 \\*_motion.tsv files with accelerometer channels"):
        open_recording(tmp_path)
    assert open_recording(tmp_path, placement="foot-left").source.endswith("tracksys-imuFoot_motion.tsv")
    assert open_recording(tmp_path, placement="lower-back").source == str(imu)


def test_systemvalidation_shaped_table_chooses_the_point(tmp_path):
    """The 16 Noraxon points of motion_systemvalidation (feet and ankles both), ACCEL/GYRO/MAGN each."""
    points = ["head", "sternum", "leftUpperArm", "leftForeArm", "rightUpperArm", "rightForeArm", "pelvis", "leftThigh",
              "leftShank", "leftFoot", "rightThigh", "rightShank", "rightFoot", "leftAnkle", "rightAnkle", "pocket"]
    rows = []
    for kind, unit in (("ACCEL", "m/s^2"), ("GYRO", "rad/s"), ("MAGN", "T")):
        rows += [{"name": f"{p}_{kind}_{a}", "component": a, "type": kind, "tracked_point": p, "units": unit,
                  "sampling_frequency": "199.905882352941"} for p in points for a in "xyz"]
    n = 50
    data = np.zeros((n, len(rows)))
    for j, r in enumerate(rows):  # a value that says whose channel it is
        data[:, j] = (points.index(r["tracked_point"]) + {"x": 0.1, "y": 0.2, "z": 0.3}[r["component"]]) * (1e-6 if r["type"] == "MAGN" else 1)
    p = _write(tmp_path, rows, data, side={"TaskName": "backwards", "SamplingFrequency": 199.9058823529412,
                                          "Manufacturer": "Noraxon Inc.", "ManufacturersModelName": "myoMOTION"})
    with pytest.raises(RecordingError, match="several tracked points"):
        read_bids(p)
    for placement, point in (("lower-back", "pelvis"), ("foot-left", "leftFoot"), ("foot-right", "rightFoot"),
                             ("thigh-left", "leftThigh"), ("thigh-right", "rightThigh"), ("chest", "sternum")):
        rec = read_bids(p, placement=placement)
        k = points.index(point)
        assert rec.extra["tracked_point"] == point and rec.placement == placement
        assert rec.data["acc_y"].iloc[0] == pytest.approx(k + 0.2)
        assert rec.data["mag_z"].iloc[0] == pytest.approx(k + 0.3)  # T → µT
        assert rec.sensor.make == "Noraxon Inc."


def test_ankle_stands_in_for_a_missing_foot_and_equal_names_are_an_error(tmp_path):
    rows = _imu_rows("RightAnkle") + _imu_rows("LowerBack")
    data = np.column_stack([_still(), _still() * 2])
    assert read_bids(_write(tmp_path, rows, data), placement="foot-right").extra["tracked_point"] == "RightAnkle"
    rows = _imu_rows("LeftFoot") + _imu_rows("left_shoe")
    with pytest.raises(RecordingError, match=r"2 tracked points for placement 'foot-left'.*\(LeftFoot, left_shoe\)"):
        read_bids(_write(tmp_path, rows, data), placement="foot-left")


def test_placement_column_names_the_point_when_tracked_point_does_not(tmp_path):
    rows = _imu_rows("t1", placement="left foot") + _imu_rows("t2", placement="lower back")
    data = np.column_stack([_still(), _still() * 2])
    rec = read_bids(_write(tmp_path, rows, data), placement="lower-back")
    assert rec.extra["tracked_point"] == "t2" and rec.data["gyr_z"].iloc[0] == 2.0


@pytest.mark.parametrize("name, placement", [
    ("LowerBack", "lower-back"), ("lower_back", "lower-back"), ("pelvis", "lower-back"), ("Pelvis", "lower-back"),
    ("L5", "lower-back"), ("l5", "lower-back"), ("sacrum", "lower-back"), ("lumbar", "lower-back"), ("waist", "lower-back"),
    ("LB", "lower-back"), ("lower-back", "lower-back"),
    ("LeftFoot", "foot-left"), ("left_foot", "foot-left"), ("LF", "foot-left"), ("lFoot", "foot-left"), ("l_foot", "foot-left"),
    ("foot_left", "foot-left"), ("LeftAnkle", "foot-left"), ("left shoe", "foot-left"),
    ("RightFoot", "foot-right"), ("right_foot", "foot-right"), ("RF", "foot-right"), ("RightAnkle", "foot-right"),
    ("rightFoot", "foot-right"),
    ("LeftThigh", "thigh-left"), ("LeftUpperLeg", "thigh-left"), ("right_thigh", "thigh-right"),
    ("sternum", "chest"), ("Chest", "chest"),
    ("head", None), ("leftShank", None), ("rightForeArm", None), ("Rigid1", None), ("lHeel", None), ("n/a", None),
])
def test_tracked_point_spellings(name, placement):
    assert placement_from_name(name) == placement


# ---------------------------------------------------------------------------------------------
# Windows line endings, trailing tabs, BOM, MissingValues


def test_crlf_trailing_tabs_and_bom_read_as_the_clean_file(tmp_path):
    clean = read_bids(_write(tmp_path / "clean", _imu_rows(), _still(50)))
    p = _write(tmp_path / "messy", _imu_rows(), _still(50))
    for f in (p, p.with_name(f"{STEM}_channels.tsv")):
        lines = f.read_text().splitlines()
        f.write_bytes(b"\xef\xbb\xbf" + "".join(ln + "\t\r\n" for ln in lines).encode())
    side = p.with_name(f"{STEM}_motion.json")
    side.write_bytes(b"\xef\xbb\xbf" + side.read_text().replace("\n", "\r\n").encode())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = read_bids(p)
    pd.testing.assert_frame_equal(rec.data, clean.data)
    text = " ".join(str(w.message) for w in caught)
    assert "byte-order mark" in text and "trailing tab" in text


def test_channels_tsv_in_windows_1252_with_degree_sign(tmp_path):
    p = _write(tmp_path, _imu_rows(gyr_unit="°/s"), _still(gyr=(0, 0, 180 / np.pi)))
    ch = p.with_name(f"{STEM}_channels.tsv")
    ch.write_bytes(ch.read_text().encode("cp1252"))
    with pytest.warns(BidsWarning, match="Windows-1252"):
        rec = read_bids(p)
    assert rec.data["gyr_z"].iloc[0] == pytest.approx(1.0)


def test_truncated_last_row_is_named(tmp_path):
    p = _write(tmp_path, _imu_rows(), _still(30))
    p.write_text(p.read_text() + "0.0\t0.0\t9.8\n")
    with pytest.raises(RecordingError, match="row 31: last row has 3 of 6 fields; the file looks truncated"):
        read_bids(p)


def test_missing_values_marker(tmp_path):
    """MissingValues "0": a row of zeros in every channel is a lost sample, one zero axis is data."""
    data = _still(100)
    data[40:45] = 0.0
    data[60, 0] = 0.0  # already 0; acc_x is 0 in every row of a still sensor
    p = _write(tmp_path, _imu_rows(), data, side={"TaskName": "walk", "SamplingFrequency": 100, "MissingValues": "0"})
    with pytest.raises(RecordingError, match=r"motion.tsv: line 41: n/a in every channel \(5 such rows\)"), \
            pytest.warns(BidsWarning):
        read_bids(p, nan_as_gap=False)
    with pytest.warns(BidsWarning, match="5 rows holding 0"):
        rec = read_bids(p)
    assert rec.lost_samples == 5 and len(rec.data) == 95
    assert rec.gaps["start_s"].tolist() == [0.40] and rec.gaps["lost_samples"].tolist() == [5]


def test_lost_samples_open_everywhere_a_recording_is_opened(tmp_path):
    """A BIDS file with n/a rows (what write_bids writes for a gap) opens through open_recording — what
    `backstride replay`, the dashboard upload and the journal import call — as a recording with that gap,
    not only through `backstride analyse`."""
    from sensing.bids import write_bids
    from sensing.formats import open_recording
    from sensing.recording import from_arrays

    n = 500
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))
    index = np.r_[np.arange(200), np.arange(230, 230 + n - 200)]
    rec = from_arrays(acc, sampling_rate_hz=100, sample_index=index, placement="lower-back")
    tsv = write_bids(rec, tmp_path / "sub-01" / "motion", subject="01", task="run")
    back = open_recording(tsv)
    assert back.lost_samples == 30 and back.gaps["start_s"].tolist() == [2.0]
    np.testing.assert_array_equal(back.data.index.to_numpy(), index)
    # analyse_path (what `backstride journal import` and the demos call) reads it the same way
    from analysis.pipeline import analyse_path

    assert analyse_path(tsv).recording["lost_samples"] == 30


# ---------------------------------------------------------------------------------------------
# The whole path: a messy but valid BIDS-Motion run through `backstride analyse`


def test_analyse_messy_bids_against_the_samples_truth(tmp_path):
    """The simulated lower-back run, written as a second engineer's converter might: in g and °/s, a foot
    sensor beside it, component n/a, CRLF, string SamplingFrequency, channels.tsv inherited from the
    session folder.  The steps found must match the sample's truth as the native file's do."""
    from sensing.cli import main

    src = open_recording(SAMPLES / "sim_lower_back_run.parquet")
    d = tmp_path / "sub-07" / "ses-1" / "motion"
    d.mkdir(parents=True)
    rows = []
    for point in ("LowerBack", "LeftFoot"):
        rows += [{"name": f"{point}_ACC_{a.upper()}", "component": "n/a", "type": "ACCEL", "tracked_point": point, "units": "g"} for a in "xyz"]
        rows += [{"name": f"{point}_GYRO_{a.upper()}", "component": "n/a", "type": "GYRO", "tracked_point": point, "units": "°/s"} for a in "xyz"]
    (tmp_path / "sub-07" / "ses-1" / "sub-07_ses-1_task-run_channels.tsv").write_text(_channels(rows).replace("\n", "\r\n"))
    (d / "sub-07_ses-1_task-run_tracksys-imu_motion.json").write_text(json.dumps({"TaskName": "run", "SamplingFrequency": "100"}))
    acc = src.data[["acc_x", "acc_y", "acc_z"]].to_numpy() / GRAVITY_M_S2
    gyr = np.degrees(src.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy())
    block = np.column_stack([acc, gyr, np.zeros_like(acc), np.zeros_like(gyr)])
    motion = d / "sub-07_ses-1_task-run_tracksys-imu_motion.tsv"
    pd.DataFrame(block).to_csv(motion, sep="\t", header=False, index=False, float_format="%.7g", lineterminator="\r\n")
    out = tmp_path / "a.json"
    assert main(["analyse", str(motion), "--placement", "lower-back", "--json", str(out), "--quiet"]) == 0
    doc = json.loads(out.read_text())
    truth = pd.read_csv(SAMPLES / "sim_lower_back_run.truth.csv")
    ic = np.asarray([s["ic_s"] for s in doc["steps"]])
    matched = [ic[np.argmin(np.abs(ic - r))] - r for r in truth["ic_s"] if np.min(np.abs(ic - r)) <= 0.05]
    assert len(matched) / len(truth) > 0.98
    assert np.median(np.abs(matched)) < 0.015
    # the user is told how the file was off the spec: the axes taken from the channel names
    assert any("component" in w and "LowerBack_ACC_X" in w for w in doc["warnings"]), doc["warnings"]


def test_file_names_without_entities_still_find_their_own_sidecars(tmp_path):
    p = _write(tmp_path, _imu_rows(), _still(), stem="lowerback_run")
    rec = read_bids(p)
    assert rec.sampling_rate_hz == 100.0 and rec.placement == "lower-back"


def test_rows_lost_at_the_start_and_end_are_said_and_times_count_from_the_first_row(tmp_path):
    """A table that begins with 120 rows and ends with 30 rows n/a in every channel (a logger started before the
    sensor sent): no gap between received samples counts them, so the reader says so, by file line; the first
    sample keeps its time from the file's first row (1.2 s at 100 Hz), as the reference events of the file do."""
    data = _still(600)
    data[:120] = np.nan
    data[-30:] = np.nan
    with pytest.warns(BidsWarning) as caught:
        rec = read_bids(_write(tmp_path, _imu_rows(), data))
    said = [str(w.message) for w in caught]
    assert any("lines 1-120: 120 rows n/a in every channel before the first sample (line 121)" in w for w in said)
    assert any("lines 571-600: 30 rows n/a in every channel after the last sample (line 570)" in w for w in said)
    assert rec.t_s[0] == pytest.approx(1.2) and rec.t_s[-1] == pytest.approx(5.69) and len(rec.data) == 450
    assert sum("n/a in every channel" in w for w in rec.extra["warnings"]) == 2


def test_a_row_missing_some_channels_is_named_by_its_line_and_an_empty_gyroscope_is_left_out(tmp_path):
    """A row with n/a in one channel (after 50 lost rows) is named by its file line and channel name (was its position
    among the rows read and our own channel name); a gyroscope n/a in every row is left out with a warning (was an
    error over every row), as a channel of status bad."""
    data = _still(300)
    data[:50] = np.nan
    data[200, 1] = np.nan
    with pytest.raises(RecordingError, match=r"motion.tsv: line 201, channel LowerBack_ACC_y: n/a in 1 of 6 channels"
                                             r" \(expected a number in every channel, or n/a in all of them"), \
            pytest.warns(BidsWarning):
        read_bids(_write(tmp_path / "one", _imu_rows(), data))
    data = _still(300)
    data[:, 3:6] = np.nan
    with pytest.warns(BidsWarning, match="LowerBack_GYRO_x, LowerBack_GYRO_y, LowerBack_GYRO_z n/a in every row: not used"):
        rec = read_bids(_write(tmp_path / "two", _imu_rows(), data))
    assert not rec.has_gyr and len(rec.data) == 300


def test_a_rate_out_of_range_names_the_sidecar_or_the_latency_unit(tmp_path):
    """SamplingFrequency 1e9 is named in the motion.json where it was written (it was the motion.tsv and our own
    field name); latencies in milliseconds declared as seconds name the LATENCY channel's row and unit."""
    with pytest.raises(RecordingError, match=r"motion.json: SamplingFrequency: 1e\+09 Hz \(as written: 1000000000"):
        read_bids(_write(tmp_path / "a", _imu_rows(), _still(), side={"TaskName": "walk", "SamplingFrequency": 1e9}))
    with pytest.raises(RecordingError, match=r"channels.tsv: row 8, channel imu_latency: its latencies give 0.1 Hz in "
                                             r"the unit declared \('s'\).*is the unit right \(s or ms\)"):
        read_bids(_latency_file(tmp_path / "b", np.arange(200) * 10.0, units="s"))


@pytest.mark.parametrize("sep, label", [(",", "commas"), (";", "semicolons"), (" ", "spaces")])
def test_a_table_not_separated_by_tabs_says_so(tmp_path, sep, label):
    """A motion.tsv written with commas, semicolons or spaces: "fields separated by commas, not tabs" (was "row 2:
    1 columns (expected 6)", its first row silently taken for a header)."""
    p = _write(tmp_path, _imu_rows(), _still(20))
    p.write_text(p.read_text().replace("\t", sep))
    with pytest.raises(RecordingError, match=f"motion.tsv: row 2: fields separated by {label}, not tabs"):
        read_bids(p)


@pytest.mark.parametrize("acc_true, acc_declared, gyr_true, gyr_declared", [
    ("g", "m/s^2", "deg/s", "rad/s"),
    ("m/s^2", "g", "rad/s", "deg/s"),
    ("mg", "g", "rad/s", "rad/s"),
    ("m/s^2", "m/s^2", "deg/s", "rad/s"),
])
def test_units_declared_wrong_are_read_as_the_values_evidently_are(tmp_path, acc_true, acc_declared, gyr_true,
                                                                   gyr_declared):
    """An export whose channels.tsv names the wrong unit (values in g under m/s², °/s under rad/s, ...): the values
    are read in the unit they evidently are in (gravity's magnitude, a body's turning) and the file and channel type
    are named with what was declared and what was read; the values equal the simulated run's own."""
    src = open_recording(SAMPLES / "sim_lower_back_run.parquet")
    acc = src.data[["acc_x", "acc_y", "acc_z"]].to_numpy() / unit_factor("acc", acc_true)
    gyr = src.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy() / unit_factor("gyr", gyr_true)
    p = _write(tmp_path, _imu_rows(acc_unit=acc_declared, gyr_unit=gyr_declared), np.column_stack([acc, gyr]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BidsWarning)
        rec = read_bids(p)
    for c in ("acc_x", "acc_z", "gyr_x", "gyr_z"):
        np.testing.assert_allclose(rec.data[c].to_numpy(), src.data[c].to_numpy(), rtol=1e-9, atol=1e-12)
    said = [w for w in rec.extra.get("warnings", []) if "channels.tsv" in w]
    for kind, true, declared in (("ACCEL", acc_true, acc_declared), ("GYRO", gyr_true, gyr_declared)):
        hits = [w for w in said if f"{kind} units" in w]
        if true == declared:
            assert not hits, said
        else:
            (w,) = hits
            assert f"declared {declared}" in w and f"read as {true.replace('^2', '²')}" in w, w


def test_a_free_acceleration_export_is_not_taken_for_a_wrong_unit(tmp_path):
    """Gravity filtered out of the values (a "free acceleration" export: 40 min of the simulated work day, 0.13 g
    median) also reads a low median magnitude, but its 2-s means average out: it is read as declared, and the
    warning says gravity is missing."""
    from scipy.signal import butter, sosfiltfilt

    src = open_recording(SAMPLES / "sim_workday.parquet")
    fs = src.sampling_rate_hz
    acc = src.data[["acc_x", "acc_y", "acc_z"]].to_numpy()[: int(2400 * fs)]
    free = acc - sosfiltfilt(butter(2, 0.3, fs=fs, output="sos"), acc, axis=0)
    p = _write(tmp_path, _imu_rows()[:3], free, side={"TaskName": "walk", "SamplingFrequency": fs})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BidsWarning)
        rec = read_bids(p)
    np.testing.assert_allclose(rec.data["acc_z"].to_numpy(), free[:, 2], rtol=1e-9, atol=1e-12)
    said = rec.extra.get("warnings", [])
    assert not any("ACCEL units" in w for w in said) and any("gravity removed" in w for w in said), said
