"""``backstride convert``: a CSV export (a phone app's, a sensor tool's) becomes a recording the rest reads.

Truth is the sample lower-back run itself: written out as a phone app would (g, deg/s, Unix milliseconds, ';'
between columns and ',' as the decimal mark, ten rows lost), converted back, it must hold the same samples, the
same start and the lost rows as a gap, and analyse to the same steps.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sensing.cli import main
from sensing.formats import read_parquet
from analysis.constants import GRAVITY_M_S2

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_recordings" / "sim_lower_back_run.parquet"
LOST = slice(1000, 1010)  # rows 1000-1009 of the export (samples 1000-1009) never reached the file


def _phone_csv(tmp_path: Path, *, lost: bool = True) -> Path:
    rec = read_parquet(SAMPLE)
    d = rec.data
    out = pd.DataFrame({
        "time": (rec.start_utc.timestamp() * 1000 + d.index.to_numpy() * (1000 / rec.sampling_rate_hz)).astype("int64"),
        "ax": d["acc_x"] / GRAVITY_M_S2, "ay": d["acc_y"] / GRAVITY_M_S2, "az": d["acc_z"] / GRAVITY_M_S2,
        "gx": np.degrees(d["gyr_x"]), "gy": np.degrees(d["gyr_y"]), "gz": np.degrees(d["gyr_z"])})
    if lost:
        out = out.drop(index=out.index[LOST])
    p = tmp_path / "phone.csv"
    out.to_csv(p, sep=";", decimal=",", index=False, float_format="%.9g")
    return p


PHONE_ARGS = ["--acc", "ax,ay,az", "--acc-unit", "g", "--gyr", "gx,gy,gz", "--gyr-unit", "deg/s",
              "--time", "time", "--time-unit", "ms", "--placement", "lower-back", "--sep", ";", "--decimal", ","]


def test_a_phone_export_converts_to_the_same_recording(tmp_path, capsys):
    csv = _phone_csv(tmp_path)
    assert main(["convert", str(csv), *PHONE_ARGS]) == 0
    out = capsys.readouterr().out
    got, want = read_parquet(tmp_path / "phone.parquet"), read_parquet(SAMPLE)
    assert got.sampling_rate_hz == pytest.approx(100.0) and got.placement == "lower-back"
    assert got.start_utc == want.start_utc                      # from the Unix times, no --start needed
    assert got.lost_samples == 10 and got.gaps["start_s"].tolist() == [pytest.approx(10.0)]
    kept = want.data.drop(index=want.data.index[LOST])
    assert got.data.index.tolist() == kept.index.tolist()
    for c in ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"):
        np.testing.assert_allclose(got.data[c], kept[c], rtol=1e-7, atol=1e-9)
    assert "37290 samples at 100 Hz" in out and "10 lost samples in 1 gap(s)" in out
    assert "backstride analyse" in out


def test_the_converted_run_analyses_to_the_samples_steps(tmp_path, capsys):
    csv = _phone_csv(tmp_path, lost=False)
    assert main(["convert", str(csv), *PHONE_ARGS, "--out", str(tmp_path / "run.parquet")]) == 0
    for name, path in (("got", tmp_path / "run.parquet"), ("want", SAMPLE)):
        assert main(["analyse", str(path), "--quiet", "--json", str(tmp_path / f"{name}.json")]) == 0
    got, want = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("got", "want"))
    ics = [np.array([s["ic_s"] for s in d["steps"]]) for d in (got, want)]
    assert len(ics[0]) == len(ics[1]) > 1000
    np.testing.assert_allclose(ics[0], ics[1], atol=1e-6)


def test_a_rate_without_times_needs_the_start(tmp_path, capsys):
    p = tmp_path / "x.csv"
    p.write_text("ax,ay,az\n" + "0,0,1\n" * 500)
    args = ["convert", str(p), "--acc", "ax,ay,az", "--acc-unit", "g", "--rate-hz", "50", "--placement", "chest"]
    assert main(args) == 2
    assert "--start: not given" in capsys.readouterr().err
    assert main([*args, "--start", "2026-11-20 07:30"]) == 2           # a clock time without its offset
    assert "has no time zone" in capsys.readouterr().err
    assert not (tmp_path / "x.parquet").exists()
    assert main([*args, "--start", "2026-11-20T07:30:00+01:00"]) == 0
    rec = read_parquet(tmp_path / "x.parquet")
    assert rec.start_utc.isoformat() == "2026-11-20T06:30:00+00:00" and rec.duration_s == pytest.approx(10.0)
    assert not rec.has_gyr and rec.data["acc_z"].iloc[0] == pytest.approx(GRAVITY_M_S2)
    # where it was recorded, kept with it: analyse then shows the clock times there
    assert main([*args, "--start", "2026-11-20T00:30:00+01:00", "--timezone", "Mars/Olympus",
                 "--out", str(tmp_path / "z.parquet")]) == 2
    assert "not an IANA time zone" in capsys.readouterr().err
    assert main([*args, "--start", "2026-11-20T00:30:00+01:00", "--timezone", "Europe/Amsterdam",
                 "--out", str(tmp_path / "z.parquet")]) == 0
    assert read_parquet(tmp_path / "z.parquet").extra["time_zone"] == "Europe/Amsterdam"
    capsys.readouterr()
    assert main(["analyse", str(tmp_path / "z.parquet")]) == 0
    assert "started 2026-11-20 00:30:00 CET (23:30:00 UTC)" in capsys.readouterr().out


@pytest.mark.parametrize("extra, text, message", [
    (["--acc", "ax,ay,aZ", "--acc-unit", "g"], "ax,ay,az\n0,0,1\n", "no column(s) ['aZ']"),
    (["--acc", "ax,ay", "--acc-unit", "g"], "ax,ay,az\n0,0,1\n", "three column names"),
    (["--acc", "ax,ay,az", "--gyr", "gx,gy,gz", "--acc-unit", "g"], "ax,ay,az,gx,gy,gz\n0,0,1,0,0,0\n",
     "--gyr needs --gyr-unit"),
    (["--acc", "ax,ay,az", "--acc-unit", "furlong"], "ax,ay,az\n0,0,1\n", "unknown unit 'furlong'"),
    # m/s² declared as g: 9.8 g at rest
    (["--acc", "ax,ay,az", "--acc-unit", "g"], "ax,ay,az\n" + "0,0,9.81\n" * 50, "look like m/s² declared as g"),
    (["--acc", "ax,ay,az", "--acc-unit", "g"], "ax,ay,az\n0,0,1\n0,x,1\n", "row 3, column ay"),
    # a value out of any sensor's range: its file line, its column and the unit declared
    (["--acc", "ax,ay,az", "--acc-unit", "g"], "ax,ay,az\n" + "0,0,1\n" * 60 + "0,0,80\n",
     "row 62, column az: 80 g is beyond anything a body-worn sensor measures (expected |value| ≤ 50 g"),
])
def test_bad_input_is_named_and_nothing_is_written(tmp_path, capsys, extra, text, message):
    p = tmp_path / "x.csv"
    p.write_text(text)
    code = main(["convert", str(p), *extra, "--rate-hz", "50", "--start", "2026-11-20T06:30:00Z",
                 "--placement", "chest"])
    out = " ".join(capsys.readouterr().err.split())
    assert code == 2 and message in out and ("x.csv" in out or out.startswith("backstride convert: --"))
    assert not (tmp_path / "x.parquet").exists()


def test_an_existing_recording_is_never_overwritten(tmp_path, capsys):
    p = tmp_path / "x.csv"
    p.write_text("ax,ay,az\n" + "0,0,1\n" * 50)
    target = tmp_path / "x.parquet"
    target.write_bytes(b"an earlier recording")
    assert main(["convert", str(p), "--acc", "ax,ay,az", "--acc-unit", "g", "--rate-hz", "50",
                 "--start", "2026-11-20T06:30:00Z", "--placement", "chest"]) == 2
    assert "exists; nothing was written" in capsys.readouterr().err
    assert target.read_bytes() == b"an earlier recording"


def test_a_reader_that_leaves_the_pipe_gets_no_traceback():
    """`backstride analyse ... | head` with the reader gone before anything is written."""
    proc = subprocess.Popen([sys.executable, "-m", "sensing.cli", "analyse", str(SAMPLE)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and "Traceback" not in err, err


def _jittery_csv(tmp_path: Path) -> Path:
    """A phone's export: times in ns since 1970 at irregular 6-14 ms intervals, a 0.5-s pause at 20 s, and a closed
    form to check against: 1 g on z plus 0.5 g at 2 Hz on x, 90 deg/s at 1 Hz on z."""
    rng = np.random.default_rng(7)
    t = np.cumsum(rng.uniform(0.006, 0.014, 4000))
    t = t[(t < 30.0) & ((t < 20.0) | (t > 20.5))]
    t = np.concatenate([[0.0], t])
    t0_ns = 1_779_000_000 * 10**9
    pd.DataFrame({"t": t0_ns + np.round(t * 1e9).astype("int64"), "ax": 0.5 * np.sin(2 * np.pi * 2 * t),
                  "ay": 0.0, "az": 1.0, "gx": 0.0, "gy": 0.0, "gz": 90 * np.sin(2 * np.pi * t)}
                 ).to_csv(tmp_path / "jitter.csv", index=False)
    return tmp_path / "jitter.csv"


JITTER_ARGS = ["--acc", "ax,ay,az", "--acc-unit", "g", "--gyr", "gx,gy,gz", "--gyr-unit", "deg/s", "--time", "t",
               "--time-unit", "ns", "--placement", "lower-back"]


def test_irregular_times_are_refused_unless_resampling_is_asked_for(tmp_path, capsys):
    csv = _jittery_csv(tmp_path)
    assert main(["convert", str(csv), *JITTER_ARGS]) == 2
    assert "off the" in (out := capsys.readouterr().err) and "--resample-hz" in out
    assert "a median interval of 10 ms" in " ".join(out.split())       # the 6-14 ms draws' median, to pick a rate
    assert not (tmp_path / "jitter.parquet").exists()
    assert main(["convert", str(csv), *JITTER_ARGS, "--resample-hz", "100"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    rec = read_parquet(tmp_path / "jitter.parquet")
    assert rec.sampling_rate_hz == 100.0 and rec.start_utc.timestamp() == 1_779_000_000
    # the pause (the last sample before 20 s to the first after 20.5 s) is a gap, not interpolated over
    (gap,) = rec.gaps.itertuples()
    assert 19.98 <= gap.start_s <= 20.01 and 20.5 <= gap.end_s <= 20.52 and gap.lost_samples >= 49
    # between the pauses, the grid samples are the closed form (linear interpolation of ~10-ms samples)
    t = rec.t_s
    np.testing.assert_allclose(rec.data["acc_x"], 0.5 * GRAVITY_M_S2 * np.sin(2 * np.pi * 2 * t), atol=0.02)
    np.testing.assert_allclose(rec.data["acc_z"], GRAVITY_M_S2, atol=1e-9)
    np.testing.assert_allclose(rec.data["gyr_z"], np.radians(90 * np.sin(2 * np.pi * t)), atol=2e-3)
    assert "resampled to 100 Hz by linear interpolation" in out and "left out as lost" in out
    assert any("resampled to 100 Hz" in w for w in rec.extra["warnings"])   # kept with the recording
    assert main(["convert", str(csv), *JITTER_ARGS, "--resample-hz", "100", "--rate-hz", "100",
                 "--out", str(tmp_path / "b.parquet")]) == 2
    assert "--resample-hz needs --time" in capsys.readouterr().err


def test_a_utf16_export_reads_and_a_foreign_encoding_is_named(tmp_path, capsys):
    """A spreadsheet's "Unicode text" export is UTF-16 with a byte-order mark: the same samples as the UTF-8 one.
    A file in neither (Windows-1252 bytes) is named with the byte where it stops being text."""
    text = "ax,ay,az\n" + "".join(f"{0.1 * np.sin(i / 5):.5f},0,1\n" for i in range(200))
    args = ["--acc", "ax,ay,az", "--acc-unit", "g", "--rate-hz", "50", "--start", "2026-11-20T06:30:00Z",
            "--placement", "chest"]
    (tmp_path / "u8.csv").write_text(text, encoding="utf-8")
    (tmp_path / "u16.csv").write_text(text, encoding="utf-16")
    assert (tmp_path / "u16.csv").read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    for name in ("u8", "u16"):
        assert main(["convert", str(tmp_path / f"{name}.csv"), *args]) == 0
    a, b = (read_parquet(tmp_path / f"{n}.parquet") for n in ("u8", "u16"))
    assert len(b.data) == 200
    np.testing.assert_array_equal(a.data.to_numpy(), b.data.to_numpy())
    (tmp_path / "w.csv").write_bytes("ax,ay,az,note\n".encode() + "0,0,1,Köln\n".encode("cp1252") * 20)
    capsys.readouterr()
    assert main(["convert", str(tmp_path / "w.csv"), *args]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "w.csv" in err and "not utf-8 text" in err and "UTF-8" in err and "Traceback" not in err
    assert "byte 21 (line 2)" in err  # the 'ö' of the first data row, counted in the file
    assert not (tmp_path / "w.parquet").exists()
    # deep in a long file: pandas reads in blocks and counts from its block; the message counts from the file
    (tmp_path / "w2.csv").write_bytes(text.encode() * 40 + "0,0,1ö\n".encode("cp1252"))
    bad_at = len(text.encode()) * 40 + len("0,0,1")
    assert main(["convert", str(tmp_path / "w2.csv"), *args]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"byte {bad_at} (line {text.count(chr(10)) * 40 + 1})" in err, err


@pytest.mark.parametrize("text, extra, message", [
    # times in ms taken as seconds: 0.1 Hz, and which unit would make them a rate
    ("t,ax,ay,az\n" + "".join(f"{10 * i},0,0,1\n" for i in range(50)), ["--time", "t"],
     "column t: times 10 s apart on average: a rate of 0.1 Hz (expected 10 to 2000 Hz; are the times in ms? "
     "(convert: --time-unit ms))"),
    # a ';'-separated export read with ','
    ("t;ax;ay;az\n" + "".join(f"{10 * i};0;0;1\n" for i in range(50)), ["--time", "t", "--time-unit", "ms"],
     "no column(s) ['ax', 'ay', 'az']: the header reads as one column 't;ax;ay;az' (expected columns separated by "
     "';' given as the separator (convert: --sep ';'))"),
])
def test_a_time_unit_or_separator_typed_wrong_says_which_would_fit(tmp_path, capsys, text, extra, message):
    p = tmp_path / "x.csv"
    p.write_text(text)
    code = main(["convert", str(p), "--acc", "ax,ay,az", "--acc-unit", "g", *extra,
                 "--start", "2026-11-20T06:30:00Z", "--placement", "chest"])
    assert code == 2 and message in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize("extra, message", [
    (["--rate-hz", "5"], "--rate-hz 5: expected a sampling rate from 10 to 2000 Hz"),
    (["--rate-hz", "50", "--time-unit", "ms"], "--time-unit ms given without --time"),
])
def test_options_that_cannot_hold_are_named(tmp_path, capsys, extra, message):
    p = tmp_path / "x.csv"
    p.write_text("ax,ay,az\n" + "0,0,1\n" * 50)
    code = main(["convert", str(p), "--acc", "ax,ay,az", "--acc-unit", "g", *extra,
                 "--start", "2026-11-20T06:30:00Z", "--placement", "chest"])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "x.parquet").exists()


def test_a_folder_is_not_a_csv(tmp_path, capsys):
    assert main(["convert", str(tmp_path), "--acc", "ax,ay,az", "--acc-unit", "g", "--rate-hz", "50",
                 "--placement", "chest"]) == 2
    assert "a folder; give the CSV file in it" in capsys.readouterr().err


def test_a_start_that_disagrees_with_the_unix_times_is_used_and_said(tmp_path, capsys):
    """The phone's clock may be wrong: --start wins, and the output says by how much the two differ."""
    csv = _phone_csv(tmp_path, lost=False)
    want = read_parquet(SAMPLE).start_utc
    same = want.isoformat()
    assert main(["convert", str(csv), *PHONE_ARGS, "--start", same, "--out", str(tmp_path / "a.parquet")]) == 0
    assert "warning" not in capsys.readouterr().out                        # they agree: nothing to say
    assert main(["convert", str(csv), *PHONE_ARGS, "--start", "2026-05-04T18:30:00+02:00",  # 16:30 UTC, 1 h early
                 "--out", str(tmp_path / "b.parquet")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert read_parquet(tmp_path / "b.parquet").start_utc.isoformat() == "2026-05-04T16:30:00+00:00"
    assert want.isoformat() == "2026-05-04T17:30:00+00:00"
    assert "--start 2026-05-04 16:30:00 UTC used; column time's Unix times start at 2026-05-04 17:30:00 UTC " \
           "(1 h 0 min later)" in out


@pytest.mark.parametrize("acc_unit, gyr_unit, gyr_scale, said", [
    ("mg", "deg/s", 1.0, "0.00124 g) in the unit declared: the values look like g declared as mg"),  # 0.001 g
    ("m/s^2", "deg/s", 1.0, "0.126 g) in the unit declared: the values look like g declared as m/s^2"),
    ("g", "deg/s", np.pi / 180, "far too little turning for a body-worn sensor; the values look like rad/s declared "
                                 "as deg/s"),
    ("g", "rad/s", 1.0, "rad/s is beyond anything a body-worn sensor measures (expected |value| ≤ 70 rad/s; the "
                        "values look like deg/s declared as rad/s)"),
])
def test_a_wrong_unit_is_named_and_nothing_is_written(tmp_path, capsys, acc_unit, gyr_unit, gyr_scale, said):
    """The sample run (g, deg/s in the export) converted with a unit typed wrong: refused, naming the column and
    what the values look like, whichever way the unit is off."""
    csv = _phone_csv(tmp_path, lost=False)
    if gyr_scale != 1.0:  # the columns in rad/s
        df = pd.read_csv(csv, sep=";", decimal=",")
        df[["gx", "gy", "gz"]] *= gyr_scale
        df.to_csv(csv, sep=";", decimal=",", index=False, float_format="%.9g")
    args = list(PHONE_ARGS)
    args[args.index("--acc-unit") + 1] = acc_unit
    args[args.index("--gyr-unit") + 1] = gyr_unit
    assert main(["convert", str(csv), *args]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert said in err and "phone.csv" in err and "Traceback" not in err, err
    assert not (tmp_path / "phone.parquet").exists()


def test_gyroscope_columns_of_zeros_are_said_to_be_unrecorded(tmp_path, capsys):
    """A device without a gyroscope that writes 0,0,0: not "a unit confused", but not recorded."""
    csv = _phone_csv(tmp_path, lost=False)
    df = pd.read_csv(csv, sep=";", decimal=",")
    df[["gx", "gy", "gz"]] = 0.0
    df.to_csv(csv, sep=";", decimal=",", index=False)
    assert main(["convert", str(csv), *PHONE_ARGS]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "the gyroscope reads 0 throughout" in err and "not recorded (leave its columns out)" in err
    assert "declared as" not in err


def test_a_value_out_of_range_names_the_first_such_row_and_the_unit_its_values_look_like(tmp_path, capsys):
    """The sample run written in mg and declared as g: every row is past 50 g in z (about 1000 at rest), so the
    first data row (line 2) is named, with mg as what the values look like."""
    csv = _phone_csv(tmp_path, lost=False)
    df = pd.read_csv(csv, sep=";", decimal=",")
    df[["ax", "ay", "az"]] *= 1000.0
    df.to_csv(csv, sep=";", decimal=",", index=False, float_format="%.9g")
    assert main(["convert", str(csv), *PHONE_ARGS]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "row 2, column" in err and "the values look like mg declared as g" in err, err


def test_app_exports_a_runner_has(tmp_path, capsys):
    """Shapes of real app exports: a linear (gravity removed) acceleration, which moving reads about 1 g and passed
    the median check, is refused saying which export to take; a file whose rows end in a separator (Physics Toolbox)
    reads each column by its header name (it shifted every column by one); a decimal comma read with "." and
    nanosecond Unix times read as seconds say which option fixes them."""
    from scipy.signal import butter, sosfiltfilt

    rec = read_parquet(SAMPLE)
    fs, d = rec.sampling_rate_hz, rec.data
    acc = d[["acc_x", "acc_y", "acc_z"]].to_numpy()
    args = ["--acc", "ax,ay,az", "--acc-unit", "m/s^2", "--rate-hz", "100", "--start", "2026-03-01T07:00:00Z",
            "--placement", "lower-back"]
    linear = acc - sosfiltfilt(butter(2, 0.3, fs=fs, output="sos"), acc, axis=0)
    pd.DataFrame(linear, columns=["ax", "ay", "az"]).to_csv(tmp_path / "linear.csv", index=False)
    assert np.median(np.linalg.norm(linear, axis=1)) > 0.5 * GRAVITY_M_S2  # the median check alone passed it
    assert main(["convert", str(tmp_path / "linear.csv"), *args]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "linear.csv: accelerometer columns" in err and "gravity removed" in err and "Acceleration with g" in err
    assert not (tmp_path / "linear.parquet").exists()

    text = "t,ax,ay,az,total\n" + "".join(f"{k / fs:.3f},{a[0]:.5f},{a[1]:.5f},{a[2]:.5f},{np.linalg.norm(a):.5f},\n"
                                         for k, a in enumerate(acc[:3000]))
    (tmp_path / "trailing.csv").write_text(text)
    assert main(["convert", str(tmp_path / "trailing.csv"), *args]) == 0
    got = read_parquet(tmp_path / "trailing.parquet").data
    np.testing.assert_allclose(got[["acc_x", "acc_y", "acc_z"]].to_numpy(), acc[:3000], atol=1e-5)

    (tmp_path / "eu.csv").write_text("ax;ay;az\n" + "".join(f"{a[0]:.4f};{a[1]:.4f};{a[2]:.4f}\n".replace(".", ",")
                                                             for a in acc[:500]))
    assert main(["convert", str(tmp_path / "eu.csv"), *args, "--sep", ";"]) == 2
    assert "the file writes a decimal comma (convert: --decimal ,)" in " ".join(capsys.readouterr().err.split())

    t_ns = 1_772_348_400_000_000_000 + np.arange(500) * 10_000_000  # 2026-03-01 07:00 UTC in ns
    pd.DataFrame({"time": t_ns, "ax": acc[:500, 0], "ay": acc[:500, 1], "az": acc[:500, 2]}).to_csv(
        tmp_path / "ns.csv", index=False)
    assert main(["convert", str(tmp_path / "ns.csv"), "--acc", "ax,ay,az", "--acc-unit", "m/s^2", "--time", "time",
                 "--placement", "lower-back"]) == 2
    assert "--time-unit ns: as ns since 1970 it is 2026-03-01 07:00 UTC" in " ".join(capsys.readouterr().err.split())


def test_a_local_start_with_its_zone_and_a_file_without_a_header(tmp_path, capsys):
    """`--start 2026-07-01T07:30` with `--timezone Europe/Amsterdam` is 05:30 UTC (summer time), in winter 06:30;
    a file whose first line holds numbers (Axivity's OMGUI export has no header row) is named as such."""
    rows = "".join(f"{0.01 * np.sin(k / 7):.5f},0,1\n" for k in range(300))
    (tmp_path / "h.csv").write_text("ax,ay,az\n" + rows)
    base = ["--acc", "ax,ay,az", "--acc-unit", "g", "--rate-hz", "50", "--placement", "chest"]
    for day, utc_hour in (("2026-07-01", 5), ("2026-01-15", 6)):
        out = tmp_path / f"{day}.parquet"
        assert main(["convert", str(tmp_path / "h.csv"), *base, "--start", f"{day}T07:30", "--timezone",
                     "Europe/Amsterdam", "--out", str(out)]) == 0
        start = read_parquet(out).start_utc
        assert (start.hour, start.minute, start.tzinfo is not None) == (utc_hour, 30, True)
    assert main(["convert", str(tmp_path / "h.csv"), *base, "--start", "2026-07-01T07:30"]) == 2  # no zone at all
    assert "or a local time with --timezone" in " ".join(capsys.readouterr().err.split())
    (tmp_path / "n.csv").write_text("2026-03-01 07:00:00.000," + rows.replace("\n", "\n2026-03-01 07:00:00.000,", 5))
    assert main(["convert", str(tmp_path / "n.csv"), *base, "--start", "2026-03-01T07:00Z"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "n.csv: line 1: no column(s)" in err and "the first line holds numbers" in err and "no header row" in err


def _phone_pair(tmp_path: Path, *, gyr_offset_s: float = 0.0, pause=(15.0, 15.5)) -> tuple[Path, Path]:
    """A phone app's two files (phyphox, Sensor Logger): the accelerometer and the gyroscope each at their own
    irregular 6-14 ms times in ns since 1970, the gyroscope starting 1.2 s later, ending 0.8 s earlier and pausing
    over ``pause``; closed forms to check against: 1 g on z plus 0.5 g at 2 Hz on x, 90 deg/s at 1 Hz on z."""
    rng = np.random.default_rng(11)
    t0_ns = 1_779_000_000 * 10**9
    ta = np.concatenate([[0.0], np.cumsum(rng.uniform(0.006, 0.014, 3500))])
    ta = ta[ta < 30.0]
    tg = 1.2 + np.concatenate([[0.0], np.cumsum(rng.uniform(0.006, 0.014, 3500))])
    tg = tg[(tg < 29.2) & ((tg < pause[0]) | (tg > pause[1]))]
    pd.DataFrame({"time": t0_ns + np.round(ta * 1e9).astype("int64"), "x": 0.5 * np.sin(2 * np.pi * 2 * ta),
                  "y": 0.0, "z": 1.0}).to_csv(tmp_path / "Accelerometer.csv", index=False)
    pd.DataFrame({"time": t0_ns + np.round((tg + gyr_offset_s) * 1e9).astype("int64"), "x": 0.0, "y": 0.0,
                  "z": 90 * np.sin(2 * np.pi * tg)}).to_csv(tmp_path / "Gyroscope.csv", index=False)
    return tmp_path / "Accelerometer.csv", tmp_path / "Gyroscope.csv"


PAIR_ARGS = ["--acc", "x,y,z", "--acc-unit", "g", "--gyr", "x,y,z", "--gyr-unit", "deg/s", "--time", "time",
             "--time-unit", "ns", "--placement", "lower-back"]


def test_a_gyroscope_in_a_file_of_its_own_joins_the_accelerometer_at_its_sample_times(tmp_path, capsys):
    acc, gyr = _phone_pair(tmp_path)
    assert main(["convert", str(acc), *PAIR_ARGS, "--gyr-file", str(gyr), "--resample-hz", "100"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    rec = read_parquet(tmp_path / "Accelerometer.parquet")
    # cut to where both files have samples: the first grid sample at or after the gyroscope's first (1.2 s), the
    # start moved with it; the last at or before the gyroscope's last (29.2 s or just before)
    assert rec.start_utc.timestamp() == pytest.approx(1_779_000_000 + 1.2, abs=0.0101)
    assert rec.has_gyr and 27.9 <= rec.duration_s <= 28.01
    t = rec.t_s + (rec.start_utc.timestamp() - 1_779_000_000)   # seconds from the accelerometer's first sample
    np.testing.assert_allclose(rec.data["acc_x"], 0.5 * GRAVITY_M_S2 * np.sin(2 * np.pi * 2 * t), atol=0.02)
    np.testing.assert_allclose(rec.data["gyr_z"], np.radians(90 * np.sin(2 * np.pi * t)), atol=2e-3)
    np.testing.assert_allclose(rec.data[["gyr_x", "gyr_y"]], 0.0, atol=1e-12)
    # the gyroscope's pause is lost samples (every channel), not interpolated over
    (gap,) = rec.gaps.itertuples()
    assert 13.78 <= gap.start_s <= 13.81 and 14.3 <= gap.end_s <= 14.32 and gap.lost_samples >= 49
    assert "gyroscope from Gyroscope.csv" in out.replace(str(tmp_path) + "/", "")
    assert "interpolated linearly at the 100 Hz sample times" in out and "left out as lost" in out
    assert "1.2 s left out at the start, 0.8 s at the end" in out
    assert any("interpolated linearly" in w for w in rec.extra["warnings"])   # kept with the recording


def _metabase_pair(tmp_path: Path, *, gyr_scale: float = 1.0) -> list[str]:
    """The sample run written as MetaBase writes a MetaWear's streams: accelerometer and gyroscope files with their
    own Unix-millisecond times, the gyroscope's 3 ms after the accelerometer's; the convert arguments for them."""
    rec = read_parquet(SAMPLE)
    d = rec.data
    ms = (rec.start_utc.timestamp() * 1000 + d.index.to_numpy() * (1000 / rec.sampling_rate_hz)).astype("int64")
    pd.DataFrame({"epoc (ms)": ms, "x-axis (g)": d["acc_x"] / GRAVITY_M_S2, "y-axis (g)": d["acc_y"] / GRAVITY_M_S2,
                  "z-axis (g)": d["acc_z"] / GRAVITY_M_S2}).to_csv(tmp_path / "acc.csv", index=False)
    gyr = np.degrees(d[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()) * gyr_scale
    pd.DataFrame({"epoc (ms)": ms + 3, "x-axis (deg/s)": gyr[:, 0], "y-axis (deg/s)": gyr[:, 1],
                  "z-axis (deg/s)": gyr[:, 2]}).to_csv(tmp_path / "gyr.csv", index=False)
    return ["convert", str(tmp_path / "acc.csv"), "--acc", "x-axis (g),y-axis (g),z-axis (g)", "--acc-unit", "g",
            "--gyr-file", str(tmp_path / "gyr.csv"), "--gyr", "x-axis (deg/s),y-axis (deg/s),z-axis (deg/s)",
            "--gyr-unit", "deg/s", "--time", "epoc (ms)", "--time-unit", "ms", "--placement", "lower-back"]


def test_the_sample_run_split_into_two_files_analyses_to_its_steps(tmp_path, capsys):
    """The sample run in MetaBase's two files converts back and analyses to the sample's steps and trunk lean (the
    gyroscope read 3 ms late by interpolation)."""
    rec = read_parquet(SAMPLE)
    d = rec.data
    assert main(_metabase_pair(tmp_path)) == 0
    got = read_parquet(tmp_path / "acc.parquet")
    # the first sample, 3 ms before the gyroscope's first, is cut (never extrapolated): the start 10 ms later
    assert (got.start_utc - rec.start_utc).total_seconds() == pytest.approx(0.01) and len(got.data) == len(d) - 1
    for name, path in (("got", tmp_path / "acc.parquet"), ("want", SAMPLE)):
        assert main(["analyse", str(path), "--quiet", "--json", str(tmp_path / f"{name}.json")]) == 0
    got, want = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("got", "want"))
    ics = [np.array([s["ic_s"] for s in doc["steps"]]) for doc in (got, want)]
    assert len(ics[0]) == len(ics[1]) > 1000
    np.testing.assert_allclose(ics[0] + 0.01, ics[1], atol=0.011)
    lean = [doc["summary"]["running"]["median_trunk_lean_fwd_deg"] for doc in (got, want)]
    assert lean[0] == pytest.approx(lean[1], abs=0.3)


def test_a_gyroscope_file_that_cannot_join_is_named_and_nothing_is_written(tmp_path, capsys):
    acc, gyr = _phone_pair(tmp_path)
    base = ["convert", str(acc), *PAIR_ARGS, "--resample-hz", "100"]

    def refused(*extra, gyr_path=gyr) -> str:
        assert main([*base, *extra] + (["--gyr-file", str(gyr_path)] if gyr_path else [])) == 2
        assert not (tmp_path / "Accelerometer.parquet").exists()
        return " ".join(capsys.readouterr().err.split())

    (tmp_path / "late").mkdir()                                    # another recording's: an hour later
    _, late = _phone_pair(tmp_path / "late", gyr_offset_s=3600.0)
    assert "do not overlap" in (err := refused(gyr_path=late)) and "lie 3601.200 to" in err
    text = gyr.read_text()
    (tmp_path / "cut.csv").write_text(text[: text.rindex(",")])            # cut inside its last row
    assert "cut.csv: row" in (err := refused(gyr_path=tmp_path / "cut.csv")) and "truncated" in err
    (tmp_path / "notime.csv").write_text(text.replace("time,", "t,", 1))
    assert "notime.csv: header: no time column 'time'" in refused(gyr_path=tmp_path / "notime.csv")
    (tmp_path / "m").mkdir()
    assert main(_metabase_pair(tmp_path / "m", gyr_scale=np.pi / 180)) == 2       # rad/s declared as deg/s
    assert "gyr.csv: unit of x-axis (deg/s) (deg/s)" in (err := " ".join(capsys.readouterr().err.split()))
    assert "rad/s" in err and not (tmp_path / "m" / "acc.parquet").exists()
    assert main(["convert", str(acc), "--acc", "x,y,z", "--acc-unit", "g", "--gyr", "x,y,z", "--gyr-unit", "deg/s",
                 "--rate-hz", "100", "--placement", "lower-back", "--gyr-file", str(gyr)]) == 2  # no --time
    assert "--gyr-file needs --time" in capsys.readouterr().err
    assert main(["convert", str(acc), "--acc", "x,y,z", "--acc-unit", "g", "--time", "time", "--time-unit", "ns",
                 "--placement", "lower-back", "--resample-hz", "100", "--gyr-file", str(gyr)]) == 2
    assert "--gyr-file" in (err := capsys.readouterr().err) and "without --gyr" in err
    assert "no such file" in refused(gyr_path=tmp_path / "missing.csv")


def test_dates_and_times_as_text_give_the_start_in_their_zone(tmp_path, capsys):
    """Axivity's OMGUI export (no header row, local dates and times, g and deg/s) of the sample run converts back to
    the sample's samples and start; MATLAB Mobile's 01-Mar-2026 07:00:00.007 names the --time-format to give."""
    rec = read_parquet(SAMPLE)
    d = rec.data
    local = (pd.Timestamp(rec.start_utc).tz_convert("Europe/Amsterdam").tz_localize(None)
             + pd.to_timedelta(d.index.to_numpy() / rec.sampling_rate_hz, unit="s"))
    rows = pd.DataFrame({"t": local.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3],
                         **{c: d[c] / GRAVITY_M_S2 for c in ("acc_x", "acc_y", "acc_z")},
                         **{c: np.degrees(d[c]) for c in ("gyr_x", "gyr_y", "gyr_z")}})
    rows.to_csv(tmp_path / "ax6.csv", index=False, header=False, float_format="%.7g")
    args = ["convert", str(tmp_path / "ax6.csv"), "--no-header", "--time", "1", "--acc", "2,3,4", "--acc-unit", "g",
            "--gyr", "5,6,7", "--gyr-unit", "deg/s", "--placement", "lower-back"]
    assert main(args) == 2                                            # local times need their zone
    assert "dates and times without a UTC offset" in (err := " ".join(capsys.readouterr().err.split()))
    assert "--timezone" in err and not (tmp_path / "ax6.parquet").exists()
    assert main([*args, "--timezone", "Europe/Amsterdam"]) == 0
    got = read_parquet(tmp_path / "ax6.parquet")
    assert got.start_utc == rec.start_utc and rec.start_utc.hour == 17     # 19:30 in Amsterdam's summer time
    assert got.data.index.tolist() == d.index.tolist()
    for c in ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"):
        np.testing.assert_allclose(got.data[c], d[c], rtol=1e-6, atol=1e-5)
    assert main([*args[:-2], "--acc", "a,b,c", "--placement", "lower-back"]) == 2
    assert "--no-header: columns are named by their number from 1" in capsys.readouterr().err

    rows["t"] = local.strftime("%d-%b-%Y %H:%M:%S.%f").str[:-3]       # MATLAB Mobile's
    rows.iloc[:300].to_csv(tmp_path / "m.csv", index=False, float_format="%.7g")
    base = ["convert", str(tmp_path / "m.csv"), "--time", "t", "--acc", "acc_x,acc_y,acc_z", "--acc-unit", "g",
            "--placement", "lower-back", "--timezone", "Europe/Amsterdam"]
    assert main(base) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "row 2, column t: '04-May-2026 19:30:00.000' is not a number or an ISO 8601 date and time" in err
    assert "--time-format '%d-%B-%Y %H:%M:%S.%f'" in err                # pandas' guess ("May": %b and %B alike)
    assert main([*base, "--time-format", "%d-%b-%Y %H:%M:%S.%f"]) == 0
    assert read_parquet(tmp_path / "m.parquet").start_utc == rec.start_utc


@pytest.mark.parametrize("written", ["offset", "local"])
def test_text_times_across_the_change_to_summer_time_stay_continuous(tmp_path, capsys, written):
    """4 s at 100 Hz over Amsterdam's change to summer time (2026-03-29 01:00 UTC: clocks go 02:00 -> 03:00), the
    times written with their changing offset (SensorLog's +0100, +0200) or as the clock showed them: one recording of
    400 samples from 00:59:58 UTC, no hour-long gap; a closed form on x to check that no sample moved."""
    t_utc = pd.Timestamp("2026-03-29 00:59:58", tz="UTC") + pd.to_timedelta(np.arange(400) * 10, unit="ms")
    clock = t_utc.tz_convert("Europe/Amsterdam")
    text = (clock.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3] + clock.strftime(" %z") if written == "offset"
            else clock.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3])
    k = np.arange(400)
    pd.DataFrame({"time": text, "x": 0.3 * np.sin(2 * np.pi * k / 100), "y": 0.0, "z": 1.0}).to_csv(
        tmp_path / "dst.csv", index=False)
    fmt = "%Y-%m-%d %H:%M:%S.%f" + (" %z" if written == "offset" else "")
    assert main(["convert", str(tmp_path / "dst.csv"), "--time", "time", "--time-format", fmt, "--acc", "x,y,z",
                 "--acc-unit", "g", "--placement", "chest", "--timezone", "Europe/Amsterdam"]) == 0
    rec = read_parquet(tmp_path / "dst.parquet")
    assert rec.start_utc == t_utc[0].to_pydatetime() and rec.sampling_rate_hz == pytest.approx(100.0)
    assert rec.data.index.tolist() == list(range(400)) and rec.lost_samples == 0
    np.testing.assert_allclose(rec.data["acc_x"], 0.3 * GRAVITY_M_S2 * np.sin(2 * np.pi * k / 100), atol=1e-6)


def test_clock_times_without_a_date_and_an_excel_separator_line(tmp_path, capsys):
    """Physics Toolbox's 07:00:00:011 clock times have no date: --start gives it; Excel's `sep=;` first line names
    the separator, and the rows after it are named by their file line."""
    k = np.arange(500)
    clock = pd.Timestamp("2026-03-01 07:00:00") + pd.to_timedelta(k * 10, unit="ms")
    lines = [f"{c:%H:%M:%S}:{c.microsecond // 1000:03d};{0.2 * np.sin(k_ / 10):.4f};0;1" for c, k_ in zip(clock, k)]
    (tmp_path / "p.csv").write_text("time;x;y;z\n" + "\n".join(lines) + "\n")
    base = ["convert", str(tmp_path / "p.csv"), "--time", "time", "--time-format", "%H:%M:%S:%f", "--sep", ";",
            "--acc", "x,y,z", "--acc-unit", "g", "--placement", "chest"]
    assert main(base) == 2
    assert "holds clock times without a date" in (err := " ".join(capsys.readouterr().err.split())) and "--start" in err
    assert main([*base, "--start", "2026-03-01T07:00:00+01:00"]) == 0
    rec = read_parquet(tmp_path / "p.parquet")
    assert rec.start_utc.hour == 6 and len(rec.data) == 500 and rec.sampling_rate_hz == pytest.approx(100.0)

    lines[3] = lines[3].replace(";0;1", ";zero;1")
    (tmp_path / "e.csv").write_text("sep=;\ntime;x;y;z\n" + "\n".join(lines) + "\n")
    assert main(["convert", str(tmp_path / "e.csv"), *base[2:], "--start", "2026-03-01T07:00:00+01:00"]) == 2
    assert "e.csv: row 6, column y: not a number: 'zero'" in " ".join(capsys.readouterr().err.split())  # line 6


def test_clock_times_in_the_repeated_hour_past_midnight_or_with_a_decimal_comma(tmp_path, capsys):
    """Three text-time cases a review found: 10 s inside the hour Amsterdam's clocks repeat (25 Oct 2026, 02:10) have
    nothing to tell which pass they are: the error names the two fixed-offset zones, and one of them reads it;
    clock times without a date that pass midnight go on into the next day (they were "going back 86390 s"); a
    time column with a decimal comma names --decimal (it was taken for dates)."""
    k = np.arange(1000)
    t = pd.Timestamp("2026-10-25 02:10:00") + pd.to_timedelta(k * 10, unit="ms")
    pd.DataFrame({"time": t.strftime("%Y-%m-%d %H:%M:%S.%f").str[:-3], "x": 0.0, "y": 0.0, "z": 1.0}).to_csv(
        tmp_path / "fall.csv", index=False)
    base = ["convert", str(tmp_path / "fall.csv"), "--time", "time", "--acc", "x,y,z", "--acc-unit", "g",
            "--placement", "chest"]
    assert main([*base, "--timezone", "Europe/Amsterdam"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--timezone Etc/GMT-2 for UTC+2 or --timezone Etc/GMT-1 for UTC+1" in err
    assert main([*base, "--timezone", "Etc/GMT-1", "--out", str(tmp_path / "f.parquet")]) == 0   # the second pass
    assert read_parquet(tmp_path / "f.parquet").start_utc == pd.Timestamp("2026-10-25 01:10", tz="UTC")

    clock = pd.Timestamp("2026-03-01 23:59:50") + pd.to_timedelta(k * 20, unit="ms")            # 20 s at 50 Hz
    (tmp_path / "m.csv").write_text("time;x;y;z\n" + "".join(f"{c:%H:%M:%S}:{c.microsecond // 1000:03d};0;0;1\n"
                                                             for c in clock))
    assert main(["convert", str(tmp_path / "m.csv"), "--time", "time", "--time-format", "%H:%M:%S:%f", "--sep", ";",
                 "--acc", "x,y,z", "--acc-unit", "g", "--placement", "chest",
                 "--start", "2026-03-01T23:59:50+01:00"]) == 0
    rec = read_parquet(tmp_path / "m.parquet")
    assert len(rec.data) == 1000 and rec.sampling_rate_hz == pytest.approx(50.0) and rec.lost_samples == 0

    (tmp_path / "c.csv").write_text("time;x;y;z\n" + "".join(f"{i / 100:.2f};0;0;1\n".replace(".", ",", 1)
                                                             for i in range(300)))
    assert main(["convert", str(tmp_path / "c.csv"), "--time", "time", "--sep", ";", "--acc", "x,y,z",
                 "--acc-unit", "g", "--placement", "chest", "--start", "2026-03-01T07:00Z"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "row 2, column time: not a number: '0,00'" in err and "--decimal ," in err and "--time-format" not in err


def test_rows_under_one_time_stamp_are_averaged_when_resampling(tmp_path, capsys):
    """A phone writing whole-ms stamps puts two samples under one time now and then (Physics Toolbox): refused as
    "time goes from 4.934 to 4.934 s" even with --resample-hz.  Now resampling averages them and says so, in the
    accelerometer's file and the gyroscope's; without resampling the error names --resample-hz."""
    acc, gyr = _phone_pair(tmp_path)
    merged_s = []
    for f in (acc, gyr):
        d = pd.read_csv(f)
        d.loc[500, "time"] = d.loc[499, "time"]                       # the next sample stamped with this one's time
        merged_s.append((d.loc[499, "time"] - 1_779_000_000 * 10**9) / 1e9)
        d.to_csv(f, index=False)
    assert main(["convert", str(acc), *PAIR_ARGS, "--gyr-file", str(gyr), "--resample-hz", "100"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.count("1 rows repeat the time of the row before") == 2 and "averaged" in out
    rec = read_parquet(tmp_path / "Accelerometer.parquet")
    t = rec.t_s + (rec.start_utc.timestamp() - 1_779_000_000)
    away = np.all([np.abs(t - m) > 0.03 for m in merged_s], axis=0)  # (near the stamp: the mean of two samples)
    assert away.sum() >= len(t) - 14
    np.testing.assert_allclose(rec.data["acc_x"][away], 0.5 * GRAVITY_M_S2 * np.sin(2 * np.pi * 2 * t[away]), atol=0.03)
    np.testing.assert_allclose(rec.data["gyr_z"][away], np.radians(90 * np.sin(2 * np.pi * t[away])), atol=3e-3)
    assert main(["convert", str(acc), *PAIR_ARGS, "--gyr-file", str(gyr), "--out", str(tmp_path / "b.parquet")]) == 2
    assert "averaged by convert --resample-hz" in " ".join(capsys.readouterr().err.split())


def test_a_wrong_time_unit_is_refused_when_resampling_too(tmp_path, capsys):
    """ms read as s with --resample-hz made 53 h of "sitting" out of a 3-min run (and s read as ms 20 samples):
    the resampling path now checks the times' rate as the other does, naming the unit that fits."""
    acc, gyr = _phone_pair(tmp_path)
    d = pd.read_csv(acc)
    d["t_ms"] = (d["time"] - d["time"].iloc[0]) / 1e6                         # ms since the first sample
    d.to_csv(acc, index=False)
    base = ["convert", str(acc), "--acc", "x,y,z", "--acc-unit", "g", "--time", "t_ms", "--resample-hz", "100",
            "--placement", "lower-back", "--start", "2026-03-01T07:00Z"]
    assert main(base) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "a rate of 0.1" in err and "are the times in ms? (convert: --time-unit ms)" in err
    assert main([*base, "--time-unit", "ms"]) == 0


def test_text_times_in_the_offset_their_column_names_and_dateless_ones_over_summer_time(tmp_path, capsys):
    """MetaBase names its text times' offset in the column ("timestamp (+0000)"): with --timezone Europe/Amsterdam
    they were read as Amsterdam's clock, an hour off (and a second run on import).  Clock times without a date over
    the change to summer time (01:59:59 -> 03:00:00) were an hour of lost samples; on --start's day in --timezone
    they are 20 continuous seconds."""
    k = np.arange(1000)
    utc_t = pd.Timestamp("2026-03-01 06:00:00") + pd.to_timedelta(k * 10, unit="ms")
    pd.DataFrame({"timestamp (+0000)": utc_t.strftime("%Y-%m-%dT%H.%M.%S.%f").str[:-3], "x": 0.0, "y": 0.0,
                  "z": 1.0}).to_csv(tmp_path / "mb.csv", index=False)
    assert main(["convert", str(tmp_path / "mb.csv"), "--time", "timestamp (+0000)", "--time-format",
                 "%Y-%m-%dT%H.%M.%S.%f", "--acc", "x,y,z", "--acc-unit", "g", "--placement", "chest",
                 "--timezone", "Europe/Amsterdam"]) == 0
    assert read_parquet(tmp_path / "mb.parquet").start_utc == pd.Timestamp("2026-03-01 06:00", tz="UTC")

    clock = (pd.Timestamp("2026-03-29 00:59:50", tz="UTC") + pd.to_timedelta(k * 20, unit="ms")).tz_convert(
        "Europe/Amsterdam")                                                        # 01:59:50 CET .. 03:00:09 CEST
    (tmp_path / "c.csv").write_text("time,x,y,z\n" + "".join(f"{c:%H:%M:%S}.{c.microsecond // 1000:03d},0,0,1\n"
                                                             for c in clock))
    assert main(["convert", str(tmp_path / "c.csv"), "--time", "time", "--time-format", "%H:%M:%S.%f", "--acc",
                 "x,y,z", "--acc-unit", "g", "--placement", "chest", "--timezone", "Europe/Amsterdam",
                 "--start", "2026-03-29T01:59:50"]) == 0
    rec = read_parquet(tmp_path / "c.parquet")
    assert len(rec.data) == 1000 and rec.lost_samples == 0 and rec.duration_s == pytest.approx(20.0, abs=0.03)
    assert rec.start_utc == pd.Timestamp("2026-03-29 00:59:50", tz="UTC")


def test_a_gyroscope_file_much_longer_than_the_accelerometers_is_said(tmp_path, capsys):
    acc, gyr = _phone_pair(tmp_path)
    d = pd.read_csv(acc)
    d[d["time"] < d["time"].iloc[0] + 15 * 10**9].to_csv(acc, index=False)     # the accelerometer's first 15 s
    assert main(["convert", str(acc), *PAIR_ARGS, "--gyr-file", str(gyr), "--resample-hz", "100"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "s after the samples of" in out and "are both files of the same recording?" in out
    assert main(["convert", str(acc), "--acc", "x,y,z", "--acc-unit", "g", "--gyr", "gx,gy,gz", "--gyr-unit", "deg/s",
                 "--time", "time", "--time-unit", "ns", "--resample-hz", "100", "--placement", "lower-back",
                 "--out", str(tmp_path / "x.parquet")]) == 2                            # --gyr-file forgotten
    assert "is it in a file of its own? (convert: --gyr-file" in " ".join(capsys.readouterr().err.split())
    assert main(["convert", str(acc), *PAIR_ARGS, "--gyr-file", str(gyr), "--resample-hz", "100", "--timezone",
                 "europe/amsterdam", "--out", str(tmp_path / "y.parquet")]) == 2
    assert "did you mean Europe/Amsterdam?" in capsys.readouterr().err


def test_a_run_in_the_hour_the_clocks_repeat_analyses(tmp_path, capsys):
    """The sample run started at 02:58:30 CEST on 25 Oct 2026 in Amsterdam, running on past 03:00 CEST = 02:00 CET:
    `analyse` stopped on pandas' "Cannot infer dst time" rounding a local clock time; now rounded in UTC, and the
    header names the zone with both its abbreviations."""
    from datetime import datetime, timezone

    from sensing.formats import write_parquet

    rec = read_parquet(SAMPLE)
    rec.start_utc = datetime(2026, 10, 25, 0, 58, 30, tzinfo=timezone.utc)
    rec.extra["time_zone"] = "Europe/Amsterdam"
    write_parquet(rec, tmp_path / "autumn.parquet")
    assert main(["analyse", str(tmp_path / "autumn.parquet")]) == 0
    out = capsys.readouterr().out
    assert "clock times Europe/Amsterdam (CEST, CET)" in out and "started 2026-10-25 02:58:30 CEST" in out


@pytest.mark.parametrize("text, fmt", [("2026-03-01T06.00.00.000", "%Y-%m-%dT%H.%M.%S.%f"),   # MetaWear's MetaBase
                                       ("07:00:00:011", "%H:%M:%S:%f")])                   # Physics Toolbox
def test_an_apps_time_text_that_pandas_cannot_guess_names_its_format(tmp_path, capsys, text, fmt):
    (tmp_path / "t.csv").write_text(f"time,x,y,z\n{text},0,0,1\n{text},0,0,1\n")
    assert main(["convert", str(tmp_path / "t.csv"), "--time", "time", "--acc", "x,y,z", "--acc-unit", "g",
                 "--placement", "chest", "--timezone", "UTC", "--start", "2026-03-01T07:00Z"]) == 2
    assert f"--time-format '{fmt}'" in " ".join(capsys.readouterr().err.split())
