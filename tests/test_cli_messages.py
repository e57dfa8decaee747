"""What the ``backstride`` commands tell a user: options named as typed, in the units typed, each error once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from journal import Journal
from sensing.cli import build_parser, main

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"


@pytest.fixture
def url(tmp_path):
    u = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert main(["runner", "add", "ana", "--journal", u]) == 0
    return u


@pytest.fixture
def wide(monkeypatch):
    """Help and rich output on one line each (no wrapping in the middle of a name)."""
    monkeypatch.setenv("COLUMNS", "400")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def help_text(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    assert e.value.code == 0
    return capsys.readouterr().out


# -- 1. hours and minutes are refused in hours and minutes -------------------------------------------------


@pytest.mark.parametrize(("argv", "said", "not_said"), [
    # 30 h = 108000 s; the journal's limits: a day (24 h), a run of 48 h (2880 min), an exercise of 6 h (360 min)
    (("checkin", "--sleep-h", "30"), ("--sleep-h: got 30 h", "0 to 24 h"), ("sleep_s", "108000")),
    (("checkin", "--sitting-h", "25"), ("--sitting-h: got 25 h", "0 to 24 h"), ("work_sitting_s", "90000")),
    (("checkin", "--standing-h", "-1"), ("--standing-h: got -1 h", "0 to 24 h"), ("work_standing_s", "-3600")),
    (("checkin", "--sitting-h", "20", "--standing-h", "10"), ("--sitting-h + --standing-h", "20 h + 10 h", "24 h"),
     ("_s", "72000")),
    (("run", "add", "--start", "2026-03-03T07:00", "--duration-min", "3000"),
     ("--duration-min: got 3000 min", "2880 min"), ("duration_s", "180000")),
    (("run", "add", "--start", "2026-03-03T07:00", "--duration-min", "0"),
     ("--duration-min: got 0 min", "above 0"), ("duration_s",)),
    (("exercise", "plank", "--minutes", "400"), ("--minutes: got 400 min", "360 min"), ("duration_s", "24000")),
])
def test_converted_options_are_refused_in_the_unit_typed(capsys, url, argv, said, not_said):
    code, _, err = run(capsys, *argv, "--journal", url)
    assert code == 1
    for text in said:
        assert text in err
    for text in not_said:
        assert text not in err
    with Journal.open(url) as j:
        assert len(j.checkins()) == len(j.runs()) == len(j.exercises()) == 0


def test_the_limits_themselves_are_accepted(capsys, url):
    assert run(capsys, "checkin", "--date", "2026-03-03", "--sleep-h", "24", "--sitting-h", "12",
               "--standing-h", "12", "--journal", url)[0] == 0
    assert run(capsys, "run", "add", "--start", "2026-03-03", "--duration-min", "2880", "--journal", url)[0] == 0
    assert run(capsys, "exercise", "plank", "--minutes", "360", "--date", "2026-03-03", "--journal", url)[0] == 0
    with Journal.open(url) as j:
        c = j.checkins().iloc[0]
        assert (c["sleep_s"], c["work_sitting_s"], c["work_standing_s"]) == (24 * 3600, 12 * 3600, 12 * 3600)
        assert j.runs().iloc[0]["duration_s"] == 48 * 3600
        assert j.exercises().iloc[0]["duration_s"] == 6 * 3600


@pytest.mark.parametrize(("argv", "said", "field"), [
    # options typed in the journal's own unit: the refusal names the option, not the stored field
    (("run", "add", "--start", "2026-03-03T07:00", "--duration-min", "40", "--hr", "300"),
     "--hr: got 300.0, expected a number from 25 to 250 bpm", "avg_hr_bpm"),
    (("runner", "set", "ana", "--hr-rest", "130"), "--hr-rest: got 130.0", "hr_rest_bpm"),
    (("checkin", "--date", "2026-03-03", "--sleep-quality", "9"), "--sleep-quality: got 9", "sleep_quality"),
    (("checkin", "--date", "2999-01-01", "--stress", "2"), "--date: got '2999-01-01'", "day:"),
])
def test_options_typed_in_the_stored_unit_are_named_as_typed(capsys, url, argv, said, field):
    code, _, err = run(capsys, *argv, "--journal", url)
    assert code == 1
    assert said in err and field not in err, err
    with Journal.open(url) as j:
        assert len(j.checkins()) == len(j.runs()) == 0
        assert j.runner("ana").hr_rest_bpm is None


# -- 2. --where: what the help lists is what is taken ------------------------------------------------------


def test_pain_where_help_lists_lower_back_which_is_taken_as_the_centre(capsys, url, wide):
    text = help_text(capsys, "pain")
    assert re.search(r"(?<![\w-])lower-back(?![\w-])", text), text
    code, out, err = run(capsys, "pain", "4", "--where", "lower-back", "--when", "after-run", "--journal", url)
    assert code == 0, err
    assert "(lower-back-centre, after-run)" in out  # what was stored, not the alias typed
    code, _, err = run(capsys, "pain", "4", "--where", "lower-backs", "--when", "after-run", "--journal", url)
    assert code == 1 and "lower-back-centre, lower-back-left, lower-back-right" in err
    with Journal.open(url) as j:
        assert list(j.pain_reports()["location"]) == ["lower-back-centre"]


# -- 3. a session that fails before it has a sensor: its error once, no "None" ---------------------------


def _once(text: str, needle: str) -> None:
    assert text.count(needle) == 1, text
    assert "None" not in text, text


def test_replay_of_a_truncated_recording_says_so_once(capsys, tmp_path, wide):
    trunc = tmp_path / "trunc.parquet"
    trunc.write_bytes((SAMPLES / "sim_lower_back_run.parquet").read_bytes()[:5000])  # head -c 5000
    code, out, err = run(capsys, "replay", str(trunc), "--speed", "max")
    assert code == 2  # as `analyse` refuses it
    _once(out + err, "not a readable Parquet file")
    assert f"backstride replay: {trunc}" in " ".join(err.split()) and "not a readable" not in out  # on stderr
    # a speed it cannot play at, and a file that is not there: the same way
    for argv, said in ((["--speed", "0"], "--speed must be positive, got '0'"),
                       (["--speed", "fast"], "--speed must be a number such as 1 or 10, or max; got 'fast'")):
        code, out, err = run(capsys, "replay", str(SAMPLES / "sim_shoe_run.parquet"), *argv)
        assert code == 2 and f"backstride replay: {said}" in err and not out.strip()
    code, out, err = run(capsys, "replay", str(tmp_path / "gone.parquet"))
    assert code == 2 and "backstride replay: " in err and "does not exist" in err


def test_replay_piped_prints_the_final_table_then_the_summary_on_its_own_line(capsys, wide):
    code, out, err = run(capsys, "replay", str(SAMPLES / "sim_shoe_run.parquet"), "--speed", "max")
    assert code == 0, err
    lines = out.splitlines()
    summary = [i for i, line in enumerate(lines) if line.startswith("sim_shoe_run.parquet: ")]
    assert len(summary) == 1, out
    assert lines[summary[0] - 1].startswith("└"), out  # the table's last border, then the summary line
    assert "25600 samples, 0 lost" in lines[summary[0]]
    assert sum(line.startswith("┏") for line in lines) == 1, out  # one table, not a frame per refresh


class _NoAdapterScanner:
    """What bleak meets on a machine without Bluetooth: no system D-Bus socket to connect to."""

    def __init__(self, *args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory")


def test_record_without_a_bluetooth_adapter_says_so_once(tmp_path, wide):
    import io

    from rich.console import Console

    from sensing.record_cli import cmd_record

    args = build_parser().parse_args(["record", "--sensor", "backstride-2A01", "--placement", "lower-back",
                                      "--out", str(tmp_path / "rec"), "--scan-timeout", "0.1"])
    buf = io.StringIO()
    code = cmd_record(args, scanner_backend=_NoAdapterScanner, console=Console(file=buf, width=400))
    text = buf.getvalue()
    assert code == 1
    _once(text, "Bluetooth is not available")
    assert "'backstride-2A01'" in text
    assert not (tmp_path / "rec").exists()


# -- 4. help texts and --placement names -------------------------------------------------------------------


def test_dashboard_help_says_it_serves_and_does_not_open_a_browser(capsys, wide):
    for text in (help_text(capsys), help_text(capsys, "dashboard")):
        line = text.lower()
        assert "open the dashboard in your browser" not in line
        assert "serve" in line and "address" in line


@pytest.mark.parametrize(("given", "placement"), [("L5", "lower-back"), ("pelvis", "lower-back"),
                                                  ("LowerBack", "lower-back"), ("LeftFoot", "foot-left"),
                                                  ("right_foot", "foot-right"), ("chest", "chest")])
def test_replay_and_record_take_the_placement_names_analyse_takes(given, placement):
    parser = build_parser()
    assert parser.parse_args(["analyse", "x.parquet", "--placement", given]).placement == placement
    assert parser.parse_args(["replay", "x.parquet", "--placement", given]).placement == placement
    args = parser.parse_args(["record", "--sensor", "a", "--placement", given, "--sensor", "b",
                              "--placement", "foot-left"])
    assert args.placement == [placement, "foot-left"]


def test_replay_and_record_refuse_an_unknown_placement_by_name(capsys):
    for argv in (["replay", "x.parquet", "--placement", "elbow"], ["record", "--sensor", "a", "--placement", "elbow"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
        assert "unknown placement 'elbow': expected one of lower-back, foot-left" in capsys.readouterr().err


@pytest.mark.parametrize("target, said", [("nodir/run.json", "its folder nodir does not exist"),
                                          (".", "is a folder")])
def test_analyse_refuses_a_json_target_it_cannot_write_before_analysing(capsys, tmp_path, monkeypatch, target, said):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "analyse", str(SAMPLES / "sim_shoe_run.parquet"), "--json", target)
    assert code == 2 and out == ""  # no report: nothing was analysed
    assert err.startswith(f"backstride analyse: --json {target}: {said}")
    assert "Traceback" not in err and not (tmp_path / "nodir").exists()


def test_replay_stopped_with_ctrl_c_says_stopped_and_exits_130_with_uncut_values():
    """Piped (no terminal): the table is 160 columns wide, so the live values are whole; Ctrl-C before the end is
    a stop, not a finish (exit 130 = 128 + SIGINT, as a shell reports it)."""
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "sensing.cli", "replay", str(SAMPLES / "sim_lower_back_run.parquet"),
                             "--speed", "1"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(10.0)  # imports (3-4 s), then seconds of replay (the recording lasts 373 s at 1x)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, (out, err)
    assert "stopped before the end of the recording" in out
    assert "state stopped" in out and "state finished" not in out
    assert "…" not in out, out  # nothing cut to fit 80 columns
    assert "sim_lower_back_run.parquet" in out


def test_runner_added_without_a_time_zone_is_told_it_is_utc(capsys, tmp_path, wide):
    u = f"sqlite:///{tmp_path / 'tz.sqlite3'}"
    code, out, _ = run(capsys, "runner", "add", "bob", "--journal", u)
    assert code == 0 and "time zone UTC" in out and "runner set bob --timezone" in out
    code, out, _ = run(capsys, "runner", "add", "eve", "--timezone", "UTC", "--journal", u)
    assert code == 0 and "time zone UTC" in out and "runner set" not in out  # chosen, nothing to suggest
    with Journal.open(u) as j:
        assert j.runner("bob").timezone == "UTC"


@pytest.mark.parametrize("make, said", [
    (lambda d: (d / "notes.txt").write_text("my training notes\n") and d / "notes.txt",
     "not a backstride journal (file is not a database)"),
    (lambda d: d, "a folder; give the journal's file"),
    (lambda d: "postgresql://nobody:hunter2@127.0.0.1:1/x", "cannot open the journal (connection"),
])
def test_a_journal_that_cannot_be_opened_is_one_line_and_nothing_is_changed(capsys, tmp_path, make, said):
    target = make(tmp_path)
    before = target.read_bytes() if isinstance(target, Path) and target.is_file() else None
    assert main(["runner", "list", "--journal", str(target)]) == 1
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "hunter2" not in err                                   # a URL's password is not printed
    if before is not None:
        assert target.read_bytes() == before
    # the dashboard says the same before it serves anything (it served HTTP 500 on every page)
    from dashboard.cli import main as dashboard_main

    assert dashboard_main(["--journal", str(target), "--port", "8123", "--data-dir", str(tmp_path / "data")]) == 1
    assert said in capsys.readouterr().err


def test_a_journal_error_is_named_for_what_it_is(tmp_path):
    """Only a file that is not a database is "not a backstride journal"; a locked or read-only one is "cannot open"
    (the journal may be fine); an error without a message still gives one line."""
    import sqlalchemy as sa

    from journal.store import _open_problem

    f = tmp_path / "j.sqlite3"
    f.write_bytes(b"")
    url = f"sqlite:///{f}"
    locked = sa.exc.OperationalError("BEGIN", {}, Exception("database is locked"))
    assert _open_problem(url, locked) == f"journal {f}: cannot open it (database is locked)"
    assert "not a backstride journal" in _open_problem(url, sa.exc.DatabaseError("x", {}, Exception(
        "file is not a database")))
    assert _open_problem(url, sa.exc.OperationalError("stmt", {}, Exception(""))).startswith(f"journal {f}: ")
