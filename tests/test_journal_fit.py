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
    with pytest.raises(FileImportError, match="truncated: its header declares 5581 bytes of records, so 5597 bytes "
                                              "in all, and the file has 3000"):
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
    ("activity-unexpected-eof.fit", "truncated: its header declares 757 bytes of records, so 771 bytes in all, "
                                    "and the file has 768"),
    ("activity-settings-corruptheader.fit", "could not be decoded"),
    ("garmin-fenix-5-walk.fit", "no running session in this FIT file \\(sessions found: walking\\)"),
])
def test_shared_bad_fit_files_change_nothing(j, tmp_path, name, match):
    path = need_dataset(f"fit/{name}")
    with pytest.raises(FileImportError, match=match):
        j.import_fit(path)
    assert _count(tmp_path / "j.sqlite3", "runs") == 0 and _count(tmp_path / "j.sqlite3", "imports") == 0


# -- files built here with the FIT SDK's encoder: closed-form sessions, one fault each ----------------------------

START = datetime(2026, 3, 1, 7, 0, tzinfo=timezone.utc)


def _fit(start=START, n=600, speed_m_s=3.0, hr=150, sport="running", sub_sport="generic", session=None,
         records=None) -> bytes:
    """A FIT activity: ``n`` one-second records at ``speed_m_s`` and ``hr``, one session over them (fields of
    ``session`` override), records replaced by ``records(list) -> list`` when given."""
    from datetime import timedelta

    from garmin_fit_sdk import Encoder, Profile

    m = Profile["mesg_num"]
    e = Encoder()
    e.write_mesg({"mesg_num": m["FILE_ID"], "type": "activity", "manufacturer": "garmin", "product": 1,
                  "time_created": start, "serial_number": 1})
    recs = [{"mesg_num": m["RECORD"], "timestamp": start + timedelta(seconds=i), "distance": speed_m_s * i,
             "heart_rate": hr, "cadence": 85} for i in range(n)]
    for r in (records(recs) if records else recs):
        e.write_mesg(r)
    end = start + timedelta(seconds=n)
    e.write_mesg({"mesg_num": m["SESSION"], "timestamp": end, "start_time": start, "total_timer_time": float(n),
                  "total_elapsed_time": float(n), "total_distance": speed_m_s * n, "sport": sport,
                  "sub_sport": sub_sport, "avg_heart_rate": hr, "max_heart_rate": hr + 10, "avg_cadence": 85,
                  "first_lap_index": 0, "num_laps": 1, **(session or {})})
    e.write_mesg({"mesg_num": m["ACTIVITY"], "timestamp": end, "total_timer_time": float(n), "num_sessions": 1,
                  "type": "manual"})
    return e.close()


def _file(tmp_path, name, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.fixture
def jh(tmp_path):
    """A journal whose runner has heart-rate limits (TRIMP is computed)."""
    with Journal.open(f"sqlite:///{tmp_path / 'h.sqlite3'}") as journal:
        journal.add_runner("ana", timezone="Europe/Amsterdam", hr_rest_bpm=50, hr_max_bpm=190)
        yield journal


def test_a_chained_file_imports_its_new_session_and_skips_the_one_already_in(jh, tmp_path):
    """Two FIT files chained in one (as a watch's app exports several activities): the session already imported
    from another file is skipped and said, the new one imported (the whole file was a "duplicate" before)."""
    a = _fit(start=START)
    b = _fit(start=datetime(2026, 3, 2, 7, 0, tzinfo=timezone.utc))
    jh.import_fit(_file(tmp_path, "a.fit", a))
    res = jh.import_fit(_file(tmp_path, "ba.fit", b + a))
    assert res.status == "imported" and len(res.run_ids) == 1
    assert "2026-03-01 07:00 UTC is already in the journal (run 1, from a.fit); skipped" in res.message
    assert sorted(jh.runs()["start_utc"].dt.day) == [1, 2]
    twice = jh.import_fit(_file(tmp_path, "cc.fit", _fit(start=datetime(2026, 3, 5, tzinfo=timezone.utc)) * 2))
    assert len(twice.run_ids) == 1 and "in the file twice" in twice.message and len(jh.runs()) == 3
    # an upload is stored under its content's hash: the session it repeats is named by the browser's file name
    jh.import_file(_file(tmp_path, "0f3a9c.fit", _fit(start=datetime(2026, 3, 7, 7, 0, tzinfo=timezone.utc))),
                   name="Morning_Run.fit")
    again = jh.import_fit(_file(tmp_path, "dd.fit", _fit(start=datetime(2026, 3, 7, 7, 0, tzinfo=timezone.utc))
                                + _fit(start=datetime(2026, 3, 8, 7, 0, tzinfo=timezone.utc))))
    assert "is already in the journal (run 4, from Morning_Run.fit); skipped" in again.message


@pytest.mark.parametrize("fit_first", [True, False])
def test_a_watch_session_around_a_shorter_recording_gives_the_same_run_either_way(jh, tmp_path, fit_first):
    """A 2-h FIT session around a 6-min sensor analysis of the same outing: the run is 2 h and 21.6 km in either
    order (a merge once gave 21.6 km in 6 min), with the recording's form and not its 6-min step count."""
    fit = _file(tmp_path, "long.fit", _fit(start=START, n=7200))
    doc = {"schema": "backstride.analysis/1", "placement": "lower-back", "sampling_rate_hz": 100.0, "steps": [],
           "bouts": [], "warnings": [],
           "summary": {"start_utc": "2026-03-01T07:30:00+00:00", "duration_s": 360.0, "n_steps": 1000,
                       "impact_index_mean": 2.0, "rearfoot_share": 0.7}}
    results = [jh.import_fit(fit), jh.import_analysis(doc)] if fit_first else [jh.import_analysis(doc), jh.import_fit(fit)]
    assert results[1].status == "merged" and "covers" in results[1].message
    run = jh.runs().iloc[0]
    assert len(jh.runs()) == 1
    assert run["duration_s"] == pytest.approx(7200.0) and run["distance_m"] == pytest.approx(21600.0)
    assert run["start_utc"] == START and run["heel_strike_share"] == pytest.approx(0.7)
    for partial in ("steps_n", "mechanical_load_au"):  # counts and sums of the 6 minutes only: not the run's
        assert run[partial] is None or math.isnan(run[partial]), (partial, run[partial])
    # the same recording analysed again (a newer backstride): the watch's span and the run's counts stay
    jh.refresh_analysis(int(run["id"]), {**doc, "summary": {**doc["summary"], "rearfoot_share": 0.6}})
    run = jh.runs().iloc[0]
    assert run["duration_s"] == pytest.approx(7200.0) and run["heel_strike_share"] == pytest.approx(0.6)
    assert run["steps_n"] is None or math.isnan(run["steps_n"])


def test_a_watch_session_around_a_typed_run_keeps_what_was_typed(jh, tmp_path):
    """A run typed by hand (30 min, 5 km) and a 40-min FIT of the same outing: what was typed stays, the FIT fills
    what was not (its heart rate)."""
    jh.add_run(duration_s=1800.0, distance_m=5000.0, start=START.isoformat())
    res = jh.import_fit(_file(tmp_path, "w.fit", _fit(start=START, n=2400)))
    assert res.status == "merged" and "recording" not in res.message
    run = jh.runs().iloc[0]
    assert run["duration_s"] == pytest.approx(1800.0) and run["distance_m"] == pytest.approx(5000.0)
    assert run["avg_hr_bpm"] == pytest.approx(150.0) and run["start_utc"] == START


@pytest.mark.parametrize("start, said", [
    (datetime(1989, 12, 31, 0, 16, 40, tzinfo=timezone.utc), "a time since the watch started"),
    (datetime(2090, 1, 1, tzinfo=timezone.utc), "is in the future"),
])
def test_a_session_start_that_is_no_date_is_refused(jh, tmp_path, start, said):
    with pytest.raises(FileImportError, match=f"x.fit: session 1: start_time .*{said}"):
        jh.import_fit(_file(tmp_path, "x.fit", _fit(start=start)))
    assert len(jh.runs()) == 0


def test_records_written_twice_or_out_of_order_count_once(jh, tmp_path):
    """TRIMP integrates heart rate over time: records repeated or shuffled are read once each in time order, so
    the TRIMP is the clean file's (it was 2-7 times it), and the message says so."""
    import random

    clean = jh.import_fit(_file(tmp_path, "clean.fit", _fit()))
    trimp = jh.runs().set_index("id").loc[clean.run_ids[0], "trimp_au"]
    jh.delete_run(clean.run_ids[0])
    for name, change in (("twice.fit", lambda r: r + r), ("shuffled.fit", lambda r: random.Random(1).sample(r, len(r)))):
        res = jh.import_fit(_file(tmp_path, name, _fit(records=change)))
        assert "read in time order, each time once" in res.message
        assert jh.runs().set_index("id").loc[res.run_ids[0], "trimp_au"] == pytest.approx(trimp, rel=1e-6)
        jh.delete_run(res.run_ids[0])


@pytest.mark.parametrize("session, field, said", [
    ({"total_timer_time": 36000.0}, ("duration_s", 600.0), "total_timer_time 36000 s is longer than total_elapsed_time"),
    ({"total_distance": 0.0}, ("distance_m", None), "total_distance 0 for 10 min: taken as unknown"),
    ({"avg_cadence": 250}, ("cadence_spm", None), "avg_running_cadence reads 500 steps/min"),
])
def test_session_values_a_watch_cannot_report_are_said_and_not_stored(jh, tmp_path, session, field, said):
    res = jh.import_fit(_file(tmp_path, "x.fit", _fit(session=session)))
    assert said in res.message, res.message
    value = jh.runs().iloc[0][field[0]]
    assert (value is None or math.isnan(value)) if field[1] is None else value == pytest.approx(field[1])


def test_a_cycling_class_filed_under_running_and_range_errors_name_the_file(jh, tmp_path):
    with pytest.raises(FileImportError, match="spin.fit: no running session .*running/indoor_cycling"):
        jh.import_fit(_file(tmp_path, "spin.fit", _fit(sub_sport="indoor_cycling")))
    with pytest.raises(FileImportError, match="fast.fit: the running session at 2026-03-01 07:00 UTC: distance_m"):
        jh.import_fit(_file(tmp_path, "fast.fit", _fit(speed_m_s=20.0)))
    good = _fit()
    with pytest.raises(FileImportError, match=f"cut.fit: the FIT file is truncated: its header declares "
                                              f"{len(good) - 16} bytes of records, so {len(good)} bytes in all, "
                                              f"and the file has {len(good) // 2}"):
        jh.import_fit(_file(tmp_path, "cut.fit", good[:len(good) // 2]))
    assert len(jh.runs()) == 0


def test_an_upload_that_adds_nothing_is_not_kept_and_no_server_path_is_shown(tmp_path):
    """Through the dashboard's upload functions: a FIT file whose every session is in the journal already is a
    duplicate whose stored copy is removed again; the same content uploaded twice keeps the first (its run's) copy;
    the message names no path on the server."""
    import base64

    from dashboard.data import Settings, import_upload, store_upload

    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    with Journal.open(url) as journal:
        journal.add_runner("ana", timezone="UTC")
    settings = Settings(journal_url=url, data_dir=tmp_path / "data")
    settings.data_dir.mkdir()

    def upload(name, data):
        path, created = store_upload(settings, name, "data:;base64," + base64.b64encode(data).decode())
        return path, import_upload(settings, path, original_name=name, runner="ana", created=created)

    a = _fit()
    first, msg = upload("a.fit", a)
    assert "imported" in msg and first.exists()
    again, msg = upload("a-again.fit", a)  # the same bytes: the stored copy is the run's own
    assert again == first and "duplicate" in msg and first.exists()
    twice, msg = upload("a-twice.fit", a + a)  # new bytes, nothing new in them
    assert "duplicate" in msg and not twice.exists() and str(settings.data_dir) not in msg
    # two tabs upload the same new file at once: this tab stored it (created), the other's import made the run
    # first; this tab's import is a duplicate, and the file the other's run keeps stays
    b = _fit(start=datetime(2026, 3, 9, 7, 0, tzinfo=timezone.utc))
    stored, created = store_upload(settings, "b.fit", "data:;base64," + base64.b64encode(b).decode())
    assert created and "imported" in import_upload(settings, stored, original_name="b.fit", runner="ana")
    assert "duplicate" in import_upload(settings, stored, original_name="b.fit", runner="ana", created=True)
    assert stored.exists()
