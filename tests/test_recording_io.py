"""Recordings: round trips through every format and bad input for every reader."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from analysis.constants import GRAVITY_M_S2
from sensing.bids import read_bids, write_bids
from sensing.formats import open_recording, read_csv, read_parquet, write_parquet
from sensing.recording import RecordingError, SensorInfo, from_arrays


def _rec(n=500, fs=100.0, gaps=True):
    rng = np.random.default_rng(0)
    acc = rng.normal(0, 1, (n, 3)) + [0, 0, GRAVITY_M_S2]
    gyr = rng.normal(0, 0.1, (n, 3))
    idx = np.arange(n)
    if gaps:
        idx = np.concatenate([idx[:200], idx[200:] + 7])  # 7 lost samples after sample 199
    return from_arrays(acc, gyr_rad_s=gyr, sampling_rate_hz=fs, sample_index=idx,
                       start_utc=datetime(2026, 3, 1, 7, 30, tzinfo=timezone.utc), placement="lower-back",
                       sensor=SensorInfo("WitMotion", "WT901BLE", "1.2", "abc"))


def test_gaps_are_reported_from_sample_indices():
    rec = _rec()
    g = rec.gaps
    assert len(g) == 1
    assert g["lost_samples"].iloc[0] == 7
    assert g["start_s"].iloc[0] == pytest.approx(2.00)
    assert g["end_s"].iloc[0] == pytest.approx(2.07)
    assert rec.lost_samples == 7
    segs = list(rec.segments())
    assert [len(s) for s in segs] == [200, 300]
    assert segs[1].start_s == pytest.approx(2.07)


def test_parquet_round_trip(tmp_path):
    rec = _rec()
    p = write_parquet(rec, tmp_path / "r.parquet")
    back = read_parquet(p)
    pd.testing.assert_frame_equal(back.data, rec.data)
    assert back.sampling_rate_hz == 100.0
    assert back.start_utc == rec.start_utc
    assert back.placement == "lower-back"
    assert back.sensor == rec.sensor
    assert back.lost_samples == 7


def test_bids_round_trip_keeps_units_and_gaps(tmp_path):
    rec = _rec()
    tsv = write_bids(rec, tmp_path / "sub-01" / "motion", subject="01", task="run")
    with pytest.raises(RecordingError, match=r"motion.tsv: line 201: n/a in every channel \(7 such rows\)"):
        read_bids(tsv, nan_as_gap=False)  # the gap is written as n/a rows: strict reading refuses them
    back = read_bids(tsv)  # by default n/a rows are what BIDS says they are, missing samples
    np.testing.assert_allclose(back.data.to_numpy(), rec.data.to_numpy(), rtol=1e-5, atol=1e-5)
    assert back.lost_samples == 7
    assert back.placement == "lower-back"


def test_bids_units_from_channels_tsv(tmp_path):
    """A BIDS file in g and deg/s comes in as m/s² and rad/s."""
    d = tmp_path
    (d / "sub-1_task-walk_tracksys-imu_motion.tsv").write_text("0\t0\t1\t90\t0\t0\n0\t0\t1\t90\t0\t0\n")
    pd.DataFrame({
        "name": ["ax", "ay", "az", "gx", "gy", "gz"], "component": list("xyzxyz"),
        "type": ["ACCEL"] * 3 + ["GYRO"] * 3, "tracked_point": ["LowerBack"] * 6,
        "units": ["g"] * 3 + ["deg/s"] * 3}).to_csv(d / "sub-1_task-walk_tracksys-imu_channels.tsv", sep="\t", index=False)
    (d / "sub-1_task-walk_tracksys-imu_motion.json").write_text(json.dumps({"SamplingFrequency": 100, "TaskName": "walk"}))
    rec = read_bids(d / "sub-1_task-walk_tracksys-imu_motion.tsv")
    assert rec.data["acc_z"].iloc[0] == pytest.approx(GRAVITY_M_S2)
    assert rec.data["gyr_x"].iloc[0] == pytest.approx(np.pi / 2)
    assert rec.placement == "lower-back"


def _bids_multi(d, units="m/s^2"):
    rows = []
    for point in ("LowerBack", "LeftFoot"):
        for c in "xyz":
            rows.append({"name": f"{point}_ACC_{c}", "component": c, "type": "ACCEL", "tracked_point": point, "units": units})
    pd.DataFrame(rows).to_csv(d / "sub-1_task-run_tracksys-imu_channels.tsv", sep="\t", index=False)
    (d / "sub-1_task-run_tracksys-imu_motion.json").write_text(json.dumps({"SamplingFrequency": 128, "TaskName": "run"}))
    data = np.tile([0, 0, 9.8, 1, 2, 3], (10, 1))
    pd.DataFrame(data).to_csv(d / "sub-1_task-run_tracksys-imu_motion.tsv", sep="\t", header=False, index=False)
    return d / "sub-1_task-run_tracksys-imu_motion.tsv"


def test_bids_multi_point_chooses_by_placement(tmp_path):
    p = _bids_multi(tmp_path)
    with pytest.raises(RecordingError, match="several tracked points"):
        read_bids(p)
    foot = open_recording(p, placement="foot-left")
    assert foot.data["acc_x"].iloc[0] == 1
    back = open_recording(p, placement="lower-back")
    assert back.data["acc_z"].iloc[0] == pytest.approx(9.8)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d, p: (d / "sub-1_task-run_tracksys-imu_channels.tsv").write_text(
            (d / "sub-1_task-run_tracksys-imu_channels.tsv").read_text().replace("m/s^2", "furlong/fortnight")),
         "unknown unit 'furlong/fortnight'"),
        (lambda d, p: (d / "sub-1_task-run_tracksys-imu_motion.json").write_text('{"SamplingFrequency": 0}'),
         "impossible sampling rate"),
        (lambda d, p: (d / "sub-1_task-run_tracksys-imu_motion.json").write_text('{"TaskName": "run"}'),
         "SamplingFrequency"),
        (lambda d, p: p.write_text(p.read_text() + "0\t0\t9.8\n"), "truncated"),
        (lambda d, p: p.write_text(p.read_text().replace("9.8", "n/a", 3)),
         r"motion.tsv: line 1, channel LowerBack_ACC_z: n/a in 1 of 3 channels \(3 such rows\)"),
        (lambda d, p: p.write_text(p.read_text().replace("\t3.0\n", "\tthree\n", 1)), "not numeric"),
        (lambda d, p: (d / "sub-1_task-run_tracksys-imu_motion.json").write_text('{"SamplingFrequency": '), "not valid JSON"),
        (lambda d, p: (d / "sub-1_task-run_tracksys-imu_channels.tsv").unlink(), "missing BIDS channels"),
    ],
)
def test_bids_bad_input_names_file_and_place(tmp_path, mutate, match):
    p = _bids_multi(tmp_path)
    mutate(tmp_path, p)
    with pytest.raises(RecordingError, match=match) as info:
        read_bids(p, placement="lower-back")
    assert "sub-1_task-run" in str(info.value)


def test_wrong_unit_is_caught_by_plausibility(tmp_path):
    """Acceleration in mg declared as m/s² is out of any body's range."""
    p = _bids_multi(tmp_path)
    p.write_text(p.read_text().replace("9.8", "9800"))
    with pytest.raises(RecordingError, match=r"row \d+, column \w+: 9800 m/s\^2 is beyond.*is the unit right"):
        read_bids(p, placement="lower-back")


def test_acceleration_in_m_s2_declared_as_g_is_refused_by_gravity(tmp_path):
    """9.8 m/s² declared as g reads 9.8 g at rest: inside the per-sample limit (50 g), but a body-worn sensor's
    median is about 1 g (gravity), so the file is refused, naming the units and what they look like."""
    p = _bids_multi(tmp_path, units="g")
    with pytest.raises(RecordingError, match=r"median magnitude of 96\.1 m/s² \(9\.8 g\).*look like m/s² declared as g"
                       ) as info:
        open_recording(p, placement="lower-back")
    assert "sub-1_task-run" in str(info.value) and "channels.tsv" in str(info.value)


def test_acceleration_without_gravity_is_refused_from_a_csv_and_noted_elsewhere(tmp_path):
    """g declared as m/s² (or a free-acceleration export) reads 0.1 g at rest.  From a CSV, whose units the caller
    has just typed, it is refused naming the column and what it looks like; a recording file already written
    (Parquet) is read with the same words in its warnings (the import then says why it found no steps)."""
    import dataclasses

    t = np.arange(300) / 100.0
    p = _csv(tmp_path, "ax,ay,az\n" + "".join(f"{0.05 * np.sin(7 * x):.4f},0,1\n" for x in t))
    with pytest.raises(RecordingError, match=r"unit of ax \(m/s\^2\).*0\.102 g.*gravity removed") as info:
        read_csv(p, {"acc_x": ("ax", "m/s^2"), "acc_y": ("ay", "m/s^2"), "acc_z": ("az", "m/s^2")},
                 sampling_rate_hz=100.0)
    assert "x.csv" in str(info.value)
    rec = read_csv(p, MAPPING, sampling_rate_hz=100.0)
    data = rec.data / GRAVITY_M_S2
    write_parquet(dataclasses.replace(rec, data=data), tmp_path / "x.parquet")
    back = read_parquet(tmp_path / "x.parquet")
    assert back.data["acc_z"].iloc[0] == pytest.approx(1.0)  # read as written
    (w,) = back.extra["warnings"]
    assert "0.102 g" in w and "gravity removed" in w


def _csv(tmp_path, text):
    p = tmp_path / "x.csv"
    p.write_text(text)
    return p


MAPPING = {"acc_x": ("ax", "g"), "acc_y": ("ay", "g"), "acc_z": ("az", "g")}


def test_csv_with_mapping_and_time_finds_lost_samples(tmp_path):
    p = _csv(tmp_path, "t,ax,ay,az\n0,0,0,1\n10,0,0,1\n20,0,0,1\n50,0,0,1\n60,0,0,1\n")
    rec = read_csv(p, MAPPING, time_column=("t", "ms"))
    assert rec.sampling_rate_hz == pytest.approx(100.0)
    assert list(rec.data.index) == [0, 1, 2, 5, 6]
    assert rec.lost_samples == 2
    assert rec.data["acc_z"].iloc[0] == pytest.approx(GRAVITY_M_S2)


@pytest.mark.parametrize("rate_hz", [416.0])
def test_csv_rate_from_whole_milliseconds_near_the_resolution(tmp_path, rate_hz):
    """At 416 Hz whole-ms times step 2/3 ms: regular (the rounding is the file's resolution), the rate the mean step,
    a lost row a gap.  (833 Hz in whole ms, rounding up to 0.42 samples, is still refused with a lost row.)"""
    rows = "".join(f"{round(k * 1000 / rate_hz)},0,0,1\n" for k in range(5000) if k != 2500)
    rec = read_csv(_csv(tmp_path, "t,ax,ay,az\n" + rows), MAPPING, time_column=("t", "ms"))
    assert rec.sampling_rate_hz == pytest.approx(rate_hz, rel=2e-3)
    assert rec.data.index[-1] == 4999 and 2500 not in rec.data.index


def test_csv_rate_from_whole_millisecond_unix_times(tmp_path):
    """104 Hz written in whole ms since 1970 (steps of 9 and 10 ms, 1.8e12 in the column): the rate is 104 Hz, not
    the 100 Hz of the most common step, and the first row's time gives no rounding of its own."""
    t0_ms = 1_779_000_000_000
    rows = "".join(f"{t0_ms + round(k * 1000 / 104)},0,0,1\n" for k in range(1040) if k != 500)  # one row lost
    rec = read_csv(_csv(tmp_path, "t,ax,ay,az\n" + rows), MAPPING, time_column=("t", "ms"))
    assert rec.sampling_rate_hz == pytest.approx(104.0, rel=1e-4)
    assert rec.lost_samples == 1 and rec.data.index[-1] == 1039


@pytest.mark.parametrize(
    "text, kwargs, match",
    [
        ("t,ax,ay,az\n0,0,0,1\n10,0,0,1\n5,0,0,1\n", {"time_column": ("t", "ms")}, "row 4, column t"),
        ("t,ax,ay,az\n0,0,0,1\n10,0,0,1\n20,0,x,1\n", {"time_column": ("t", "ms")}, "row 4, column ay"),
        ("t,ax,ay\n0,0,0\n", {"sampling_rate_hz": 100}, "no column"),
        ("t,ax,ay,az\n0,0,0,1\n", {}, "sampling rate"),
        ("t,ax,ay,az\n0,0,0,1\n1,0,0,1\n", {"sampling_rate_hz": 100000}, "impossible sampling rate"),
        ("", {"sampling_rate_hz": 100}, "empty"),
        ("t,ax,ay,az\n0,0,0,1\n10,0,0,1\n20,0,0\n", {"time_column": ("t", "ms")}, "row 4: last row is incomplete"),
        ("t,ax,ay,az\n0,0,0,1\n10,0,0,1\n20\n", {"time_column": ("t", "ms")}, "row 4: last row is incomplete"),
        ("t,ax,ay,az\n", {"time_column": ("t", "ms")}, "no samples after the header"),
        ("t,ax,ay,az\n0,0,0,1\n", {"time_column": ("t", "ms")}, "at least two rows"),
        ("t,ax,ay,az\n2026-11-20 07:00,0,0,1\n", {"time_column": ("t", "s")},
         "column t: dates and times without a UTC offset"),
        ("t,ax,ay,az\n01-Mar-2026 07:00:00,0,0,1\n", {"time_column": ("t", "s")},
         "row 2, column t: '01-Mar-2026 07:00:00' is not a number or an ISO 8601 date and time"),
        ("t,ax,ay,az\n0,0,0,1\n1x,0,0,1\n", {"time_column": ("t", "s")}, "row 3, column t: not a number: '1x'"),
        ("t,ax,ay,az\n0,0,0,1\n10,0,0,1\n14,0,0,1\n20,0,0,1\n", {"time_column": ("t", "ms"), "sampling_rate_hz": 100}, "off the 100 Hz"),
    ],
)
def test_csv_bad_input(tmp_path, text, kwargs, match):
    with pytest.raises(RecordingError, match=match) as info:
        read_csv(_csv(tmp_path, text), MAPPING, **kwargs)
    assert "x.csv" in str(info.value)


def test_truncated_parquet_is_a_clear_error(tmp_path):
    p = write_parquet(_rec(), tmp_path / "r.parquet")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordingError, match="r.parquet: file: not a readable Parquet"):
        open_recording(p)


def test_not_a_recording(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    with pytest.raises(RecordingError, match="not a recording backstride can read"):
        open_recording(p)


def test_placement_override_and_validation(tmp_path):
    p = write_parquet(_rec(), tmp_path / "r.parquet")
    rec = open_recording(p, placement="foot-left")
    assert rec.placement == "foot-left"
    # said, as the BIDS reader says a tracked point read as another placement (a belt read as a shoe is no shoe)
    assert rec.extra["warnings"] == [f"{p}: metadata.placement: the file says lower-back; read as foot-left as asked"]
    assert "warnings" not in open_recording(p, placement="lower-back").extra
    with pytest.raises(RecordingError, match="unknown placement"):
        open_recording(p, placement="elbow")


def test_rows_missing_in_every_channel_are_lost_samples_and_a_partial_row_is_named(tmp_path):
    """A NaN burst in a Parquet or CSV file: rows missing in every channel are samples the recorder lost (gaps,
    never interpolated into the recording), as BIDS-Motion's n/a rows; a row missing only some channels is
    refused with its column and rows."""
    rec = _rec(gaps=False)
    df = rec.data.copy()
    df.iloc[100:130] = np.nan  # 30 samples lost in every channel
    write_parquet(rec, tmp_path / "ok.parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "ok.parquet")
    burst = pa.Table.from_pandas(df.reset_index(), preserve_index=False).replace_schema_metadata(table.schema.metadata)
    pq.write_table(burst, tmp_path / "burst.parquet")
    got = read_parquet(tmp_path / "burst.parquet")
    assert got.lost_samples == 30 and len(got.data) == 470
    assert got.gaps["start_s"].iloc[0] == pytest.approx(1.00)
    np.testing.assert_allclose(got.data.loc[130].to_numpy(), rec.data.loc[130].to_numpy())
    assert any("30 rows missing in every channel (first at sample 100)" in w for w in got.extra["warnings"])
    df.iloc[100:130, 1:] = df.iloc[90, 1:].to_numpy()  # now only acc_x is missing there
    part = pa.Table.from_pandas(df.reset_index(), preserve_index=False).replace_schema_metadata(table.schema.metadata)
    pq.write_table(part, tmp_path / "part.parquet")
    with pytest.raises(RecordingError, match=r"column acc_x, rows 100-129: 30 missing \(NaN\) values"):
        read_parquet(tmp_path / "part.parquet")
    # CSV: an empty row is a lost sample (named by its file line), a half-empty one an error
    p = _csv(tmp_path, "ax,ay,az\n0,0,1\n,,\n,,\n0,0,1\n0,0,1\n")
    got = read_csv(p, MAPPING, sampling_rate_hz=50.0)
    assert list(got.data.index) == [0, 3, 4] and got.lost_samples == 2
    assert any("2 rows missing in every channel (first at row 3)" in w for w in got.extra["warnings"])
    with pytest.raises(RecordingError, match="row 3, column az: missing value"):  # the file's line and column
        read_csv(_csv(tmp_path, "ax,ay,az\n0,0,1\n0,0,\n0,0,1\n0,0,1\n"), MAPPING, sampling_rate_hz=50.0)


def test_bids_gyroscope_in_rad_s_declared_as_deg_s_is_read_in_rad_s_with_a_warning(tmp_path):
    """The sample shoe run written in rad/s while channels.tsv says deg/s: the gyroscope then turns 57 times too
    little for a foot that lands at 4-5 g, and plausibly in rad/s.  It is read in rad/s (the values equal the file
    written honestly) and the warning says what was declared and what was read."""
    from pathlib import Path

    rec = read_parquet(Path(__file__).resolve().parents[1] / "sample_recordings" / "sim_shoe_run.parquet")
    motion = write_bids(rec, tmp_path / "sub-01" / "motion", subject="01", task="run")
    honest = read_bids(motion)
    assert honest.has_gyr and not any("GYRO units" in w for w in honest.extra.get("warnings", []))
    channels = next(motion.parent.glob("*_channels.tsv"))
    channels.write_text(channels.read_text().replace("rad/s", "deg/s"))
    got = read_bids(motion)
    np.testing.assert_allclose(got.data["gyr_y"].to_numpy(), honest.data["gyr_y"].to_numpy(), rtol=1e-12)
    (w,) = [w for w in got.extra["warnings"] if "GYRO units" in w]
    assert "declared deg/s" in w and "far too little turning" in w and "read as rad/s" in w


def test_a_folder_of_parquet_recordings_says_to_name_one(tmp_path):
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).resolve().parents[1] / "sample_recordings" / "sim_shoe_run.parquet", tmp_path)
    with pytest.raises(RecordingError, match=r"no \*_motion.tsv file \(BIDS-Motion\), but 1 .parquet recording\(s\): "
                                             r"sim_shoe_run.parquet"):
        open_recording(tmp_path)


def _with_meta(src, target, edit):
    """A copy of the Parquet recording ``src`` whose backstride metadata is ``edit(meta)`` (bytes are written as they
    are)."""
    import pyarrow.parquet as pq

    table = pq.read_table(src)
    meta = json.loads(table.schema.metadata[b"backstride"])
    new = edit(meta)
    raw = new if isinstance(new, bytes) else json.dumps(new).encode()
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"backstride": raw}), target)
    return target


@pytest.mark.parametrize("edit, where, what", [
    (lambda m: b"{not json", "metadata", "not valid JSON"),
    (lambda m: b"[1, 2]", "metadata", "a JSON list"),
    (lambda m: {**m, "sensor": ["x"]}, "metadata.sensor", "a JSON list"),
    (lambda m: {**m, "sensor": "Movesense"}, "metadata.sensor", "a JSON str"),
    (lambda m: {**m, "extra": [1, 2]}, "metadata.extra", "a JSON list"),
    (lambda m: {**m, "extra": {"time_zone": 5}}, "metadata.extra.time_zone", "5"),
    (lambda m: {**m, "link_drops": "abc"}, "metadata.link_drops", "'abc'"),
    (lambda m: {**m, "start_utc": 1700000000}, "metadata.start_utc", "1700000000 is not a date-time"),
    (lambda m: {**m, "start_utc": "9999-12-31T23:59:30+00:00"}, "start_utc", "start 9999-12-31"),
])
def test_parquet_metadata_of_the_wrong_kind_is_named(tmp_path, edit, where, what):
    """Metadata edited by hand or by another tool: each field of the wrong kind is a RecordingError naming the file
    and the field (were AttributeError, TypeError or an overflow deep in the analysis)."""
    p = _with_meta(write_parquet(_rec(), tmp_path / "r.parquet"), tmp_path / "edited.parquet", edit)
    with pytest.raises(RecordingError) as err:
        open_recording(p)
    assert str(err.value).startswith(f"{p}: {where}: ") and what in str(err.value)


def test_parquet_sensor_fields_that_are_not_text_are_read_as_text_or_missing(tmp_path):
    """A sensor make written as NaN (a table tool's empty cell) is missing, a number is its text, and a warning
    given as one text stays one warning (not its letters)."""
    p = _with_meta(write_parquet(_rec(), tmp_path / "r.parquet"), tmp_path / "edited.parquet",
                   lambda m: {**m, "sensor": {"make": float("nan"), "model": 901, "serial": None},
                              "extra": {"warnings": "clipped at 16 g"}})
    rec = open_recording(p)
    assert (rec.sensor.make, rec.sensor.model, rec.sensor.serial) == (None, "901", None)
    assert rec.extra["warnings"] == ["clipped at 16 g"]
    json.dumps(rec.metadata(), allow_nan=False)  # the analysis document is written with allow_nan=False


def test_a_counter_that_jumps_by_months_is_named_not_allocated(tmp_path):
    """One corrupt sample index 1e14 samples on (a counter's bit flip): the recording would span millions of days and
    the all-day analysis, which counts every second of the span, ran out of memory; the row and the jump are named.
    A negative first index (times before the start) is refused too."""
    rec = _rec(gaps=False)
    idx = rec.data.index.to_numpy().copy()
    idx[-1] += 10**14
    with pytest.raises(RecordingError, match=r"row 499: time jumps from sample 498 to 100000000000499 \(1\.16e\+07 days "
                                             r"at 100 Hz\).*at most 31 days"):
        from_arrays(rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy(), sampling_rate_hz=100.0, sample_index=idx)
    idx = np.arange(500) + 26 * 86400 * 100  # a month's wear starting 26 days in is fine
    assert from_arrays(rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy(), sampling_rate_hz=100.0, sample_index=idx)
    with pytest.raises(RecordingError, match="sample_index: the first sample is -5"):
        from_arrays(rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy(), sampling_rate_hz=100.0, sample_index=np.arange(500) - 5)


def test_bids_acq_time_outside_the_countable_dates_is_ignored_with_a_warning(tmp_path):
    """acq_time 0001-01-01 (a de-identified date gone too far): the start is unknown, said by the scans file's row
    (was an overflow naming neither file nor field); 1925 (BIDS' de-identified dates) is read."""
    motion = write_bids(_rec(), tmp_path / "sub-01", subject="01", task="walk")
    for at, start in (("0001-01-01T00:00:00", None), ("1925-03-01T07:30:00", datetime(1925, 3, 1, 7, 30, tzinfo=timezone.utc))):
        (motion.parent / "sub-01_scans.tsv").write_text(f"filename\tacq_time\n{motion.name}\t{at}\n")
        rec = read_bids(motion)
        assert rec.start_utc == start
        if start is None:
            assert any("sub-01_scans.tsv: row 2, acq_time: '0001-01-01T00:00:00' is outside the dates" in w
                       for w in rec.extra["warnings"])


def test_a_fractional_sample_index_is_named_not_truncated(tmp_path):
    """sample_index written as floats 0, 1.5, 3, ...: the 1.5 is named (it was truncated to 1 without a word);
    floats that are whole numbers are read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = write_parquet(_rec(gaps=False), tmp_path / "r.parquet")
    table = pq.read_table(src)
    at = table.schema.get_field_index("sample_index")
    pq.write_table(table.set_column(at, "sample_index", pa.array(np.arange(500) * 1.5)), tmp_path / "half.parquet")
    with pytest.raises(RecordingError, match=r"half.parquet: sample_index, row 1: 1.5 is not a whole sample number"):
        open_recording(tmp_path / "half.parquet")
    pq.write_table(table.set_column(at, "sample_index", pa.array(np.arange(500) * 1.0)), tmp_path / "whole.parquet")
    assert open_recording(tmp_path / "whole.parquet").data.index[-1] == 499


@pytest.mark.parametrize("sample", ["sim_lower_back_run.parquet", "sim_shoe_run.parquet"])
def test_a_recording_whose_time_zone_is_no_zone_is_analysed_in_utc_and_says_so(tmp_path, capsys, sample):
    """extra.time_zone 'Mars/Olympus' (written by another tool): analyse gives its clock times and days in UTC and
    says why (it stopped with "unknown time zone", naming no file); a --timezone given is used as asked."""
    from pathlib import Path

    from sensing.cli import main

    src = Path(__file__).resolve().parents[1] / "sample_recordings" / sample
    p = _with_meta(src, tmp_path / sample, lambda m: {**m, "extra": {**(m.get("extra") or {}), "time_zone": "Mars/Olympus"}})
    assert main(["analyse", str(p), "--json", str(tmp_path / "o.json"), "--quiet"]) == 0
    doc = json.loads((tmp_path / "o.json").read_text())
    assert f"{p}: extra.time_zone 'Mars/Olympus' is not a time zone; clock times and days are given in UTC" in doc["warnings"]
    capsys.readouterr()
    assert main(["analyse", str(p), "--timezone", "Europe/Amsterdam", "--json", str(tmp_path / "o2.json"), "--quiet"]) == 0
    assert not any("Mars" in w for w in json.loads((tmp_path / "o2.json").read_text())["warnings"])
