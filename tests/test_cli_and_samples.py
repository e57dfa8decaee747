"""The analyse command and regression checks on the committed sample recordings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sensing.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"


def _match(det, ref, tol_s):
    det = np.asarray(det)
    return [det[np.argmin(np.abs(det - r))] - r for r in ref if np.min(np.abs(det - r)) <= tol_s]


def test_analyse_says_its_bouts_in_clock_times_of_the_zone_asked(tmp_path, capsys):
    """The sample run started 2026-05-04 17:30:00 UTC (its metadata), 19:30 in Amsterdam (CEST, UTC+2)."""
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    out = tmp_path / "a.json"
    assert main(["analyse", str(SAMPLES / "sim_lower_back_run.parquet"), "--timezone", "Europe/Amsterdam",
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "100 Hz, 6 min 13 s, started 2026-05-04 19:30:00 CEST (17:30:00 UTC)" in text
    (bout,) = json.loads(out.read_text())["bouts"]
    t0 = datetime(2026, 5, 4, 17, 30, tzinfo=timezone.utc).astimezone(ZoneInfo("Europe/Amsterdam"))
    a, b = (t0 + timedelta(seconds=round(bout[k])) for k in ("start_s", "end_s"))
    assert f"running  {a:%H:%M:%S} – {b:%H:%M:%S}  " in text and a.hour == 19


def test_analyse_lower_back_sample_against_its_truth(tmp_path, capsys):
    out = tmp_path / "a.json"
    assert main(["analyse", str(SAMPLES / "sim_lower_back_run.parquet"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "cadence" in text and "170 steps/min" in text
    # what the text says is in words and units, and it says what the JSON warns about
    import re

    n = int(re.search(r"running: (\d+) steps", text).group(1))
    assert abs(n - len(pd.read_csv(SAMPLES / "sim_lower_back_run.truth.csv"))) <= 2
    assert "_s " not in text and "_deg" not in text
    assert "FLAG trunk lean forward" in text
    # a 6-minute run is no day: said as such, not as an "insufficient-wear" flag over a row of zeros; no "-0.0"
    assert "worn 0.1 h, too little for the day's sitting figures (they need 10 h)" in text
    assert "insufficient-wear" not in text and "-0.0" not in text
    assert "running bout 1 (" in text  # counted from 1
    doc = json.loads(out.read_text())
    for w in doc["warnings"]:
        assert f"warning: {w}" in text
    truth = pd.read_csv(SAMPLES / "sim_lower_back_run.truth.csv")
    ic = [s["ic_s"] for s in doc["steps"]]
    errs = _match(ic, truth["ic_s"], 0.05)
    assert len(errs) / len(truth) > 0.98
    assert np.median(np.abs(errs)) < 0.015
    # the sample's lean grows by 4° over the run: a fatigue flag
    assert "trunk_lean_fwd_deg" in doc["summary"]["fatigue"][0]["flags"]


def test_analyse_shoe_sample_strike_share(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["analyse", str(SAMPLES / "sim_shoe_run.parquet"), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    truth = pd.read_csv(SAMPLES / "sim_shoe_run.truth.csv")
    # a shoe sees one foot: its 169 running rows are strides (the simulator's 170 minus the first), not steps
    text = capsys.readouterr().out
    assert "running: 169 strides of this foot" in text and "170 steps/min" in text
    share = doc["summary"]["strike_share"]
    assert share["rearfoot"] == pytest.approx((truth["strike_angle_deg"] > 8).mean(), abs=0.06)
    assert share["midfoot"] == pytest.approx((truth["strike_angle_deg"] < 8).mean(), abs=0.06)
    # every landing timed, the flat ones after a still late swing too (they were 110 ms early)
    errs = np.asarray(_match([s["ic_s"] for s in doc["steps"]], truth["ic_s"], 0.05))
    assert len(errs) >= len(truth) - 1 and np.all(np.abs(errs) < 0.02)


def test_real_gaitmap_shoe_sample_ic_against_motion_capture():
    """Real data (gaitmap example, MIT): ICs against optical motion capture."""
    from analysis.pipeline import analyse_path

    rep = analyse_path(SAMPLES / "gaitmap_left_shoe_walk.parquet")
    truth = pd.read_csv(SAMPLES / "gaitmap_left_shoe_walk.truth.csv")
    errs = np.asarray(_match(rep.steps["ic_s"], truth["ic_s"], 0.1))
    assert len(errs) >= len(truth) - 1
    assert np.median(np.abs(errs)) < 0.010


def test_placement_override_and_errors(tmp_path, capsys):
    bad = tmp_path / "x.txt"
    bad.write_text("not a recording")
    assert main(["analyse", str(bad)]) == 2
    assert "not a recording backstride can read" in capsys.readouterr().err
    assert main(["analyse", str(tmp_path / "missing.parquet")]) == 2
    assert "does not exist" in capsys.readouterr().err
    out = tmp_path / "o.json"
    assert main(["analyse", str(SAMPLES / "sim_shoe_run.parquet"), "--placement", "foot-right", "--json", str(out), "--quiet"]) == 0
    doc = json.loads(out.read_text())
    assert doc["placement"] == "foot-right" and doc["steps"][0]["side"] == "right"


@pytest.mark.parametrize(("given", "placement"), [("RightFoot", "foot-right"), ("right_foot", "foot-right"),
                                                  ("Foot-Right", "foot-right"), ("LeftFoot", "foot-left")])
def test_placement_by_a_common_name(tmp_path, given, placement):
    out = tmp_path / "o.json"
    assert main(["analyse", str(SAMPLES / "sim_shoe_run.parquet"), "--placement", given, "--json", str(out),
                 "--quiet"]) == 0
    doc = json.loads(out.read_text())
    assert doc["placement"] == placement and doc["steps"][0]["side"] == placement.split("-")[1]


def test_an_unknown_placement_is_named(capsys):
    with pytest.raises(SystemExit) as e:
        main(["analyse", str(SAMPLES / "sim_shoe_run.parquet"), "--placement", "elbow"])
    assert e.value.code == 2
    assert "unknown placement 'elbow': expected one of lower-back, foot-left, foot-right" in capsys.readouterr().err
    # a neighbouring place is not read as the placement silently (a trunk sensor may be lower-back or chest)
    for near, placement in (("trunk", "chest"), ("LeftHip", "lower-back"), ("right_ankle", "foot-right")):
        with pytest.raises(SystemExit):
            main(["analyse", str(SAMPLES / "sim_shoe_run.parquet"), "--placement", near])
        assert f"is next to {placement}: give --placement {placement}" in capsys.readouterr().err


def test_bids_lost_samples_are_gaps_not_an_error(tmp_path):
    """A BIDS-Motion file whose dropped samples are n/a rows (as BIDS writes them) is analysed, the gap reported.

    Truth: the simulator's ICs; the 0.5 s cut out of the recording holds about one step, so every
    other step must still be found, and the gap must be named in the warnings with its samples.
    """
    from sensing.bids import write_bids
    from sensing.formats import read_parquet

    rec = read_parquet(SAMPLES / "sim_lower_back_run.parquet")
    fs = rec.sampling_rate_hz
    cut = (rec.data.index >= int(100 * fs)) & (rec.data.index < int(100.5 * fs))
    rec.data = rec.data[~cut]
    motion = write_bids(rec, tmp_path / "sub-01" / "motion", subject="01", task="run")
    assert "n/a" in motion.read_text().splitlines()[int(100 * fs)]
    out = tmp_path / "a.json"
    assert main(["analyse", str(motion), "--placement", "lower-back", "--json", str(out), "--quiet"]) == 0
    doc = json.loads(out.read_text())
    assert any(f"{int(0.5 * fs)} lost samples in 1 gap (first at 100.00 s)" in w for w in doc["warnings"]), doc["warnings"]
    truth = pd.read_csv(SAMPLES / "sim_lower_back_run.truth.csv")
    away = truth["ic_s"][(truth["ic_s"] < 99.5) | (truth["ic_s"] > 101.0)]
    errs = _match([s["ic_s"] for s in doc["steps"]], away, 0.05)
    assert len(errs) / len(away) > 0.98
    # a row missing only some channels is still an error, named by row
    lines = motion.read_text().splitlines()
    fields = lines[10].split("\t")
    fields[0] = "n/a"
    lines[10] = "\t".join(fields)
    motion.write_text("\n".join(lines) + "\n")
    assert main(["analyse", str(motion), "--placement", "lower-back", "--quiet"]) == 2


def test_json_to_a_pipe_that_closes_early_ends_quietly():
    """`backstride analyse REC --json - | head`: the reader stops early; no traceback, exit 0."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "sensing.cli", "analyse", str(SAMPLES / "sim_lower_back_run.parquet"), "--json", "-"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=SAMPLES.parent)
    first = p.stdout.readline()
    p.stdout.close()  # as head does after its lines
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 0, err
    assert first.strip() == b"{" and "Traceback" not in err and "BrokenPipe" not in err


def test_bout_clock_times_past_midnight_carry_their_date(tmp_path, capsys):
    """The sample run moved to start at 23:57:00 UTC: a bout that ends after midnight says the next day's date."""
    import dataclasses
    from datetime import datetime, timezone

    from sensing.formats import read_parquet, write_parquet

    rec = read_parquet(SAMPLES / "sim_lower_back_run.parquet")
    late = dataclasses.replace(rec, start_utc=datetime(2026, 5, 4, 23, 57, tzinfo=timezone.utc))
    write_parquet(late, tmp_path / "late.parquet")
    out = tmp_path / "a.json"
    assert main(["analyse", str(tmp_path / "late.parquet"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    (bout,) = json.loads(out.read_text())["bouts"]
    assert bout["start_s"] < 180 < bout["end_s"]      # starts before midnight, ends after it
    a = late.start_utc.timestamp() + round(bout["start_s"])
    b = late.start_utc.timestamp() + round(bout["end_s"])
    fa, fb = (datetime.fromtimestamp(x, timezone.utc) for x in (a, b))
    assert f"running  {fa:%H:%M:%S} – {fb:%Y-%m-%d %H:%M:%S}  " in text and f"{fb:%Y-%m-%d}" == "2026-05-05"
