"""The journal database: migrations, runners, checked writes, duplicate imports, export."""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from conftest import open_copy, template_journal
from journal import FileImportError, InvalidValueError, Journal, UnknownRunnerError
from journal import db as jdb
from journal import migrate
from journal.errors import JournalError

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(scope="module")
def _template(tmp_path_factory):
    return template_journal(tmp_path_factory, "ana", timezone="Europe/Amsterdam", hr_rest_bpm=50, hr_max_bpm=190,
                            sex="female")


@pytest.fixture
def j(tmp_path, _template):
    with open_copy(_template, tmp_path) as journal:
        yield journal


def _counts(path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("runners", "imports", "runs", "sitting_days", "pain_reports", "checkins",
                          "exercise_sessions")}
    finally:
        con.close()


def _analysis(start="2026-03-03T06:00:00+00:00", **summary):
    s = {"start_utc": start, "duration_s": 2400.0, "n_steps": 6800, "impact_index_mean": 1.25,
         "rearfoot_share": 0.6, "trunk_lean_fwd_deg": 8.5, "fatigue": {"trunk_lean_fwd_deg": {"change": 1.5}},
         "cadence_spm": 170.0}
    s.update(summary)
    return {"schema": "backstride.analysis/1", "placement": "lower-back", "sampling_rate_hz": 100.0,
            "steps": [], "bouts": [], "summary": s, "warnings": []}


def _day(d="2026-03-03", **kw):
    x = {"date": d, "sitting_s": 25000.0, "bouts_ge_30min": 5, "bouts_ge_2h": 1, "longest_sitting_s": 8000.0,
         "breaks_per_sitting_h": 1.5, "wear_s": 50000.0, "flags": ["sitting_bout_2h"]}
    x.update(kw)
    return x


# -- schema and migrations ----------------------------------------------------------------------


def test_migrations_from_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    engine = jdb.make_engine(url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.connect() as c:
        tables = set(sa.inspect(c).get_table_names())
        assert {"runners", "imports", "runs", "sitting_days", "pain_reports", "checkins",
                "exercise_sessions", "alembic_version"} <= tables
        # the migrations produce exactly the schema the models describe
        assert compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}),
                                jdb.Base.metadata) == []
        assert c.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("pragma foreign_keys").scalar() == 1
        assert c.exec_driver_sql("pragma synchronous").scalar() == 2  # FULL
    migrate.downgrade(engine, "base")
    with engine.connect() as c:
        assert set(sa.inspect(c).get_table_names()) == {"alembic_version"}
    migrate.upgrade(engine)  # and up again
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_open_migrates_and_reopening_keeps_data(tmp_path):
    path = tmp_path / "j.sqlite3"
    with Journal.open(path) as j:
        j.add_runner("ana")
    with Journal.open(f"sqlite:///{path}") as j:
        assert [r.name for r in j.runners()] == ["ana"]


def test_default_url_env_var_and_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(jdb.ENV_VAR, str(tmp_path / "x.sqlite3"))
    assert jdb.default_url() == f"sqlite:///{tmp_path / 'x.sqlite3'}"
    monkeypatch.setenv(jdb.ENV_VAR, "postgresql+psycopg://clinic@db/backstride")
    assert jdb.default_url() == "postgresql+psycopg://clinic@db/backstride"
    monkeypatch.delenv(jdb.ENV_VAR)
    import platformdirs

    expected = platformdirs.user_data_dir("backstride", appauthor=False)
    assert jdb.default_url() == f"sqlite:///{expected}/journal.sqlite3"  # computed only, never opened here
    monkeypatch.setenv(jdb.ENV_VAR, str(tmp_path / "y.sqlite3"))
    with Journal.open() as jj:
        assert jj.url == f"sqlite:///{tmp_path / 'y.sqlite3'}"
    assert (tmp_path / "y.sqlite3").exists()


# -- runners -----------------------------------------------------------------------------------


def test_runners(tmp_path):
    with Journal.open(tmp_path / "j.sqlite3") as j:
        with pytest.raises(UnknownRunnerError, match="no runner yet"):
            j.runner()
        j.add_runner("ana", timezone="Europe/Amsterdam")
        assert j.runner().name == "ana"  # the only runner
        j.add_runner("ben")
        with pytest.raises(UnknownRunnerError, match="several runners"):
            j.add_pain(3, where="lower-back-left", when="after-run")
        with pytest.raises(UnknownRunnerError, match="runners: ana, ben"):
            j.runner("cleo")
        with pytest.raises(InvalidValueError, match="not yet in the journal"):
            j.add_runner("ana")
        with pytest.raises(InvalidValueError, match="IANA"):
            j.add_runner("dora", timezone="Mars/Olympus")
        with pytest.raises(InvalidValueError, match="hr_rest_bpm"):
            j.add_runner("eve", hr_rest_bpm=190, hr_max_bpm=180)
        r = j.update_runner("ben", hr_rest_bpm=48, hr_max_bpm=185, sex="male")
        assert (r.hr_rest_bpm, r.hr_max_bpm, r.sex) == (48, 185, "male")
        assert [r.name for r in j.runners()] == ["ana", "ben"]


# -- checked writes: bad values change nothing ------------------------------------------------------


@pytest.mark.parametrize("call, match", [
    (lambda j: j.add_pain(12, where="lower-back-left", when="after-run"), "rating: got 12, expected a whole number from 0 to 10"),
    (lambda j: j.add_pain(-1, where="lower-back-left", when="after-run"), "rating"),
    (lambda j: j.add_pain(4.5, where="lower-back-left", when="after-run"), "whole number"),
    (lambda j: j.add_pain(4, where="neck", when="after-run"), "where: got 'neck', expected one of lower-back-centre"),
    (lambda j: j.add_pain(4, where="leg", when="yesterday"), "when"),
    (lambda j: j.add_pain(4, where="leg", when="after-run", at=datetime.now(timezone.utc) + timedelta(days=2)),
     "not in the future"),
    (lambda j: j.add_run(start="2026-03-01T07:30", duration_s=1800, distance_m=-3000), "distance_m: got -3000"),
    (lambda j: j.add_run(start="2026-03-01T07:30", duration_s=0), "duration_s"),
    (lambda j: j.add_run(start="2026-03-01T07:30", duration_s=1800, distance_m=60000), "m/s"),
    (lambda j: j.add_run(start="2026-03-01T07:30", duration_s=1800, rpe=11), "rpe: got 11"),
    (lambda j: j.add_run(start="2026-03-01T07:30", duration_s=1800, kind="jog"), "kind"),
    (lambda j: j.add_run(start="yesterday", duration_s=1800), "start"),
    (lambda j: j.add_run(start="2026-03-01T07:30", duration_s=float("nan")), "finite"),
    (lambda j: j.add_checkin(day="2026-03-01", sleep_quality=6), "sleep_quality"),
    (lambda j: j.add_checkin(day="2026-03-01", stress=0), "stress"),
    (lambda j: j.add_checkin(day="2026-03-01", sleep_s=25 * 3600), "sleep_s"),
    (lambda j: j.add_checkin(day="2026-03-01", work_sitting_s=20 * 3600, work_standing_s=5 * 3600), "24 h"),
    (lambda j: j.add_checkin(day="2026-03-01", lifting="crates"), "lifting"),
    (lambda j: j.add_checkin(day=date.today() + timedelta(days=3)), "not after today"),
    (lambda j: j.add_exercise("plank", day="2026-03-01"), "sets, the duration, or both"),
    (lambda j: j.add_exercise("plank", sets=0, day="2026-03-01"), "sets"),
    (lambda j: j.add_exercise("plank", sets=3, category="cardio", day="2026-03-01"), "category"),
    (lambda j: j.add_day(_day(sitting_s=60000.0)), "sitting_s: got 60000.0, expected at most wear_s"),
    (lambda j: j.add_day(_day(longest_sitting_s=100000.0)), "longest_sitting_s"),
    (lambda j: j.add_day(_day(bouts_ge_2h=9)), "bouts_ge_2h"),
    (lambda j: j.add_day(_day(date="2026-02-30")), "date"),
    (lambda j: j.add_days([_day("2026-03-03"), _day("2026-03-04", sitting_s=-5.0)]), "sitting_s"),
    (lambda j: j.import_analysis(dict(_analysis(), schema="backstride.analysis/0")), "schema"),
    (lambda j: j.import_analysis({k: v for k, v in _analysis().items() if k != "steps"}), "lacks steps"),
    (lambda j: j.import_analysis(_analysis(rearfoot_share=1.4)), "rearfoot_share"),
    (lambda j: j.import_analysis(_analysis(start=None)), "no start time"),
])
def test_bad_values_are_refused_and_change_nothing(j, tmp_path, call, match):
    before = _counts(tmp_path / "j.sqlite3")
    with pytest.raises(JournalError, match=match):
        call(j)
    assert _counts(tmp_path / "j.sqlite3") == before


# -- entries -----------------------------------------------------------------------------------


def test_run_typed_by_hand_and_local_dates(j):
    # 23:30 UTC on 2 March is 00:30 on 3 March in Amsterdam
    rid = j.add_run(start=datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc), duration_s=2700, distance_m=8000,
                    rpe=4, kind="easy", avg_hr_bpm=150)
    runs = j.runs()
    r = runs.iloc[0]
    assert r["id"] == rid and r["local_date"] == date(2026, 3, 3)
    assert r["session_load_au"] == pytest.approx(45 * 4)
    # TRIMP from the mean heart rate, female weighting: 45 min × HRr × 0.86·e^(1.67·HRr), HRr = 100/140
    import math
    hrr = 100 / 140
    assert r["trimp_au"] == pytest.approx(45 * hrr * 0.86 * math.exp(1.67 * hrr))
    # a naive time is the runner's local time; a date alone is placed at noon
    j.add_run(start="2026-03-04T07:00", duration_s=1800)
    j.add_run(start="2026-03-05", duration_s=1800)
    runs = j.runs()
    assert runs.iloc[1]["start_utc"] == datetime(2026, 3, 4, 6, 0, tzinfo=timezone.utc)
    assert runs.iloc[2]["start_utc"] == datetime(2026, 3, 5, 11, 0, tzinfo=timezone.utc)
    j.set_run(rid, rpe=6, kind="tempo")
    r = j.runs().iloc[0]
    assert (r["rpe"], r["kind"], r["session_load_au"]) == (6, "tempo", pytest.approx(270))
    with pytest.raises(InvalidValueError, match="run_id"):
        j.set_run(999, rpe=3)
    j.delete_run(rid)
    assert len(j.runs()) == 2


def test_a_run_typed_twice_is_refused_and_the_first_kept(j):
    rid = j.add_run(start="2026-03-04T07:00", duration_s=2400, rpe=4)
    # the same run again, or one starting 10 min into it: its load would count twice
    for start in ("2026-03-04T07:00", "2026-03-04T07:10"):
        with pytest.raises(InvalidValueError, match=f"run {rid} \\(2026-03-04 07:00, 40 min\\) is then"):
            j.add_run(start=start, duration_s=2400, rpe=4)
    # later the same day, and a run given by its date alone, are other runs
    j.add_run(start="2026-03-04T18:00", duration_s=1800, rpe=3)
    j.add_run(start="2026-03-04", duration_s=1800, rpe=3)
    assert len(j.runs()) == 3 and j.runs().iloc[0]["id"] == rid


def test_pain_checkin_exercise(j):
    pid = j.add_pain(4, where="lower-back", when="after-run", at="2026-03-03T21:00", note="after the long run")
    p = j.pain_reports().iloc[0]
    assert p["id"] == pid and p["rating"] == 4 and p["location"] == "lower-back-centre"  # alias
    assert p["timing"] == "after-run" and p["local_date"] == date(2026, 3, 3)
    assert p["reported_utc"] == datetime(2026, 3, 3, 20, 0, tzinfo=timezone.utc)
    j.add_checkin(day="2026-03-03", sleep_s=7 * 3600, sleep_quality=4, stress=2)
    j.add_checkin(day="2026-03-03", stress=4, lifting="heavy")  # completes, keeps the sleep
    c = j.checkins()
    assert len(c) == 1
    assert (c.iloc[0]["sleep_s"], c.iloc[0]["sleep_quality"], c.iloc[0]["stress"], c.iloc[0]["lifting"]) == (
        7 * 3600, 4, 4, "heavy")
    j.add_exercise("plank", sets=3, day="2026-03-03")
    j.add_exercise("sun salutation", category="mobility", duration_s=300, day="2026-03-03")
    e = j.exercises()
    assert list(e["name"]) == ["plank", "sun salutation"] and list(e["category"]) == ["core", "mobility"]


def test_analysis_import_stores_summary_and_derives_loads(j):
    doc = _analysis()
    res = j.import_analysis(doc, rpe=4, kind="easy", recording_path="rec/2026-03-03.parquet")
    assert res.status == "imported" and len(res.run_ids) == 1
    r = j.runs().iloc[0]
    assert r["analysis_summary"] == doc["summary"]               # stored as given
    assert r["recording_path"] == "rec/2026-03-03.parquet"
    assert r["mechanical_load_au"] == pytest.approx(6800 * 1.25)  # steps × mean impact
    assert r["heel_strike_share"] == pytest.approx(0.6)
    assert r["trunk_lean_fwd_drift_deg"] == pytest.approx(1.5)
    assert r["duration_s"] == 2400 and r["session_load_au"] == pytest.approx(40 * 4)
    assert r["local_date"] == date(2026, 3, 3)
    # the same content again: nothing happens
    again = j.import_analysis(json.loads(json.dumps(doc)))
    assert again.status == "duplicate"
    assert len(j.runs()) == 1


def test_analysis_figures_from_steps_when_the_summary_lacks_them(j):
    # 20 steps: strike labels 12 rearfoot of 18 classified; trunk lean 8° for the first 16 and 11° for the last 4
    steps = []
    for i in range(20):
        steps.append({"t_s": i * 0.35, "strike": "rearfoot" if i < 12 else ("midfoot" if i < 18 else None),
                      "trunk_lean_fwd_deg": 8.0 if i < 16 else 11.0, "impact_index": 1.0 + (i % 2) * 0.5})
    doc = _analysis()
    doc["summary"] = {"start_utc": "2026-03-05T06:00:00+00:00"}
    doc["steps"] = steps
    doc["bouts"] = [{"start_s": 0.0, "end_s": 600.0}, {"start_s": 700.0, "end_s": 1000.0}]
    j.import_analysis(doc)
    r = j.runs().iloc[0]
    assert r["duration_s"] == pytest.approx(900.0)           # Σ bouts 600 + 300
    assert r["steps_n"] == 20
    assert r["impact_index_mean"] == pytest.approx(1.25)     # half at 1.0, half at 1.5
    assert r["mechanical_load_au"] == pytest.approx(25.0)
    assert r["heel_strike_share"] == pytest.approx(12 / 18)
    assert r["trunk_lean_fwd_deg"] == pytest.approx((16 * 8 + 4 * 11) / 20)
    assert r["trunk_lean_fwd_drift_deg"] == pytest.approx(3.0)  # last fifth (4 steps) 11° − first fifth 8°


def test_analysis_of_a_run_already_in_the_journal_is_merged(j):
    rid = j.add_run(start="2026-03-03T07:00", duration_s=2500, distance_m=7000, rpe=3, kind="easy")
    res = j.import_analysis(_analysis(start="2026-03-03T06:01:00+00:00"))  # 07:01 local, overlaps
    assert res.status == "merged" and res.run_ids == (rid,)
    runs = j.runs()
    assert len(runs) == 1
    assert runs.iloc[0]["duration_s"] == 2500 and runs.iloc[0]["mechanical_load_au"] == pytest.approx(8500)
    # a re-analysis of the same run (different content) replaces the form figures
    res = j.import_analysis(_analysis(start="2026-03-03T06:01:00+00:00", rearfoot_share=0.4))
    assert res.status == "updated"
    assert j.runs().iloc[0]["heel_strike_share"] == pytest.approx(0.4)
    # a run on another day is a new run
    assert j.import_analysis(_analysis(start="2026-03-04T06:00:00+00:00")).status == "imported"
    assert len(j.runs()) == 2


def test_refreshing_a_runs_analysis_replaces_its_figures_and_keeps_what_was_typed(j):
    """The same recording analysed again (by a newer version) and imported on a shifted start: the run is found by
    its id, not by time; its form figures follow the new analysis, its start, RPE, kind and note stay."""
    rid = j.import_analysis(_analysis(), rpe=4, kind="easy").run_ids[0]
    j.set_run(rid, note="windy")
    new = _analysis(start="2026-03-10T06:00:00+00:00", duration_s=2460.0, n_steps=7000, impact_index_mean=1.5,
                    rearfoot_share=0.25, trunk_lean_fwd_deg=6.0, fatigue={"trunk_lean_fwd_deg": {"change": -0.5}},
                    cadence_spm=175.0)
    changed = j.refresh_analysis(rid, new)
    assert changed == {"steps_n": (6800, 7000), "impact_index_mean": (1.25, 1.5),
                       "mechanical_load_au": (6800 * 1.25, 7000 * 1.5), "heel_strike_share": (0.6, 0.25),
                       "trunk_lean_fwd_deg": (8.5, 6.0), "trunk_lean_fwd_drift_deg": (1.5, -0.5),
                       "cadence_spm": (170.0, 175.0), "duration_s": (2400.0, 2460.0)}
    r = j.runs().iloc[0]
    assert len(j.runs()) == 1 and r["analysis_summary"] == new["summary"]
    assert (r["rpe"], r["kind"], r["note"], r["local_date"]) == (4, "easy", "windy", date(2026, 3, 3))
    assert r["session_load_au"] == pytest.approx(41 * 4)  # the new running duration × RPE
    assert j.refresh_analysis(rid, new) == {}  # nothing left to change
    # the old document is still known: importing it again changes nothing
    assert j.import_analysis(_analysis()).status == "duplicate"

    # a typed run the analysis was merged into keeps its typed duration
    typed = j.add_run(start="2026-03-05T07:00", duration_s=2500, rpe=3)
    j.import_analysis(_analysis(start="2026-03-05T06:01:00+00:00"))
    assert set(j.refresh_analysis(typed, _analysis(start="2026-03-05T06:01:00+00:00", cadence_spm=160.0))) == {
        "cadence_spm"}
    assert j.runs().set_index("id").loc[typed, "duration_s"] == 2500
    # a run without an analysis, a bad document, someone else's run: refused, nothing changes
    bare = j.add_run(start="2026-03-07T07:00", duration_s=1800)
    with pytest.raises(InvalidValueError, match="imported with an analysis"):
        j.refresh_analysis(bare, new)
    with pytest.raises(FileImportError, match="schema"):
        j.refresh_analysis(rid, dict(new, schema="backstride.analysis/0"))
    j.add_runner("bo")
    with pytest.raises(InvalidValueError, match="ana's runs|one of"):
        j.refresh_analysis(rid, new, runner="bo")
    assert j.runs(runner="ana").set_index("id").loc[rid, "heel_strike_share"] == pytest.approx(0.25)


def test_heart_rate_strap_recorded_beside_the_imu_gives_the_run_its_heart_rate(j, tmp_path):
    """A live session folder with heart_rate.arrows: mean/max heart rate and TRIMP, the link drop not filled."""
    from sensing.chunked import EventWriter

    t0 = datetime(2026, 3, 3, 6, 0, tzinfo=timezone.utc)
    folder = tmp_path / "session"
    w = EventWriter(folder / "heart_rate.arrows", kind="heart_rate", placement="chest", profile="heart-rate",
                    session_start_utc=t0 - timedelta(seconds=5), background=False)
    for t in list(range(0, 300)) + list(range(330, 601)):  # 1 Hz, the strap's link lost 299 s → 330 s
        row = {"hr_bpm": 150.0, "rr_s": [0.4], "contact": True}
        if t == 450:
            row = {"hr_bpm": 0.0, "rr_s": [], "contact": False}  # no skin contact: not a heart rate
        w.append([{"host_utc_s": t0.timestamp() + t, **row}], {"link_drops": 0})
    w.close({"final": True, "link_drops": 1, "events": [
        {"type": "link_drop", "lost_at_utc_s": t0.timestamp() + 299.5, "resumed_utc_s": t0.timestamp() + 329.5}]})
    res = j.import_analysis(_analysis(start=t0.isoformat()), recording_path=str(folder / "lower-back.arrows"))
    run = j.runs().iloc[0]
    assert res.status == "imported"
    assert run["avg_hr_bpm"] == 150.0 and run["max_hr_bpm"] == 150.0
    # Banister (female, ana: rest 50, max 190): minutes x HRr x 0.86 e^(1.67 HRr), over 299 s + 270 s;
    # the 31 s across the link drop are not counted
    hrr = (150 - 50) / (190 - 50)
    assert run["trimp_au"] == pytest.approx((299 + 270) / 60 * hrr * 0.86 * math.exp(1.67 * hrr), rel=1e-9)
    assert res.message == ""


def test_unreadable_heart_rate_file_imports_the_run_and_says_so(j, tmp_path):
    """A damaged heart_rate.arrows loses nothing: the run is imported from its analysis, the user told why no heart rate."""
    folder = tmp_path / "session"
    folder.mkdir()
    (folder / "heart_rate.arrows").write_bytes(b"this is not an Arrow stream")
    res = j.import_analysis(_analysis(start="2026-03-03T06:00:00+00:00"), recording_path=str(folder / "lower-back.arrows"))
    assert res.status == "imported"
    assert "imported without heart rate" in res.message and "heart_rate.arrows" in res.message
    run = j.runs().iloc[0]
    assert run["steps_n"] > 0 and run["avg_hr_bpm"] != run["avg_hr_bpm"] and run["trimp_au"] != run["trimp_au"]  # NaN: none


def test_a_heart_rate_file_damaged_in_the_middle_gives_its_heart_rate_and_says_what_was_skipped(j, tmp_path):
    """A chunk of heart_rate.arrows damaged on disk: the measurements around it give the run its heart rate, and the
    import says which bytes were skipped."""
    from conftest import arrow_message_offsets
    from sensing.chunked import EventWriter

    t0 = datetime(2026, 3, 3, 6, 0, tzinfo=timezone.utc)
    folder = tmp_path / "session"
    path = folder / "heart_rate.arrows"
    w = EventWriter(path, kind="heart_rate", placement="chest", profile="heart-rate", session_start_utc=t0,
                    background=False)
    for t in range(0, 600):
        w.append([{"host_utc_s": t0.timestamp() + t, "hr_bpm": 150.0, "rr_s": [0.4], "contact": True}],
                 {"link_drops": 0})
    w.close({"final": True, "link_drops": 0, "events": []})
    offs = arrow_message_offsets(path)  # schema, then one chunk per notification
    data = bytearray(path.read_bytes())
    data[offs[300]:offs[300] + 4] = b"\x00\x00\x00\x01"
    path.write_bytes(bytes(data))
    res = j.import_analysis(_analysis(start=t0.isoformat()), recording_path=str(folder / "lower-back.arrows"))
    assert res.status == "imported" and j.runs().iloc[0]["avg_hr_bpm"] == 150.0
    assert (f"heart rate: {path}: bytes {offs[300]}-{offs[301]} are damaged (after the measurement of 2026-03-03 "
            "06:04:") in res.message, res.message


def test_sitting_days_duplicate_update_and_all_or_none(j, tmp_path):
    assert j.add_day(_day()).status == "imported"
    assert j.add_day(_day()).status == "duplicate"
    assert j.add_day(_day(sitting_s=20000.0)).status == "updated"
    d = j.sitting_days()
    assert len(d) == 1 and d.iloc[0]["sitting_s"] == 20000 and d.iloc[0]["flags"] == ["sitting_bout_2h"]
    # a JSON file with a list of days: one bad day -> none stored
    f = tmp_path / "days.json"
    f.write_text(json.dumps([_day("2026-03-04"), _day("2026-03-05", bouts_ge_30min=-1)]))
    with pytest.raises(FileImportError, match=r"days.json: day 2026-03-05: bouts_ge_30min: got -1"):  # file and day
        j.import_file(f)
    assert len(j.sitting_days()) == 1
    f.write_text(json.dumps([_day("2026-03-04"), _day("2026-03-05")]))
    assert j.import_file(f).status == "imported"
    assert j.import_file(f).status == "duplicate"
    assert len(j.sitting_days()) == 3


def test_import_file_refuses_unknown_content(j, tmp_path):
    f = tmp_path / "x.json"
    f.write_text('{"hello": 1}')
    with pytest.raises(FileImportError, match="neither an analysis document"):
        j.import_file(f)
    f.write_text("{not json")
    with pytest.raises(FileImportError, match="not valid JSON"):
        j.import_file(f)
    with pytest.raises(FileImportError, match="unknown file type"):
        j.import_file(tmp_path / "x.csv")
    with pytest.raises(FileImportError, match="cannot read"):
        j.import_file(tmp_path / "missing.fit")


def test_runners_are_kept_apart(j):
    j.add_runner("ben")
    doc = _analysis()
    assert j.import_analysis(doc, runner="ana").status == "imported"
    assert j.import_analysis(doc, runner="ben").status == "imported"  # same file, other runner
    j.add_pain(5, where="leg-left", when="during-run", runner="ben", at="2026-03-03T07:00")
    assert len(j.pain_reports(runner="ana")) == 0 and len(j.pain_reports(runner="ben")) == 1
    assert len(j.runs(runner="ana")) == 1 and len(j.runs(runner="ben")) == 1


def test_export_json_and_csv(j):
    j.add_run(start="2026-03-03T07:00", duration_s=2400, distance_m=7000, rpe=3, kind="easy")
    j.add_pain(3, where="lower-back-left", when="next-morning", at="2026-03-04T07:30")
    j.add_checkin(day="2026-03-04", sleep_s=7 * 3600)
    doc = j.export_json(weeks=1, end="2026-03-08")
    text = json.dumps(doc, allow_nan=False)  # no NaN leaks into JSON
    assert doc["schema"] == "backstride.journal-export/1"
    assert doc["runner"]["name"] == "ana" and len(doc["runs"]) == 1 and len(doc["pain_reports"]) == 1
    daily = {row["date"][:10]: row for row in doc["timeline"]["daily"]}
    assert len(daily) == 7  # Monday 2 March to Sunday 8 March
    assert daily["2026-03-03"]["load"] == pytest.approx(120.0)
    assert daily["2026-03-05"]["load"] is None  # nothing logged: unknown
    assert daily["2026-03-04"]["pain"] == 3
    assert "2026-03-03" in text
    csv_text = j.export_csv("timeline", weeks=1, end="2026-03-08")
    header = csv_text.splitlines()[0].split(",")
    assert header[0] == "date" and "load" in header and "flags" in header and "acwr" in header
    assert len(csv_text.strip().splitlines()) == 8
    runs_csv = j.export_csv("runs")
    assert "session_load_au" in runs_csv.splitlines()[0]


def test_a_concurrent_import_of_the_same_content_reports_a_duplicate(j, tmp_path, monkeypatch):
    """With several clients (PostgreSQL), both may pass the 'seen?' check; the unique constraint decides."""
    doc = _analysis()
    assert j.import_analysis(doc).status == "imported"
    real_seen = Journal._seen
    calls = {"n": 0}

    def seen_once_false(s, r, sha256):
        calls["n"] += 1
        return False if calls["n"] == 1 else real_seen(s, r, sha256)  # the other client has not committed yet

    monkeypatch.setattr(Journal, "_seen", staticmethod(seen_once_false))
    res = j.import_analysis(json.loads(json.dumps(doc)))
    assert res.status == "duplicate" and "same moment" in res.message
    assert _counts(tmp_path / "j.sqlite3")["runs"] == 1 and _counts(tmp_path / "j.sqlite3")["imports"] == 1


def test_all_day_analysis_stores_its_days_with_the_run_or_alone(j):
    """An all-day recording's analysis (issue 3's JSON) brings its sitting days into the journal."""
    doc = _analysis(start="2026-03-04T06:00:00+00:00")
    doc["days"] = [_day("2026-03-04", sitting_s=30000.0, longest_sitting_s=9000.0)]
    res = j.import_analysis(doc)
    assert res.status == "imported" and len(res.run_ids) == 1 and res.dates == (date(2026, 3, 4),)
    days = j.sitting_days()
    assert len(days) == 1 and days.iloc[0]["sitting_s"] == 30000.0
    # a working day without a run: only the days are stored
    desk = _analysis(start="2026-03-05T06:00:00+00:00", duration_s=None)
    desk["summary"].pop("duration_s")
    desk["days"] = [_day("2026-03-05")]
    res = j.import_analysis(desk)
    assert res.kind == "day" and res.run_ids == () and len(j.sitting_days()) == 2 and len(j.runs()) == 1
    # a bad day summary refuses the whole document: neither the run nor any day is stored
    bad = _analysis(start="2026-03-06T06:00:00+00:00")
    bad["days"] = [_day("2026-03-06"), _day("2026-03-07", sitting_s=90000.0)]
    with pytest.raises(InvalidValueError, match="sitting_s"):
        j.import_analysis(bad)
    assert len(j.runs()) == 1 and len(j.sitting_days()) == 2


def test_an_all_day_recordings_run_starts_when_the_running_does(j):
    """A recording that starts at 06:30 UTC and whose running bout begins 31115 s later (the workday sample's run)
    is a run at 15:08:35 UTC, not at 06:30; without bouts the recording's start stays."""
    doc = _analysis(start="2026-05-04T06:30:00+00:00")
    doc["bouts"] = [{"start_s": 120.0, "end_s": 1320.0, "activity": "walking"},
                    {"start_s": 31115.0, "end_s": 32915.0, "activity": "running"}]
    rid = j.import_analysis(doc).run_ids[0]
    r = j.runs().set_index("id").loc[rid]
    assert r["start_utc"] == datetime(2026, 5, 4, 15, 8, 35, tzinfo=timezone.utc)
    rid2 = j.import_analysis(_analysis(start="2026-05-06T06:30:00+00:00")).run_ids[0]
    assert j.runs().set_index("id").loc[rid2, "start_utc"] == datetime(2026, 5, 6, 6, 30, tzinfo=timezone.utc)
    # a 25-s dash for the bus at 06:31 is not the start of the 30-min run at 07:00
    dash = _analysis(start="2026-05-08T06:30:00+00:00")
    dash["bouts"] = [{"start_s": 60.0, "end_s": 85.0, "activity": "running"},
                     {"start_s": 1800.0, "end_s": 3600.0, "activity": "running"}]
    rid3 = j.import_analysis(dash).run_ids[0]
    assert j.runs().set_index("id").loc[rid3, "start_utc"] == datetime(2026, 5, 8, 7, 0, tzinfo=timezone.utc)


def test_a_newer_analysis_of_the_same_recording_updates_its_run_as_refresh_would(j):
    """Importing a newer analysis of a recording already in the journal: the same run (found by its recording even
    where its start moved: older versions dated an all-day recording's run at the recording's start), with the
    figures refresh_analysis gives (cadence and running duration too), so the Run page has nothing to flag."""
    recording = {"start_utc": "2026-05-04T06:30:00+00:00", "duration_s": 37117.5}
    old = dict(_analysis(start="2026-05-04T06:30:00+00:00"), recording=recording)  # older version: no bouts, 06:30
    rid = j.import_analysis(old, recording_path="rec/day.parquet", rpe=3).run_ids[0]
    new = _analysis(start="2026-05-04T06:30:00+00:00", cadence_spm=172.0, duration_s=1800.0, rearfoot_share=0.3)
    new["recording"] = recording
    new["bouts"] = [{"start_s": 31115.0, "end_s": 32915.0, "activity": "running"}]
    res = j.import_analysis(new, recording_path="rec/day.parquet")
    assert res.status == "updated" and res.run_ids == (rid,) and len(j.runs()) == 1
    r = j.runs().iloc[0]
    assert (r["cadence_spm"], r["duration_s"], r["heel_strike_share"], r["rpe"]) == (172.0, 1800.0, 0.3, 3)
    assert j.refresh_analysis(rid, new) == {}
    # the next day's recording written to the same file name is another run
    other = dict(_analysis(start="2026-05-05T06:30:00+00:00"), recording={"start_utc": "2026-05-05T06:30:00+00:00",
                                                                           "duration_s": 3000.0})
    res = j.import_analysis(other, recording_path="rec/day.parquet")
    assert res.status == "imported" and len(j.runs()) == 2


def test_a_short_recordings_day_is_not_stored_and_the_import_says_so(j, tmp_path):
    """``backstride analyse`` of a 7-min run gives a day worn too little to measure (sitting_s null, flag
    insufficient-wear, analysis.days): the run is imported, the day left out and named; a file of such days only is
    refused with its name; a bad day's error names the file and the day."""
    short = {**_day("2026-03-08", wear_s=420.0, sitting_s=None, bouts_ge_30min=0, bouts_ge_2h=0,
                    longest_sitting_s=0.0, breaks_per_sitting_h=None), "flags": ["insufficient-wear"]}
    doc = _analysis(start="2026-03-08T06:00:00+00:00")
    doc["days"] = [short]
    res = j.import_analysis(doc)
    assert res.status == "imported" and len(res.run_ids) == 1 and res.dates == ()
    assert res.message == ""  # 7 min worn: no day anyone expected, nothing to say
    assert len(j.sitting_days()) == 0
    short["wear_s"] = 5 * 3600.0  # half a day worn: say why it is not stored
    doc = _analysis(start="2026-03-08T16:00:00+00:00")
    doc["days"] = [short]
    res = j.import_analysis(doc)
    assert "2026-03-08 not stored" in res.message and "worn too little" in res.message
    # with a measured day beside it, that one is stored
    both = _analysis(start="2026-03-09T06:00:00+00:00")
    both["days"] = [_day("2026-03-09"), dict(short, date="2026-03-10")]
    res = j.import_analysis(both)
    assert res.dates == (date(2026, 3, 9),) and "2026-03-10 not stored" in res.message
    # a file holding only unmeasured days: refused, naming it
    p = tmp_path / "days.json"
    p.write_text(json.dumps([short]))
    with pytest.raises(FileImportError, match=r"days\.json: day 2026-03-08 not stored"):
        j.import_file(p)
    p.write_text(json.dumps([dict(short, wear_s=420.0)]))
    with pytest.raises(FileImportError, match=r"days\.json: no day in it was worn long enough"):
        j.import_file(p)
    # a day with a real error: the file and the day are named
    p.write_text(json.dumps([_day("2026-03-11", sitting_s=None)]))
    with pytest.raises(FileImportError, match=r"days\.json: day 2026-03-11: sitting_s: got None"):
        j.import_file(p)
    assert len(j.sitting_days()) == 1


def test_a_clock_time_the_clocks_skip_is_refused_not_moved(j):
    """Amsterdam went from 02:00 to 03:00 on 29 March 2026: 02:30 did not happen there that night.  zoneinfo would
    read it as 03:30 (or 01:30); the journal says so instead and stores nothing."""
    with pytest.raises(InvalidValueError, match=r"at: got '2026-03-29T02:30', expected a clock time that exists in "
                                                r"Europe/Amsterdam.*clocks went forward"):
        j.add_pain(4, where="lower-back-centre", when="next-morning", at="2026-03-29T02:30")
    with pytest.raises(InvalidValueError, match="clocks went forward"):
        j.add_run(start="2026-03-29T02:15", duration_s=1800.0, rpe=3)
    assert len(j.pain_reports()) == 0 and len(j.runs()) == 0
    # the same time with its offset is one moment (02:30 CET = 01:30 UTC), and the hour after the change is fine
    j.add_pain(4, where="lower-back-centre", when="next-morning", at="2026-03-29T02:30+01:00")
    j.add_pain(3, where="lower-back-centre", when="next-morning", at="2026-03-29T03:30")
    # the hour the clocks go back (02:30 happens twice on 25 October 2026): refused without the offset, which
    # tells the first (+02:00, 00:30 UTC) from the second (+01:00, 01:30 UTC)
    with pytest.raises(InvalidValueError, match=r"clocks went back.*2026-10-25T02:30\+02:00 for the first time, "
                                                r"\+01:00 for the second"):
        j.add_pain(2, where="lower-back-centre", when="next-morning", at="2026-10-25T02:30")
    j.add_pain(2, where="lower-back-centre", when="next-morning", at="2026-10-25T02:30+01:00")
    utc = [t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t for t in j.pain_reports()["reported_utc"]]
    assert utc == [datetime(2026, 3, 29, 1, 30)] * 2 + [datetime(2026, 10, 25, 1, 30)]
