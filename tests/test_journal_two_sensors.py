"""Two sensors worn on one run (a belt and a shoe), imported one after the other: one run that keeps the figures of
both, not the second sensor's analysis written over the first's.

Truth: each recording imported alone into a journal of its own (the belt gives trunk lean and the impact index, the
shoe the heel-strike share); the sample runs overlap in time (both start at the simulator's start time).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from journal import Journal
from sensing.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"
BELT, SHOE = SAMPLES / "sim_lower_back_run.parquet", SAMPLES / "sim_shoe_run.parquet"


def _journal(tmp_path, name: str, *files: Path, capsys) -> tuple[str, list[str]]:
    url = f"sqlite:///{tmp_path / name}"
    assert main(["runner", "add", "ana", "--timezone", "UTC", "--journal", url]) == 0
    lines = []
    for f in files:
        assert main(["import", str(f), "--journal", url]) == 0
        lines.append(capsys.readouterr().out)
    return url, lines


def _run(url: str) -> dict:
    with Journal.open(url) as j:
        runs = j.runs(runner="ana")
    assert len(runs) == 1, runs
    return runs.iloc[0].to_dict()


@pytest.fixture(scope="module")
def alone(tmp_path_factory) -> dict:
    out = {}
    for name, f in (("belt", BELT), ("shoe", SHOE)):
        url = f"sqlite:///{tmp_path_factory.mktemp(name) / 'j.sqlite3'}"
        assert main(["runner", "add", "ana", "--timezone", "UTC", "--journal", url]) == 0
        assert main(["import", str(f), "--journal", url]) == 0
        out[name] = _run(url)
    # what each sensor can measure
    assert out["belt"]["trunk_lean_fwd_deg"] is not None and math.isfinite(out["belt"]["trunk_lean_fwd_deg"])
    assert math.isnan(out["belt"]["heel_strike_share"]) and math.isnan(out["shoe"]["trunk_lean_fwd_deg"])
    assert math.isfinite(out["shoe"]["heel_strike_share"])
    return out


@pytest.mark.parametrize("first, second", [("belt", "shoe"), ("shoe", "belt")])
def test_a_second_sensors_analysis_adds_what_the_first_cannot_measure(tmp_path, capsys, alone, first, second):
    files = {"belt": BELT, "shoe": SHOE}
    url, lines = _journal(tmp_path, "j.sqlite3", files[first], files[second], capsys=capsys)
    run = _run(url)
    a, b = alone[first], alone[second]
    # the first sensor's figures and recording stay
    for k in ("duration_s", "steps_n", "cadence_spm", "recording_path"):
        assert run[k] == a[k], k
    assert run["trunk_lean_fwd_deg"] == pytest.approx(alone["belt"]["trunk_lean_fwd_deg"])
    assert run["trunk_lean_fwd_drift_deg"] == pytest.approx(alone["belt"]["trunk_lean_fwd_drift_deg"])
    assert run["impact_index_mean"] == pytest.approx(alone["belt"]["impact_index_mean"])
    assert run["heel_strike_share"] == pytest.approx(alone["shoe"]["heel_strike_share"])
    filled = {k for k in ("heel_strike_share", "trunk_lean_fwd_deg", "trunk_lean_fwd_drift_deg", "impact_index_mean",
                          "mechanical_load_au") if math.isnan(a[k]) and math.isfinite(b[k])}
    assert set(run["other_sensor_fields"]) == filled and filled
    assert "merged" in lines[1] and "second sensor" in lines[1]

    # analysing the first recording again (the Run page's update) keeps what the second sensor gave
    from analysis.document import full_analysis
    from sensing.formats import open_recording

    with Journal.open(url) as j:
        doc = full_analysis(open_recording(files[first]), timezone="UTC").doc
        j.refresh_analysis(int(run["id"]), doc, runner="ana")
    again = _run(url)
    for k in filled:
        assert again[k] == pytest.approx(run[k]), k


def test_the_same_sensor_again_still_updates_its_run(tmp_path, capsys):
    # a re-export of the same recording (other bytes, same placement and time) is the same run's newer analysis
    from analysis.document import full_analysis
    from sensing.formats import open_recording

    url, _ = _journal(tmp_path, "j.sqlite3", BELT, capsys=capsys)
    doc = full_analysis(open_recording(BELT), timezone="UTC").doc
    doc["summary"]["note"] = "re-exported"
    with Journal.open(url) as j:
        res = j.import_analysis(doc, runner="ana", recording_path=str(tmp_path / "copy.parquet"))
    assert res.status == "updated"
    assert _run(url)["other_sensor_fields"] == ()
    # another file of the same time and placement replaced the run's figures: the import says so, and from which
    assert f"replaced the run's figures, which came from {BELT.resolve()}" in res.message
    assert _run(url)["recording_path"] == str(tmp_path / "copy.parquet")


def test_an_analysis_json_made_with_a_relative_path_keeps_its_recording_found(tmp_path, capsys, monkeypatch):
    # `backstride analyse bs/belt.parquet --json lb.json` run in a/, then imported from another folder
    import shutil

    (tmp_path / "a" / "bs").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(BELT, tmp_path / "a" / "bs" / "belt.parquet")
    monkeypatch.chdir(tmp_path / "a")
    assert main(["analyse", "bs/belt.parquet", "--json", "lb.json", "--quiet"]) == 0
    assert '"source": "bs/belt.parquet"' in (tmp_path / "a" / "lb.json").read_text()  # as given
    monkeypatch.chdir(tmp_path / "elsewhere")
    url, _ = _journal(tmp_path, "j.sqlite3", tmp_path / "a" / "lb.json", capsys=capsys)
    # found from the document's folder, and stored whole (the dashboard would look in its own data folder)
    assert _run(url)["recording_path"] == str((tmp_path / "a" / "bs" / "belt.parquet").resolve())
    # a document moved away from its recording: the path is kept as written (nothing to find it by)
    shutil.move(tmp_path / "a" / "lb.json", tmp_path / "elsewhere" / "lb.json")
    url2, _ = _journal(tmp_path, "j2.sqlite3", tmp_path / "elsewhere" / "lb.json", capsys=capsys)
    assert _run(url2)["recording_path"] == "bs/belt.parquet"


def test_newer_analyses_of_either_sensor_replace_only_their_own_figures(tmp_path, capsys, alone):
    from analysis.document import full_analysis
    from sensing.formats import open_recording

    url, _ = _journal(tmp_path, "j.sqlite3", BELT, SHOE, capsys=capsys)
    heel = alone["shoe"]["heel_strike_share"]
    belt = full_analysis(open_recording(BELT), timezone="UTC").doc
    belt["summary"]["note"] = "newer"  # other content: not a duplicate
    shoe = full_analysis(open_recording(SHOE), timezone="UTC").doc
    for st in shoe["steps"]:
        if st.get("strike") in ("midfoot", "forefoot"):
            st["strike"] = "rearfoot"  # a newer shoe analysis that reads every stride as a heel strike
    with Journal.open(url) as j:
        # the belt again (its own recording): its figures update, the shoe's heel-strike share stays
        assert j.import_analysis(belt, runner="ana", recording_path=str(BELT)).status == "updated"
        r = j.runs(runner="ana").iloc[0]
        assert r["heel_strike_share"] == pytest.approx(heel)
        # the shoe again, from another copy of its file: its one figure is replaced, its note not repeated
        res = j.import_analysis(shoe, runner="ana", recording_path=str(tmp_path / "shoe-copy.parquet"))
        assert res.status == "merged"
        r = j.runs(runner="ana").iloc[0]
        assert r["heel_strike_share"] == pytest.approx(1.0)
        assert r["trunk_lean_fwd_deg"] == pytest.approx(alone["belt"]["trunk_lean_fwd_deg"])
        assert r["other_sensor_fields"] == ("heel_strike_share",)
        csv = j.export_csv("runs", runner="ana")
    assert "heel_strike_share" in csv and "('heel_strike_share',)" not in csv  # a plain list in the CSV


def test_a_recording_without_gravity_is_refused_saying_why(tmp_path, capsys):
    # the accelerometer in g written as m/s² (or a free-acceleration export): no step can be found; the refusal
    # says what the reader noticed, not only "no running"
    import dataclasses

    from sensing.formats import open_recording, write_parquet

    rec = open_recording(BELT)
    data = rec.data.copy()
    data[["acc_x", "acc_y", "acc_z"]] /= 9.80665
    bad = write_parquet(dataclasses.replace(rec, data=data), tmp_path / "in_g.parquet")
    url = f"sqlite:///{tmp_path / 'j.sqlite3'}"
    assert main(["runner", "add", "ana", "--timezone", "UTC", "--journal", url]) == 0
    capsys.readouterr()
    assert main(["import", str(bad), "--journal", url]) == 1
    out, err = capsys.readouterr()
    assert "gravity removed" in out + err and "0.1" in out + err
    with Journal.open(url) as j:
        assert len(j.runs(runner="ana")) == 0


def test_deleting_a_run_lets_every_file_it_held_be_imported_again(tmp_path, capsys, alone):
    """`run delete` of a belt-and-shoe run: both files import again (not "duplicate"), and the run they make has
    both sensors' figures as before.  The same for a file whose run a newer analysis of its recording replaced."""
    url, _ = _journal(tmp_path, "j.sqlite3", BELT, SHOE, capsys=capsys)
    rid = int(_run(url)["id"])
    assert main(["run", "delete", str(rid), "--journal", url]) == 0
    capsys.readouterr()
    for f in (BELT, SHOE):
        assert main(["import", str(f), "--journal", url]) == 0
        out = capsys.readouterr().out
        assert "duplicate" not in out and ("imported" in out or "merged" in out), out
    run = _run(url)
    assert run["heel_strike_share"] == pytest.approx(alone["shoe"]["heel_strike_share"])
    assert run["trunk_lean_fwd_deg"] == pytest.approx(alone["belt"]["trunk_lean_fwd_deg"])

    # the shoe's recording analysed again (a re-export, other bytes): its newer analysis replaces the first's
    # figures; once the run is gone the first file is importable again too
    from analysis.document import full_analysis
    from sensing.formats import open_recording

    doc = full_analysis(open_recording(SHOE), timezone="UTC").doc
    doc["summary"]["note"] = "re-exported"
    with Journal.open(url) as j:
        res = j.import_analysis(doc, runner="ana", recording_path=str(SHOE))
        assert res.status == "merged"
        j.delete_run(int(_run(url)["id"]), runner="ana")
    for f in (BELT, SHOE):
        assert main(["import", str(f), "--journal", url]) == 0
        assert "duplicate" not in capsys.readouterr().out
    with Journal.open(url) as j:    # nothing left behind: each import record is held by the one run
        assert len(j.runs(runner="ana")) == 1
