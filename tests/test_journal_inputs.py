"""The journal's inputs at their edges (a helper's fuzzing of the command line, session 22): each refused value is
named with its file or option, nothing already stored changes, and one bad file does not stop a batch."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from journal import Journal
from sensing.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_recordings" / "sim_lower_back_run.parquet"


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'j.sqlite3'}"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    """The sample run's analysis document, as `backstride analyse --json` writes it."""
    out = tmp_path_factory.mktemp("doc") / "run.json"
    assert main(["analyse", str(SAMPLE), "--quiet", "--json", str(out)]) == 0
    return json.loads(out.read_text())


def _day(date="2026-03-04", **kw):
    d = {"date": date, "wear_s": 50000.0, "sitting_s": 20000.0, "bouts_ge_30min": 3, "bouts_ge_2h": 1,
         "longest_sitting_s": 8000.0, "breaks_per_sitting_h": 2.0, "flags": []}
    d.update(kw)
    return d


def test_an_edited_report_with_figures_no_run_has_is_refused_by_file_and_field(capsys, url, tmp_path, report):
    """Cadence 5000 steps/min, a negative impact index (a negative mechanical load, which the weekly 10 % rule
    assumes never happens) and a 400° lean were stored as measured."""
    assert run(capsys, "runner", "add", "ana", "--journal", url)[0] == 0
    for field, value, said in (("cadence_spm", 5000.0, "cadence_spm: got 5000.0, expected a number from 30 to 300"),
                               ("impact_index", -50.0, "impact_index_mean: got -50.0"),
                               ("trunk_lean_fwd_deg", 400.0, "trunk_lean_fwd_deg: got 400.0")):
        doc = json.loads(json.dumps(report))
        for s in doc["steps"]:
            s[field] = value
        p = tmp_path / f"{field}.json"
        p.write_text(json.dumps(doc))
        code, _, err = run(capsys, "import", p, "--journal", url)
        assert code == 1 and f"{p}: {said}" in err
    with Journal.open(url) as j:
        assert len(j.runs()) == 0


def test_one_bad_file_does_not_stop_the_files_after_it(capsys, url, tmp_path, report):
    assert run(capsys, "runner", "add", "ana", "--journal", url)[0] == 0
    huge = json.loads(json.dumps(report))
    huge["steps"], huge["summary"]["running"]["steps"] = [], 1e20          # overflowed SQLite's integers
    (tmp_path / "a_huge.json").write_text(json.dumps(huge))
    (tmp_path / "b_deep.json").write_text("[" * 100_000 + "]" * 100_000)  # RecursionError in json
    (tmp_path / "c_good.json").write_text(json.dumps(report))
    code, out, err = run(capsys, "import", tmp_path / "a_huge.json", tmp_path / "b_deep.json",
                         tmp_path / "c_good.json", "--journal", url)
    assert code == 1 and "a_huge.json: steps: got 1e+20" in err and "b_deep.json: JSON nested deeper" in err
    assert "imported:" in out and "c_good.json" in out and "2 of 3 file(s) not imported" in err
    with Journal.open(url) as j:
        assert len(j.runs()) == 1


def test_a_journal_that_cannot_be_written_is_said_in_one_line(capsys, url, tmp_path):
    """A read-only journal (opened read-only here: SQLite's own mode, as a file on a read-only disk or another
    user's) reads, and a write is a one-line error instead of a 27-line traceback; what was stored stays."""
    assert run(capsys, "runner", "add", "ana", "--journal", url)[0] == 0
    read_only = f"sqlite:///file:{tmp_path / 'j.sqlite3'}?mode=ro&uri=true"
    code, out, _ = run(capsys, "runner", "list", "--journal", read_only)
    assert code == 0 and out.startswith("ana")
    for argv in (("runner", "add", "bob"), ("pain", "3", "--where", "lower-back", "--when", "after-run")):
        code, _, err = run(capsys, *argv, "--journal", read_only)
        assert code == 1 and "cannot write to it (attempt to write a readonly database); nothing was changed" in err
        assert "Traceback" not in err
    with Journal.open(url) as j:
        assert [r.name for r in j.runners()] == ["ana"]


def test_reports_and_days_dated_in_the_future_or_before_1970_are_refused(capsys, url, tmp_path, report):
    assert run(capsys, "runner", "add", "ana", "--journal", url)[0] == 0
    doc = json.loads(json.dumps(report))
    doc["recording"]["start_utc"] = "2099-05-15T17:30:00+00:00"
    (tmp_path / "future.json").write_text(json.dumps(doc))
    (tmp_path / "day.json").write_text(json.dumps(_day("2099-01-01")))
    (tmp_path / "old.json").write_text(json.dumps(_day("0226-11-01")))
    code, _, err = run(capsys, "import", tmp_path / "future.json", tmp_path / "day.json", tmp_path / "old.json",
                       "--journal", url)
    assert code == 1 and "future.json: the run starts 2099-05-15 17:30 UTC, in the future" in err
    assert "day.json: day 2099-01-01: date" in err and "old.json: day 0226-11-01: date" in err
    for argv in (("checkin", "--date", "0001-11-01", "--sleep-h", "7"), ("run", "add", "--start", "1026-11-01T07:00",
                                                                         "--duration-min", "30")):
        code, _, err = run(capsys, *argv, "--journal", url)
        assert code == 1 and "expected a date from 1970-01-01" in err and "is the year right?" in err


def test_sitting_days_whose_figures_contradict_each_other_are_refused(capsys, url, tmp_path):
    assert run(capsys, "runner", "add", "ana", "--journal", url)[0] == 0
    for bad, said in ((dict(bouts_ge_2h=1, longest_sitting_s=60.0, bouts_ge_30min=1), "longest_sitting_s: got 60.0"),
                      (dict(bouts_ge_30min=0, bouts_ge_2h=0, longest_sitting_s=9000.0), "bouts_ge_30min: got 0")):
        p = tmp_path / "d.json"
        p.write_text(json.dumps(_day(**bad)))
        code, _, err = run(capsys, "import", p, "--journal", url)
        assert code == 1 and f"d.json: day 2026-03-04: {said}" in err
    p.write_text(json.dumps([_day(), _day()]))
    code, _, err = run(capsys, "import", p, "--journal", url)
    assert code == 1 and "d.json: day 2026-03-04 is in it twice" in err          # was a Python repr, no file


def test_check_ins_of_one_day_together_hold_at_most_24_hours(capsys, url):
    assert run(capsys, "runner", "add", "ana", "--journal", url)[0] == 0
    assert run(capsys, "checkin", "--date", "2026-11-01", "--sitting-h", "20", "--journal", url)[0] == 0
    code, _, err = run(capsys, "checkin", "--date", "2026-11-01", "--standing-h", "5", "--journal", url)
    assert code == 1 and "--sitting-h + --standing-h: 20 h + 5 h on 2026-11-01 with what an earlier check-in" in err
    with Journal.open(url) as j:
        c = j.checkins().iloc[0]
        assert c["work_sitting_s"] == 20 * 3600 and c["work_standing_s"] != c["work_standing_s"]  # unchanged


def test_a_newer_journal_and_another_programs_database_are_left_alone(capsys, url, tmp_path):
    assert run(capsys, "runner", "add", "ana", "--journal", url)[0] == 0
    db = tmp_path / "j.sqlite3"
    with sqlite3.connect(db) as c:
        c.execute("UPDATE alembic_version SET version_num = '0099_from_a_newer_backstride'")
    code, _, err = run(capsys, "runner", "list", "--journal", url)
    assert code == 1 and "written by a newer backstride" in err and "Traceback" not in err
    other = tmp_path / "places.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    code, _, err = run(capsys, "runner", "list", "--journal", other)
    assert code == 1 and "a database of another program (tables moz_places)" in err
    with sqlite3.connect(other) as c:
        assert [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["moz_places"]


def test_numbers_past_what_the_journal_holds_are_refused_by_their_option(capsys, url):
    assert run(capsys, "runner", "add", "ana", "--journal", url)[0] == 0
    for argv, said in ((("run", "delete", "9223372036854775808"), "expected a run's id from 1 to"),
                       (("run", "list", "--weeks", "99999999999"), "expected weeks from 1 to 1040"),
                       (("run", "list", "--weeks", "-1"), "expected weeks from 1 to 1040"),
                       (("timeline", "--weeks", "0"), "expected weeks from 1 to 1040")):
        with pytest.raises(SystemExit) as info:
            main([*argv, "--journal", url])
        assert info.value.code == 2 and said in " ".join(capsys.readouterr().err.split())
    code, _, err = run(capsys, "pain", "3", "--where", "lower-back", "--when", "after-run", "--at", "0001-01-01T00:00",
                       "--journal", url)
    assert code == 1 and "--at: got '0001-01-01T00:00', expected a date from 1970-01-01" in err


def test_names_are_one_form_and_a_compact_date_is_a_date(capsys, url):
    assert run(capsys, "runner", "add", "José", "--journal", url)[0] == 0                       # composed é
    code, _, err = run(capsys, "runner", "add", "Jose\u0301", "--journal", url)                # e + combining accent
    assert code == 1 and "a name not yet in the journal" in err
    code, _, err = run(capsys, "runner", "add", "ana\tUTC", "--journal", url)
    assert code == 1 and "without tabs, line breaks or other control characters" in err
    code, _, err = run(capsys, "runner", "add", "bob", "--timezone", "", "--journal", url)
    assert code == 1 and "an IANA time zone" in err
    assert run(capsys, "run", "add", "--runner", "Jose\u0301", "--start", "20261105", "--duration-min", "30",
               "--journal", url)[0] == 0                                                      # found as José
    with Journal.open(url) as j:
        r = j.runs(runner="José").iloc[0]
        assert str(r["local_date"])[:10] == "2026-11-05" and not r["time_known"]            # a date alone, as 2026-11-05


def test_unlogged_days_taken_as_rest_are_shown_as_rest(capsys, url):
    assert run(capsys, "runner", "add", "u", "--journal", url)[0] == 0
    for d in ("05", "07", "08"):
        assert run(capsys, "run", "add", "--start", f"2026-10-{d}T07:00", "--duration-min", "40", "--rpe", "4",
                   "--journal", url)[0] == 0
    code, out, _ = run(capsys, "timeline", "--unlogged", "rest", "--weeks", "1", "--end", "2026-10-11", "--width", "200",
                       "--journal", url)
    tue = next(line for line in out.splitlines() if "Tue 06 Oct" in line)
    assert code == 0 and "rest" in tue and "?" not in tue and "no data" not in tue
    assert "taken as rest days" in out and "shown as unknown" not in out


def test_a_note_a_spreadsheet_would_run_is_exported_as_text(capsys, url):
    assert run(capsys, "runner", "add", "ana", "--journal", url)[0] == 0
    assert run(capsys, "run", "add", "--start", "2026-11-01T07:00", "--duration-min", "30", "--note",
               '=HYPERLINK("http://example.invalid","x")', "--journal", url)[0] == 0
    code, out, _ = run(capsys, "export", "--format", "csv", "--table", "runs", "--journal", url)
    assert code == 0 and "\"'=HYPERLINK(" in out


def test_setting_the_time_zone_later_puts_entries_on_its_days(capsys, url):
    """`runner add` without a zone says to set it later: entries made before kept their UTC day (a run at 12:30 on
    3 Nov in Auckland stayed on 2 Nov, after a later run); now they move to the zone's days, a date-only run keeps
    its date, a run a watch dated keeps the watch's day, and the command says how many moved."""
    assert run(capsys, "runner", "add", "kim", "--journal", url)[0] == 0                       # UTC
    assert run(capsys, "run", "add", "--start", "2026-11-02T23:30", "--duration-min", "30", "--journal", url)[0] == 0
    assert run(capsys, "run", "add", "--start", "2026-11-02", "--duration-min", "30", "--journal", url)[0] == 0
    assert run(capsys, "pain", "2", "--where", "lower-back", "--when", "after-run", "--at", "2026-11-02T23:50",
               "--journal", url)[0] == 0
    code, out, _ = run(capsys, "runner", "set", "kim", "--timezone", "Pacific/Auckland", "--journal", url)
    assert code == 0 and "2 run(s) and pain report(s) now fall on another day" in out
    with Journal.open(url) as j:
        runs = j.runs().set_index("id")
        assert str(runs.loc[1, "local_date"])[:10] == "2026-11-03"           # 12:30 on 3 Nov in Auckland (+13)
        assert str(runs.loc[2, "local_date"])[:10] == "2026-11-02"           # typed as a date: stays
        assert str(j.pain_reports().iloc[0]["local_date"])[:10] == "2026-11-03"
        # a watch's FIT file dates a run by the watch's clock (here +14 h, Kiritimati): that day stays
        import dataclasses
        from datetime import date

        from journal.fit import read_fit

        fit = ROOT / "tests" / "data" / "garmin-fenix-5-run.fit"
        a = read_fit(fit)
        a = dataclasses.replace(a, runs=[dataclasses.replace(x, local_date=date(2017, 6, 12)) for x in a.runs])
        j._import_fit(a, fit, None, j._rpe_kind(None, None))
        watch = j.runs().set_index("id").loc[3]
        assert str(watch["local_date"])[:10] == "2017-06-12" and watch["start_utc"].date() == date(2017, 6, 11)
    code, out, _ = run(capsys, "runner", "set", "kim", "--timezone", "Europe/Berlin", "--journal", url)
    assert code == 0 and "now fall on another day" not in out           # 23:30 UTC is 00:30 in Berlin too
    with Journal.open(url) as j:
        assert str(j.runs().set_index("id").loc[3, "local_date"])[:10] == "2017-06-12"


def test_the_sitting_days_backstride_writes_import_whatever_crosses_midnight(capsys, url, tmp_path):
    """A bout counts on the day it starts at its whole length while sitting_s is the day's own: three 31-min sits,
    the last from 23:59, and one 3-h sit from 23:00 give days whose bouts outgrow their sitting_s.  They were
    refused ("at most 2 bouts of 30 min", "longest at most sitting_s"), and a recording's whole import with them."""
    from datetime import datetime, timezone
    from types import SimpleNamespace

    import numpy as np

    from analysis.activity import CODE, sitting_bouts
    from analysis.days import day_summaries

    assert run(capsys, "runner", "add", "ana", "--journal", url)[0] == 0
    start = datetime(2026, 3, 4, 0, 0, tzinfo=timezone.utc)
    for name, sits in (("three", [(8 * 3600, 31 * 60), (12 * 3600, 31 * 60), (23 * 3600 + 59 * 60, 31 * 60)]),
                       ("long", [(23 * 3600, 3 * 3600)])):
        codes = np.full(2 * 86400, CODE["standing"], np.int8)  # a second per code, as the activity analysis gives
        for a, length in sits:
            codes[a:a + length] = CODE["sitting"]
        days = day_summaries(SimpleNamespace(codes=codes, t0_s=0.0, sitting_bouts=sitting_bouts(codes, 0.0)),
                             start, "UTC")
        first = next(d for d in days if d["date"] == "2026-03-04")
        assert first["longest_sitting_s"] > first["sitting_s"] or first["bouts_ge_30min"] * 1800 > first["sitting_s"]
        (tmp_path / f"{name}.json").write_text(json.dumps([d for d in days if d["sitting_s"] is not None]))
        code, out, err = run(capsys, "import", tmp_path / f"{name}.json", "--journal", url)
        assert code == 0 and ("imported" in out or "updated" in out), err          # (the same two days)
