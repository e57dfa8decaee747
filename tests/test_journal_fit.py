"""FIT import with real files.

``tests/data/garmin-fenix-5-run.fit`` (MIT, from python-fitparse; provenance in
``tests/data/README.md``) always runs; the other files come from
``../shared/datasets/fit/`` and skip when it is absent.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from conftest import need_dataset, open_copy, template_journal
from journal import FileImportError, Journal
from journal.fit import read_fit

FENIX5 = Path(__file__).parent / "data" / "garmin-fenix-5-run.fit"


@pytest.fixture(scope="module")
def _template(tmp_path_factory):
    return template_journal(tmp_path_factory, "ana", timezone="America/Los_Angeles")


@pytest.fixture
def j(tmp_path, _template):
    with open_copy(_template, tmp_path) as journal:
        yield journal


def _count(path, table):
    con = sqlite3.connect(path)
    try:
        return con.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        con.close()


def test_fenix5_run_values_in_si_units():
    a = read_fit(FENIX5)
    assert a.sha256 == "db12d0986f3b707802480d6a79bc6bf5d3061010ffe98a1b99115dd44e75f5be"
    assert (a.manufacturer, a.product) == ("garmin", "fenix5")
    assert (a.hr_rest_bpm, a.hr_max_bpm) == (47, 183)   # user profile and heart-rate zones of the watch
    assert a.skipped_sports == []
    (r,) = a.runs
    assert r.start_utc == datetime(2017, 6, 11, 14, 34, 9, tzinfo=timezone.utc)
    assert r.duration_s == pytest.approx(56.887)
    assert r.distance_m == pytest.approx(157.56)
    assert (r.avg_hr_bpm, r.max_hr_bpm) == (90, 112)
    # FIT cadence is strides/min: 2 × (83 + 0.671875) steps/min
    assert r.cadence_spm == pytest.approx(2 * (83 + 0.671875))
    assert r.vertical_oscillation_m == pytest.approx(0.0762)    # 76.2 mm
    assert r.stance_time_s == pytest.approx(0.2703)             # 270.3 ms
    assert r.stance_time_balance_left_pct == pytest.approx(52.39)
    assert r.step_length_m == pytest.approx(0.9717)             # 971.7 mm
    assert r.steps_n == 156                                     # 78 strides
    # watch local time: the activity's local timestamp is 7 h behind UTC (US Pacific, summer)
    assert r.local_date == date(2017, 6, 11)
    assert len(r.hr_bpm) == 21 and r.hr_bpm[0] == 61 and r.hr_bpm[-1] == 112


def test_fenix5_import_trimp_from_the_records(j, tmp_path):
    res = j.import_fit(FENIX5, rpe=3, kind="easy")
    assert res.status == "imported" and len(res.run_ids) == 1
    run = j.runs().iloc[0]
    assert run["source"] == "fit" and run["kind"] == "easy" and run["rpe"] == 3
    assert run["session_load_au"] == pytest.approx(56.887 / 60 * 3)
    # Banister TRIMP over the 21 heart-rate samples with the watch's rest 47 / max 183 (runner has none),
    # male weighting (sex not given): Σ Δt/60 · HRr · 0.64·e^(1.92·HRr), each sample's HR until the next one.
    a = read_fit(FENIX5)
    r = a.runs[0]
    expected = 0.0
    for k in range(len(r.hr_t_s) - 1):
        hrr = (r.hr_bpm[k] - 47) / (183 - 47)
        expected += (r.hr_t_s[k + 1] - r.hr_t_s[k]) / 60 * hrr * 0.64 * math.exp(1.92 * hrr)
    assert run["trimp_au"] == pytest.approx(expected)
    assert 0.2 < expected < 0.4  # under a minute at 60-112 bpm
    assert run["mechanical_load_au"] != run["mechanical_load_au"]  # NaN: no IMU recording


def test_same_fit_twice_does_nothing(j, tmp_path):
    assert j.import_fit(FENIX5).status == "imported"
    copy = tmp_path / "renamed.fit"
    copy.write_bytes(FENIX5.read_bytes())
    res = j.import_file(copy)
    assert res.status == "duplicate"  # same content under another name
    assert len(j.runs()) == 1 and _count(tmp_path / "j.sqlite3", "imports") == 1


def test_fit_with_the_same_run_but_other_bytes_is_a_duplicate(j, tmp_path, monkeypatch):
    """A second export of the same activity (other bytes, same run times) adds nothing."""
    import dataclasses

    import journal.fit

    j.import_fit(FENIX5)
    original = read_fit(FENIX5)
    monkeypatch.setattr(journal.fit, "read_fit", lambda path: dataclasses.replace(original, sha256="0" * 64))
    res = j.import_fit(FENIX5)
    assert res.status == "duplicate" and "already in the journal (run 1" in res.message
    assert len(j.runs()) == 1 and _count(tmp_path / "j.sqlite3", "imports") == 1


def test_fit_merges_with_an_analysis_of_the_same_run(j):
    doc = {"schema": "backstride.analysis/1", "placement": "lower-back", "sampling_rate_hz": 100.0,
           "steps": [], "bouts": [], "warnings": [],
           "summary": {"start_utc": "2017-06-11T14:34:10+00:00", "duration_s": 55.0, "n_steps": 150,
                       "impact_index_mean": 2.0, "rearfoot_share": 0.7}}
    first = j.import_analysis(doc)
    res = j.import_fit(FENIX5)
    assert res.status == "merged" and res.run_ids == first.run_ids
    run = j.runs().iloc[0]
    assert len(j.runs()) == 1
    assert run["mechanical_load_au"] == pytest.approx(300.0) and run["distance_m"] == pytest.approx(157.56)
    assert run["avg_hr_bpm"] == 90 and run["heel_strike_share"] == pytest.approx(0.7)


@pytest.mark.parametrize("content, match", [
    (b"", "not a FIT file"),
    (b"this is a text file, not a FIT file at all", "not a FIT file"),
    (b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT\x00\x00" + b"\x00" * 20, "damaged|not a FIT"),
])
def test_files_that_are_not_fit_are_refused(j, tmp_path, content, match):
    f = tmp_path / "bad.fit"
    f.write_bytes(content)
    with pytest.raises(FileImportError, match=match):
        j.import_file(f)
    assert _count(tmp_path / "j.sqlite3", "runs") == 0 and _count(tmp_path / "j.sqlite3", "imports") == 0


def test_truncated_fit_is_refused(j, tmp_path):
    f = tmp_path / "truncated.fit"
    f.write_bytes(FENIX5.read_bytes()[:3000])
    with pytest.raises(FileImportError, match="damaged"):
        j.import_file(f)
    assert _count(tmp_path / "j.sqlite3", "runs") == 0


# -- files from ../shared/datasets/fit (skip when absent) --------------------------------------------


@pytest.mark.shared_data
def test_shared_multisport_file_imports_only_the_run(j):
    path = need_dataset("fit/sample_mulitple_header.fit")
    res = j.import_fit(path)
    assert res.status == "imported" and len(res.run_ids) == 1
    assert "swimming" in res.message and "cycling" in res.message
    run = j.runs().iloc[0]
    assert run["start_utc"] == datetime(2018, 5, 27, 9, 23, 41, tzinfo=timezone.utc)
    assert run["duration_s"] == pytest.approx(2850.694) and run["distance_m"] == pytest.approx(9805.92)
    assert run["cadence_spm"] == pytest.approx(2 * (83 + 0.515625))
    assert run["stance_time_balance_left_pct"] == pytest.approx(51.66)
    assert run["steps_n"] == 7920


@pytest.mark.shared_data
def test_shared_fenix2_run_without_session_dynamics_averages_the_records(j):
    path = need_dataset("fit/activity-small-fenix2-run.fit")
    j.update_runner("ana", hr_rest_bpm=50, hr_max_bpm=190)
    j.import_fit(path)
    run = j.runs().iloc[0]
    assert run["duration_s"] == pytest.approx(2832.0) and run["distance_m"] == pytest.approx(9008.22)
    assert run["cadence_spm"] == pytest.approx(162.0)                # 2 × 81 strides/min
    assert run["vertical_oscillation_m"] == pytest.approx(0.1062)
    assert run["trimp_au"] > 0   # the file has no resting/maximum HR: the runner's own are used


@pytest.mark.shared_data
def test_shared_stryd_file(j):
    path = need_dataset("fit/developer-types-sample.fit")
    j.import_fit(path)
    run = j.runs().iloc[0]
    assert run["cadence_spm"] == pytest.approx(148.0)
    assert run["trimp_au"] != run["trimp_au"]  # NaN: no resting/maximum heart rate anywhere


@pytest.mark.shared_data
@pytest.mark.parametrize("name, match", [
    ("activity-unexpected-eof.fit", "damaged"),
    ("activity-settings-corruptheader.fit", "could not be decoded"),
    ("garmin-fenix-5-walk.fit", "no running session in this FIT file \\(sessions found: walking\\)"),
])
def test_shared_bad_fit_files_change_nothing(j, tmp_path, name, match):
    path = need_dataset(f"fit/{name}")
    with pytest.raises(FileImportError, match=match):
        j.import_fit(path)
    assert _count(tmp_path / "j.sqlite3", "runs") == 0 and _count(tmp_path / "j.sqlite3", "imports") == 0
