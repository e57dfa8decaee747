"""LiveSession (the dashboard's interface), replay through the live path, and the scan/record/replay commands."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from analysis.pipeline import analyse
from sensing.ble import EmulatedRadio, EmulatedReferenceSensor
from sensing.formats import open_recording, write_parquet
from sensing.live_view import build_table, metrics_text
from sensing.record_cli import cmd_record, cmd_scan, parse_speed
from sensing.session import SNAPSHOT_KEYS, LiveSession, LoopThread, wait_until

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_recordings"


def replay_to_end(path, **kw):
    s = LiveSession.replay(path, speed=None, **kw)
    s.start()
    assert s.wait(300), "replay did not finish"
    snap = s.snapshot()
    s.stop()
    return s, snap


def test_replay_goes_through_the_live_path_and_agrees_with_batch():
    rec = open_recording(SAMPLES / "sim_lower_back_run.parquet")
    s, snap = replay_to_end(SAMPLES / "sim_lower_back_run.parquet")
    assert set(SNAPSHOT_KEYS) <= set(snap)
    assert snap["state"] == "finished" and snap["error"] is None
    assert snap["placement"] == "lower-back"
    assert snap["samples_received"] == len(rec.data)
    assert snap["lost_samples"] == rec.lost_samples == 0 and snap["link_drops"] == 0
    assert snap["t_s"] == pytest.approx(rec.t_s[-1])
    assert snap["rate_hz"] == pytest.approx(rec.sampling_rate_hz, rel=0.01)
    steps = analyse(rec).steps
    last = steps["step_time_s"].dropna().to_numpy()[-8:]
    assert snap["cadence_spm"] == pytest.approx(60 / np.median(last), abs=0.5)
    assert snap["trunk_lean_deg"] == pytest.approx(np.median(steps["trunk_lean_fwd_deg"].dropna().to_numpy()[-8:]), abs=1.0)
    assert snap["heel_strike"] is None and snap["sitting_s"] == 0.0
    # the live chart: vertical specific force, i.e. the acceleration along its own mean direction
    cursor, data = s.samples_since(0)
    acc = rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy()[-len(data["t_s"]):]
    along_mean = np.linalg.norm(acc.mean(axis=0))
    assert cursor == len(rec.data) and len(data["t_s"]) == len(data["acc_v_m_s2"]) > 0
    assert np.all(np.diff(data["t_s"]) > 0) and data["t_s"][-1] == pytest.approx(rec.t_s[-1])
    assert np.mean(data["acc_v_m_s2"]) == pytest.approx(along_mean, abs=0.1)
    assert s.samples_since(cursor) == (cursor, {"t_s": [], "acc_v_m_s2": []})
    cursor2, tail = s.samples_since(cursor - 5)
    assert cursor2 == cursor and tail["t_s"] == data["t_s"][-5:]


def test_replay_reports_the_recordings_gaps_as_lost_samples(tmp_path):
    rec = open_recording(SAMPLES / "sim_shoe_run.parquet")
    cut = rec.data.drop(rec.data.index[3000:3137])  # 137 samples lost in the middle
    rec.data = cut
    path = write_parquet(rec, tmp_path / "gappy.parquet")
    _, snap = replay_to_end(path)
    assert snap["lost_samples"] == 137
    assert snap["samples_received"] == len(cut)
    assert snap["heel_strike"] in ("rearfoot", "midfoot")


def test_sessions_share_one_long_lived_loop():
    """The dashboard's way: every session on one LoopThread; each ends, the loop goes on serving the next."""
    before = set(threading.enumerate())
    lt = LoopThread()
    try:
        n = len(open_recording(SAMPLES / "sim_shoe_run.parquet").data)
        together = [LiveSession.replay(SAMPLES / "sim_shoe_run.parquet", speed=None) for _ in range(2)]
        for s in together:
            s.start(lt)
        assert all(s.wait(300) for s in together)
        later = LiveSession.replay(SAMPLES / "sim_shoe_run.parquet", speed=None)
        later.start(lt)
        assert later.wait(300)
        for s in together + [later]:
            snap = s.snapshot()
            assert snap["state"] == "finished" and snap["samples_received"] == n and snap["lost_samples"] == 0
            assert s._loop is lt.loop and not s.running
        assert lt.thread.is_alive() and lt.loop.is_running()
        # stopping a session that is streaming at 1x ends it, and only it
        slow = LiveSession.replay(SAMPLES / "sim_shoe_run.parquet", speed=1.0)
        slow.start(lt)
        assert wait_until(lambda: slow.snapshot()["samples_received"] > 0, 60)
        slow.stop()
        assert not slow.running and slow.snapshot()["samples_received"] < n
        assert lt.loop.is_running()
        with pytest.raises(RuntimeError, match="already started"):
            slow.start(lt)
    finally:
        lt.close()
    assert not lt.thread.is_alive() and lt.loop.is_closed()
    lt.close()  # again: a no-op
    # the sessions opened and closed files through the loop's executor (run_in_executor): its threads ended with it
    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []


def test_each_sensor_at_its_own_rate(tmp_path):
    """Sensors of different makes rarely share a rate: one rate per sensor, each file at its own rate, 0 lost."""
    t = np.arange(600)
    acc = np.column_stack([np.sin(t / 10), np.zeros(600), np.full(600, 9.81)])
    radio = EmulatedRadio([EmulatedReferenceSensor("AA:BB:CC:DD:EE:31", "backstride-31", acc, 0 * acc, sampling_rate_hz=100),
                           EmulatedReferenceSensor("AA:BB:CC:DD:EE:32", "backstride-32", acc, 0 * acc, sampling_rate_hz=50)])
    specs = [("backstride-31", "lower-back"), ("backstride-32", "foot-left")]
    with pytest.raises(ValueError, match="one per sensor: 2 sensors, 3 rates"):
        LiveSession.sensors(specs, sampling_rate_hz=[100, 50, 25])
    s = LiveSession.sensors(specs, out=tmp_path / "rec", client_backend=radio.client_backend,
                            scanner_backend=radio.scanner_backend, scan_timeout_s=0.05, sampling_rate_hz=[100, 50])
    s.start()
    try:
        assert wait_until(lambda: s.snapshot()["samples_received"] > 300, 60), s.snapshot()
    finally:
        s.stop()
    for placement, rate_hz in (("lower-back", 100), ("foot-left", 50)):
        rec = open_recording(tmp_path / "rec", placement=placement)
        assert rec.sampling_rate_hz == rate_hz and rec.lost_samples == 0 and len(rec.data) > 20
    # one rate for both: the 50-Hz sensor refuses 100 Hz and streams at 50 Hz; its frames say so, and
    # nothing of it is recorded on a 100-Hz time axis (the user is told which rate it streams at)
    s = LiveSession.sensors(specs, client_backend=radio.client_backend, scanner_backend=radio.scanner_backend,
                            scan_timeout_s=0.05, sampling_rate_hz=100)
    s.start()
    try:
        assert wait_until(lambda: any("50 Hz" in str(x.get("error")) for x in s.snapshot().get("sensors") or []), 60), \
            s.snapshot()
        by_placement = {x["placement"]: x for x in s.snapshot()["sensors"]}
    finally:
        s.stop()
    assert by_placement["foot-left"]["samples_received"] == 0
    assert "not the 100 Hz asked for" in by_placement["foot-left"]["error"]
    assert by_placement["lower-back"]["samples_received"] > 0 and by_placement["lower-back"]["error"] is None
    # the command: one --rate per --sensor, or one for all; anything else is refused before connecting
    out = io.StringIO()
    args = Namespace(sensor=["backstride-31", "backstride-32"], placement=["lower-back", "foot-left"],
                     out=tmp_path / "cli", rate=[100, 50, 25], scan_timeout=0.05)
    assert cmd_record(args, console=Console(file=out, width=200), show_view=False) == 2
    assert "one --rate for all sensors or one per --sensor" in out.getvalue()


def test_replay_errors_and_speed():
    s = LiveSession.replay(ROOT / "no-such-file.parquet")
    s.start()
    assert s.wait(60)
    snap = s.snapshot()
    assert snap["state"] == "error" and "does not exist" in snap["error"]
    with pytest.raises(ValueError, match="speed must be a positive number"):
        LiveSession.replay(SAMPLES / "sim_shoe_run.parquet", speed=0)
    with pytest.raises(ValueError, match="placement must be one of"):
        LiveSession.replay(SAMPLES / "sim_shoe_run.parquet", placement="wrist")
    assert parse_speed("max") is None and parse_speed("10") == 10.0
    # real time: stopped after a moment, it has played only a moment
    s = LiveSession.replay(SAMPLES / "sim_shoe_run.parquet", speed=1)
    s.start()
    assert wait_until(lambda: s.snapshot()["samples_received"] > 0, 60)
    s.stop()
    s.stop()
    snap = s.snapshot()
    assert snap["state"] == "finished" and snap["t_s"] < 30


def test_live_view_table_by_placement():
    shoe = {"sensor": "a", "placement": "foot-left", "state": "streaming", "cadence_spm": 170.2, "heel_strike": "rearfoot"}
    back = {"sensor": "b", "placement": "lower-back", "state": "reconnecting", "cadence_spm": None, "trunk_lean_deg": 11.26,
            "sitting_s": 1900.0, "lost_samples": 12}
    assert metrics_text(shoe) == "cadence 170 steps/min, strike rearfoot"
    assert metrics_text(back) == "trunk lean +11.3°, sitting 31:40  (stand up and walk)"
    out = io.StringIO()
    Console(file=out, width=200).print(build_table({"sensors": [shoe, back]}))
    text = out.getvalue()
    assert "reconnecting" in text and "strike rearfoot" in text and "12" in text


def test_scan_lists_supported_sensors():
    acc = np.tile([0, 0, 9.81], (100, 1))
    radio = EmulatedRadio([EmulatedReferenceSensor("AA:BB:CC:DD:EE:11", "backstride-11", acc, None, sampling_rate_hz=100, rssi=-47)])
    out = io.StringIO()
    assert cmd_scan(Namespace(timeout=0.05, all=False), scanner_backend=radio.scanner_backend,
                    console=Console(file=out, width=200)) == 0
    text = out.getvalue()
    assert "backstride-11" in text and "AA:BB:CC:DD:EE:11" in text and "-47" in text and "reference profile" in text


RECORD_CHILD = textwrap.dedent("""
    import sys
    from argparse import Namespace
    from pathlib import Path
    import numpy as np
    from sensing.ble import EmulatedRadio, EmulatedReferenceSensor
    from sensing.record_cli import cmd_record
    pos = np.arange(2000)
    acc = np.column_stack([(pos % 1000) / 100.0, np.zeros(2000), np.full(2000, 9.81)])
    radio = EmulatedRadio([EmulatedReferenceSensor("AA:BB:CC:DD:EE:21", "backstride-21", acc, 0 * acc, sampling_rate_hz=100),
                           EmulatedReferenceSensor("AA:BB:CC:DD:EE:22", "backstride-22", acc, 0 * acc, sampling_rate_hz=100)])
    args = Namespace(sensor=["backstride-21", "AA:BB:CC:DD:EE:22"], placement=["foot-left", "lower-back"],
                     out=Path(sys.argv[1]), rate=100, scan_timeout=0.05)
    sys.exit(cmd_record(args, client_backend=radio.client_backend, scanner_backend=radio.scanner_backend))
""")


def _recorder(code: str, out, *, columns: int) -> subprocess.Popen:
    """A ``backstride record`` child that Ctrl-C (SIGINT) reaches.

    A process started in the background by a non-interactive shell (``make test &``)
    has SIGINT ignored, children inherit that, and Python then installs no
    KeyboardInterrupt handler: the child would never see the Ctrl-C this test sends.
    """
    return subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env={**os.environ, "COLUMNS": str(columns)},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_record_two_sensors_and_ctrl_c_ends_cleanly(tmp_path, stop_signal):
    out = tmp_path / "run"
    proc = _recorder(RECORD_CHILD, out, columns=200)
    try:
        assert wait_until(lambda: (out / "lower-back.arrows").exists() and (out / "foot-left.arrows").exists(), 120)
        time.sleep(3.0)
    finally:
        proc.send_signal(stop_signal)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-3000:]
    assert "stopping: closing the recording" in stdout and "0 lost, 0 link drops" in stdout
    for placement in ("foot-left", "lower-back"):
        rec = open_recording(out, placement=placement)
        assert rec.extra["complete"] is True and rec.lost_samples == 0
        assert len(rec.data) > 50
        x = rec.data["acc_x"].to_numpy()
        steps = np.round(np.diff(x) * 100) % 1000  # consecutive sample positions: +1 every sample
        assert np.all(steps == 1)


RECORD_HR_CHILD = textwrap.dedent("""
    import sys
    from argparse import Namespace
    from pathlib import Path
    import numpy as np
    from sensing.ble import EmulatedHeartRateStrap, EmulatedRadio, EmulatedReferenceSensor
    from sensing.record_cli import cmd_record
    pos = np.arange(2000)
    acc = np.column_stack([(pos % 1000) / 100.0, np.zeros(2000), np.full(2000, 9.81)])
    strap = EmulatedHeartRateStrap("AA:BB:CC:DD:EE:24", "HRM-Pro:24", [{"hr_bpm": 150, "rr_s": [0.40625]}], interval_s=0.25)
    radio = EmulatedRadio([EmulatedReferenceSensor("AA:BB:CC:DD:EE:23", "backstride-23", acc, 0 * acc, sampling_rate_hz=100),
                           strap])
    args = Namespace(sensor=["backstride-23", "HRM-Pro"], placement=["lower-back", "chest"],
                     out=Path(sys.argv[1]), rate=100, scan_timeout=0.05)
    code = cmd_record(args, client_backend=radio.client_backend, scanner_backend=radio.scanner_backend)
    print("STRAP SENT", len(strap.sent_log))
    sys.exit(code)
""")


@pytest.mark.slow
def test_record_imu_and_heart_rate_strap_from_the_command(tmp_path):
    from sensing.chunked import read_heart_rate

    out = tmp_path / "run"
    proc = _recorder(RECORD_HR_CHILD, out, columns=250)
    try:
        assert wait_until(lambda: (out / "lower-back.arrows").exists() and (out / "heart_rate.arrows").exists(), 120)
        time.sleep(3.0)
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-3000:]
    sent = int(stdout.rsplit("STRAP SENT", 1)[1].split()[0])
    hr = read_heart_rate(out)
    assert len(hr) == sent > 5 and hr.attrs["complete"]
    assert set(hr["hr_bpm"]) == {150.0} and all(list(r) == [0.40625] for r in hr["rr_s"])
    assert f"heart rate: {sent} measurements, {sent} RR intervals, mean 150 bpm, 0 corrupt, 0 link drops" in stdout
    assert "heart rate 150 bpm" in stdout  # the live view's row
    assert open_recording(out).lost_samples == 0


def test_dashboard_sessions_close_ends_their_loop_and_a_new_start_makes_another():
    """dashboard.pages.live.LiveSessions.close: every session stopped, the loop thread ended; the next start works."""
    from dashboard.pages.live import LiveSessions

    sessions = LiveSessions()
    first = LiveSession.replay(SAMPLES / "sim_shoe_run.parquet", speed=1.0)
    sessions.start(first)
    assert wait_until(lambda: first.snapshot()["samples_received"] > 0, 60)
    loop_thread = sessions.loop_thread
    sessions.close()
    assert not first.running and sessions.get("any") is None
    assert not loop_thread.thread.is_alive() and loop_thread.loop.is_closed() and sessions.loop_thread is None
    again = LiveSession.replay(SAMPLES / "sim_shoe_run.parquet", speed=None)
    key = sessions.start(again)
    assert again.wait(300) and again.snapshot()["state"] == "finished"
    assert sessions.get(key) is again and sessions.loop_thread is not loop_thread
    sessions.close()
