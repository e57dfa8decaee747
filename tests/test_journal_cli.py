"""``backstride`` journal subcommands, run through the real entry point."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from journal import Journal
from sensing.cli import build_parser, main

FENIX5 = Path(__file__).parent / "data" / "garmin-fenix-5-run.fit"


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_commands_are_registered():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("runner", "import", "run", "pain", "checkin", "exercise", "timeline", "export"):
        assert name in sub.choices


def test_a_day_in_the_journal(capsys, url, tmp_path):
    assert run(capsys, "runner", "add", "ana", "--timezone", "Europe/Amsterdam", "--hr-rest", "50",
               "--hr-max", "190", "--journal", url)[0] == 0
    code, out, _ = run(capsys, "runner", "list", "--journal", url)
    assert code == 0 and "ana\tEurope/Amsterdam" in out
    code, out, _ = run(capsys, "run", "add", "--start", "2026-03-03T07:00", "--duration-min", "45",
                       "--distance-km", "8", "--rpe", "4", "--kind", "easy", "--journal", url)
    assert code == 0 and "run 1 added" in out
    code, out, _ = run(capsys, "pain", "4", "--where", "lower-back-left", "--when", "after-run",
                       "--at", "2026-03-03T20:00", "--journal", url)
    assert code == 0 and "pain 4/10" in out
    assert run(capsys, "checkin", "--date", "2026-03-03", "--sleep-h", "7.5", "--sleep-quality", "4",
               "--stress", "2", "--sitting-h", "6", "--standing-h", "1", "--lifting", "none",
               "--journal", url)[0] == 0
    assert run(capsys, "exercise", "plank", "--sets", "3", "--date", "2026-03-03", "--journal", url)[0] == 0
    assert run(capsys, "exercise", "sun-salutation", "--minutes", "5", "--category", "mobility",
               "--date", "2026-03-03", "--journal", url)[0] == 0
    assert run(capsys, "run", "set", "1", "--rpe", "5", "--journal", url)[0] == 0
    with Journal.open(url) as j:
        r = j.runs().iloc[0]
        assert (r["duration_s"], r["distance_m"], r["rpe"], r["session_load_au"]) == (2700, 8000, 5, 225)
        c = j.checkins().iloc[0]
        assert (c["sleep_s"], c["work_sitting_s"], c["work_standing_s"]) == (7.5 * 3600, 6 * 3600, 3600)
        e = j.exercises()
        assert list(e["duration_s"].fillna(0)) == [0, 300]
        p = j.pain_reports().iloc[0]
        assert (p["rating"], p["location"], p["timing"]) == (4, "lower-back-left", "after-run")
    code, out, _ = run(capsys, "run", "list", "--journal", url)
    assert code == 0 and "easy" in out and "225" in out


def test_run_list_shows_a_run_without_a_kind_and_refuses_one_dated_ahead(capsys, url):
    from datetime import date, timedelta

    run(capsys, "runner", "add", "ana", "--journal", url)
    assert run(capsys, "run", "add", "--start", "2026-03-03T07:00", "--duration-min", "45", "--rpe", "4",
               "--journal", url)[0] == 0  # no --kind: NULL in the journal, NaN in the table
    assert run(capsys, "run", "add", "--start", "2026-03-04T07:00", "--duration-min", "30", "--kind", "easy",
               "--journal", url)[0] == 0
    ahead = (date.today() + timedelta(days=3)).isoformat()
    code, _, err = run(capsys, "run", "add", "--start", f"{ahead}T07:00", "--duration-min", "30", "--journal", url)
    assert code == 1 and "--start" in err and "not in the future" in err
    code, _, err = run(capsys, "run", "add", "--start", ahead, "--duration-min", "30", "--journal", url)
    assert code == 1 and "not in the future" in err  # a date alone too
    code, out, err = run(capsys, "run", "list", "--weeks", "2", "--journal", url)
    assert code == 0, err
    rows = [line for line in out.splitlines() if "2026-03-0" in line and "│" in line]
    # the kind not given: "–", as every unknown in the table
    assert len(rows) == 2 and rows[0].split("│")[3].strip() == "–" and "easy" in rows[1], out
    with Journal.open(url) as j:
        assert len(j.runs()) == 2
    # a run older than the weeks shown: the title says how many are left out and how to see them
    assert run(capsys, "run", "add", "--start", "2025-12-01T07:00", "--duration-min", "30", "--journal", url)[0] == 0
    code, out, _ = run(capsys, "run", "list", "--weeks", "2", "--journal", url)
    flat = " ".join(out.split())
    assert "runs in the 2 week(s) up to 2026-03-04 (1 older: --weeks for more)" in flat and "2025-12-01" not in out
    assert "2025-12-01" in run(capsys, "run", "list", "--weeks", "20", "--journal", url)[1]
    # an exercise without how much was done is named by its options, not the journal's fields
    code, _, err = run(capsys, "exercise", "bird dog", "--journal", url)
    assert code == 1 and "give --sets, --minutes or both" in err and "duration_s" not in err


def test_bad_input_is_refused_with_a_message(capsys, url):
    run(capsys, "runner", "add", "ana", "--journal", url)
    code, out, err = run(capsys, "pain", "12", "--where", "lower-back-left", "--when", "after-run", "--journal", url)
    assert code == 1 and "rating: got 12, expected a whole number from 0 to 10" in err
    code, _, err = run(capsys, "run", "add", "--start", "2026-03-03T07:00", "--duration-min", "30",
                       "--distance-km", "-3", "--journal", url)
    assert code == 1 and "--distance-km: got -3 km, expected a number from 0 to 500 km" in err
    code, _, err = run(capsys, "run", "add", "--start", "2026-03-03T07:00", "--duration-min", "30",
                       "--distance-km", "30", "--journal", url)  # 60 km/h: metres or miles meant?
    assert code == 1 and "--distance-km: 30 km in 30 min is faster than 39.6 km/h" in err
    code, _, err = run(capsys, "pain", "3", "--where", "neck", "--when", "after-run", "--journal", url)
    assert code == 1 and "expected one of lower-back-centre" in err
    code, _, err = run(capsys, "pain", "3", "--where", "leg", "--when", "after-run", "--runner", "bob",
                       "--journal", url)
    assert code == 1 and "no runner named 'bob'" in err
    with Journal.open(url) as j:
        assert len(j.pain_reports()) == 0 and len(j.runs()) == 0


def test_import_fit_json_and_bad_files(capsys, url, tmp_path):
    run(capsys, "runner", "add", "ana", "--journal", url)
    analysis = tmp_path / "analysis.json"
    analysis.write_text(json.dumps({
        "schema": "backstride.analysis/1", "placement": "lower-back", "sampling_rate_hz": 100.0, "steps": [],
        "bouts": [], "warnings": [], "summary": {"duration_s": 1800.0, "n_steps": 5000, "impact_index_mean": 1.1}}))
    notfit = tmp_path / "notes.fit"
    notfit.write_text("hello")
    broken = tmp_path / "session.parquet"
    broken.write_bytes(b"PAR1")
    code, out, err = run(capsys, "import", str(FENIX5), str(analysis), str(notfit), str(broken),
                         "--start", "2026-03-03T07:00", "--rpe", "3", "--journal", url)
    assert code == 1
    assert f"imported: {FENIX5} (fit, run 1)" in out
    assert f"imported: {analysis} (analysis, run 2)" in out
    assert "not a FIT file" in err
    # the file named once, in front of what is wrong with it (it was named again after "cannot analyse")
    assert f"error: {broken}: cannot analyse the recording: file: not a readable Parquet file" in err
    assert err.count(str(broken)) == 1
    assert "2 of 4 file(s) not imported" in err
    code, out, _ = run(capsys, "import", str(FENIX5), "--journal", url)
    assert code == 0 and "duplicate" in out
    with Journal.open(url) as j:
        runs = j.runs()
        assert len(runs) == 2
        assert runs.iloc[1]["mechanical_load_au"] == pytest.approx(5500.0)  # 5000 steps × 1.1


def test_import_a_recording_runs_the_analysis(capsys, url):
    """A recording is analysed on import (analysis.pipeline), and linked to the run."""
    pytest.importorskip("analysis.pipeline")
    sample = Path(__file__).resolve().parents[1] / "sample_recordings" / "sim_shoe_run.parquet"
    if not sample.exists():
        pytest.skip("sample recording absent")
    run(capsys, "runner", "add", "ana", "--journal", url)
    code, out, err = run(capsys, "import", str(sample), "--rpe", "4", "--kind", "easy", "--journal", url)
    assert code == 0, err
    assert run(capsys, "import", str(sample), "--journal", url)[1].startswith("duplicate")
    with Journal.open(url) as j:
        r = j.runs().iloc[0]
    assert r["source"] == "analysis" and r["recording_path"] == str(sample)
    assert r["analysis_summary"]["running"]["steps"] == 169
    # a shoe sensor: 169 running strides of one foot = 338 steps; no impact index, so no mechanical load
    assert r["steps_n"] == 338 and r["mechanical_load_au"] != r["mechanical_load_au"]
    assert r["duration_s"] == pytest.approx(r["analysis_summary"]["running"]["duration_s"])
    # strike classes of the running strides against the simulator's angles (12° rearfoot, 3° midfoot; its first
    # IC has no swing before it, so the 169 strides are truth rows 1-169): 122 of 169
    import pandas as pd

    truth = pd.read_csv(sample.with_name("sim_shoe_run.truth.csv"))["strike_angle_deg"].to_numpy()[1:]
    assert r["heel_strike_share"] == pytest.approx((truth > 8.0).mean())


def _record_folder(folder: Path, sample: Path, placements: tuple[str, ...]) -> None:
    """A ``backstride record`` folder with ``sample``'s samples once per placement (as two sensors would write)."""
    from sensing.chunked import ChunkWriter, write_session_index
    from sensing.formats import open_recording

    rec = open_recording(sample)
    d = rec.data
    for placement in placements:
        w = ChunkWriter(folder / f"{placement}.arrows", sampling_rate_hz=rec.sampling_rate_hz, channels=("acc", "gyr"),
                        placement=placement, background=False)
        w.append(d.index.to_numpy(), {c: d[c].to_numpy() for c in d.columns}, {})
        w.close({"final": True})
    write_session_index(folder, [{"file": f"{p}.arrows", "placement": p} for p in placements])


def test_import_a_record_folder_and_choose_its_sensor(capsys, url, tmp_path):
    """A `backstride record` folder is imported like a file (it used to end in a traceback: a folder has no bytes to
    hash); a folder of two sensors, or a file that does not say where it was worn, needs --placement."""
    sample = Path(__file__).resolve().parents[1] / "sample_recordings" / "sim_lower_back_run.parquet"
    if not sample.exists():
        pytest.skip("sample recording absent")
    run(capsys, "runner", "add", "ana", "--journal", url)
    one, two = tmp_path / "one", tmp_path / "two"
    _record_folder(one, sample, ("lower-back",))
    _record_folder(two, sample, ("lower-back", "foot-left"))
    code, out, err = run(capsys, "import", str(one), "--journal", url)
    assert code == 0 and out.startswith(f"imported: {one} (analysis, run 1)"), err
    assert run(capsys, "import", str(one), "--journal", url)[1].startswith("duplicate")
    code, out, err = run(capsys, "import", str(two), "--journal", url)
    assert code == 1 and "2 sensors: foot-left, lower-back" in err and "--placement" in err and "Traceback" not in err
    code, out, err = run(capsys, "import", str(two), "--placement", "LowerBack", "--journal", url)
    assert code == 0, err  # the same samples as folder one: the same run, analysed again
    assert out.startswith(f"updated: {two} (analysis, run 1)")
    # a file that does not say where the sensor was worn: refused, naming --placement, nothing stored
    from sensing.formats import open_recording, write_parquet

    rec = open_recording(sample)
    rec.placement = None
    nowhere = write_parquet(rec, tmp_path / "nowhere.parquet")
    code, out, err = run(capsys, "import", str(nowhere), "--journal", url)
    assert code == 1 and "does not say where the sensor was worn" in err and "--placement" in err
    with Journal.open(url) as j:
        runs = j.runs()
        assert len(runs) == 1
        assert runs.iloc[0]["analysis_summary"]["running"]["steps"] > 0


def test_timeline_and_export(capsys, url, tmp_path):
    from journal.demo import load_demo

    load_demo(url)
    code, out, _ = run(capsys, "timeline", "--runner", "demo", "--weeks", "8", "--associations",
                       "--width", "200", "--journal", url)
    assert code == 0
    assert "Sat 08 Feb" in out and "+32% longer than recent long runs" in out
    assert "intervals before volume is back to usual" in out
    assert "worth discussing with a physiotherapist who works with runners" in out
    assert "no data" in out                     # the gap days
    assert "Pain rose after flagged days" in out
    assert "not causes" in out
    # the columns' abbreviations are explained once, below the tables
    flat = " ".join(out.split())
    assert "A:C: acute:chronic, the mean daily load of the last 7 days over that of the 21 days before" in flat
    assert "(flagged above 1.5: too much too soon)" in flat and "monotony: a week's mean daily load" in flat
    assert "AU: arbitrary units (minutes × the run's RPE, Foster's session load)" in flat
    code, out, _ = run(capsys, "timeline", "--runner", "demo", "--weeks", "2", "--load", "duration",
                       "--journal", url)
    assert code == 0 and "duration, min" in out and "arbitrary units" not in out
    out_csv = tmp_path / "demo.csv"
    assert run(capsys, "export", "--format", "csv", "--runner", "demo", "-o", str(out_csv), "--journal", url)[0] == 0
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert len(rows) == 56 and rows[0]["date"].startswith("2025-01-06")
    spike = next(r for r in rows if r["date"].startswith("2025-02-08"))
    assert float(spike["load"]) == 600.0 and "+32% longer" in spike["flags"]
    code, out, _ = run(capsys, "export", "--format", "json", "--runner", "demo", "--journal", url)
    doc = json.loads(out)
    assert doc["schema"] == "backstride.journal-export/1" and len(doc["runs"]) == 22
    code, out, _ = run(capsys, "export", "--format", "csv", "--table", "weekly", "--runner", "demo",
                       "--journal", url)
    assert out.splitlines()[0].startswith("week_start,load_known")
    # an earlier export is kept unless --force; a folder or a missing folder is named, no traceback
    out_csv.write_text("last month's export\n")
    code, _, err = run(capsys, "export", "--format", "csv", "--runner", "demo", "-o", str(out_csv), "--journal", url)
    assert code == 1 and "exists; nothing was written" in err and out_csv.read_text() == "last month's export\n"
    assert run(capsys, "export", "--format", "csv", "--runner", "demo", "-o", str(out_csv), "--force",
               "--journal", url)[0] == 0
    assert len(list(csv.DictReader(io.StringIO(out_csv.read_text())))) == 56
    assert not list(tmp_path.glob("*.part"))
    for target, said in ((tmp_path, "a folder; give a file name"), (tmp_path / "no" / "x.csv", "does not exist")):
        code, _, err = run(capsys, "export", "--format", "csv", "--runner", "demo", "-o", str(target), "--journal", url)
        assert code == 1 and said in err and "Traceback" not in err


def test_timeline_weeks_say_when_their_runs_gave_no_distance(capsys, url):
    """A week whose runs have no distance (typed without --km) is "–", not 0.0 km; one where only some do is a lower
    bound; a week without runs ran 0.0 km."""
    from datetime import date, timedelta

    monday = date(2026, 3, 2)
    with Journal.open(url) as j:
        j.add_runner("ana")
        for k in range(21):
            j.add_checkin(day=monday + timedelta(days=k), sleep_s=7 * 3600.0)
        j.add_run(start="2026-03-03T07:00", duration_s=1800.0, distance_m=5000.0, rpe=3)    # week 1: 5.0 + 6.2
        j.add_run(start="2026-03-05T07:00", duration_s=2100.0, distance_m=6200.0, rpe=3)
        j.add_run(start="2026-03-10T07:00", duration_s=1800.0, distance_m=5100.0, rpe=3)    # week 2: 5.1 + ?
        j.add_run(start="2026-03-12T07:00", duration_s=1800.0, rpe=3)
        # week 3 (16 Mar): no run
    code, out, _ = run(capsys, "timeline", "--weeks", "3", "--width", "200", "--journal", url)
    assert code == 0
    weeks = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[1:-1]]
             for line in out.splitlines() if line.startswith("│ ") and line.split("│")[1].strip()[:2].isdigit()}
    assert weeks["02 Mar"][3] == "11.2" and weeks["09 Mar"][3] == "≥ 5.1" and weeks["16 Mar"][3] == "0.0"
    with Journal.open(url) as j:
        j.add_run(start="2026-03-17T07:00", duration_s=1800.0, rpe=3)                       # week 3: ?
    code, out, _ = run(capsys, "timeline", "--weeks", "3", "--width", "200", "--journal", url)
    row = next(line for line in out.splitlines() if line.startswith("│ 16 Mar"))
    assert row.split("│")[4].strip() == "–"


def test_journal_defaults_to_the_environment_variable(capsys, tmp_path):
    assert run(capsys, "runner", "add", "ana")[0] == 0
    assert (tmp_path / "env-default.sqlite3").exists()


def test_import_without_a_runner_says_so_once_and_reads_no_file(capsys, url, tmp_path):
    """Two files into a journal with no runner: one error, before any file is read or analysed (it was the same error
    after each file's analysis), and nothing in the journal; with several runners and no --runner the same."""
    samples = Path(__file__).resolve().parents[1] / "sample_recordings"
    files = [str(samples / "sim_lower_back_run.parquet"), str(tmp_path / "missing.parquet")]
    code, out, err = run(capsys, "import", *files, "--journal", url)
    assert code == 1 and out == ""
    assert err.strip().splitlines() == ["error: the journal has no runner yet: add one with 'backstride runner add "
                                        "NAME'; nothing imported"]
    for name in ("a", "b"):
        assert run(capsys, "runner", "add", name, "--journal", url)[0] == 0
    code, _, err = run(capsys, "import", *files, "--journal", url)
    assert code == 1 and err.count("error:") == 1 and "several runners" in err and "nothing imported" in err
