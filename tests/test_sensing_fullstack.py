"""Full BLE stack, end to end: bleak → bluetoothd → kernel hci_vhci → Bumble radio → emulated sensor.

Nothing above the radio is mocked.  A throw-away QEMU guest (``tests/vm/harness.py``)
runs Debian's kernel with ``hci_vhci``, D-Bus and BlueZ's ``bluetoothd``; in it,
``tests/vm/peripheral.py`` plays ``sample_recordings/sim_lower_back_run.parquet``
as backstride's reference-profile sensor, byte for byte, in real time, and drops
the link once; ``tests/vm/guest_test.py`` runs the central: scan, pick the sensor
by ``firmware_interface.registry``, connect, start, stream, reconnect after the
drop, stop.

The truth is the played recording and the sensor's own play log; the checks
below compare what arrived at the central with them, sample by sample, and check
that the link drop shows up as exactly one gap of the right length.

Two scenarios share one guest boot: plain bleak (20 s of streaming, drop after
10 s) validates the harness itself; ``backstride record`` (the product, a minute
of streaming, drop after 30 s) is then judged the same way, from the recording
it wrote.  Cost: about 6.5 minutes of wall time on one TCG CPU (most of it
Python imports under emulation), so the tests are marked ``slow``.  It skips (with the reason)
only where the guest cannot be built: not x86_64 Linux, or packages missing
and no root/apt-get to install them.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from analysis.constants import GRAVITY_M_S2
from firmware_interface import reference, registry
from sensing.formats import open_recording
from sensing.recording import from_arrays

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "vm"))
import harness  # noqa: E402

pytestmark = pytest.mark.slow

RECORDING = ROOT / "sample_recordings" / "sim_lower_back_run.parquet"
RATE_HZ = 100
#: Sensor µs clock at the first sample: 20 s before it wraps at 2**32, so it wraps mid-stream.
SENSOR_CLOCK_START_US = 2**32 - 20_000_000
SENSOR_NAME = "backstride-2A01"
SENSOR_ADDRESS = "D4:5B:AC:3F:2A:01"
#: (streaming in all, link drop after) per central: plain bleak validates the harness briefly;
#: the product (``backstride record``) streams a minute.
SCENARIOS = {"bleak": (20.0, 10.0), "record": (60.0, 30.0)}


@pytest.fixture(scope="module")
def guest():
    """Boot the guest once and run both scenarios in it; yield the results folder and run info.

    Results go to ``.cache/vm/results/`` (git-ignored; the last run is kept for
    reading after a failure), not pytest's tmp_path: on a shared machine other
    pytest sessions prune those folders while the guest is still writing.
    """
    try:
        image = harness.build()
    except harness.HarnessUnavailable as why:
        pytest.skip(f"full-stack BLE guest cannot be built here: {why}")
    results = harness.CACHE / "results"
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    lines, codes = [], []
    for i, (central, (stream_s, drop_after_s)) in enumerate(SCENARIOS.items()):
        lines.append(
            f".venv/bin/python tests/vm/guest_test.py --results /mnt/results/{central} --central {central} "
            f"--stream-s {stream_s} --drop-after-s {drop_after_s} --rate-hz {RATE_HZ} "
            f"--sensor-clock-start-us {SENSOR_CLOCK_START_US} --recording {RECORDING} --sensor-name {SENSOR_NAME}; "
            f"e{i}=$?"
        )
        codes.append(f"$e{i}")
    command = "\n".join(lines) + f"\nexit $(( {' | '.join(codes)} ))"
    t0_utc = time.time()
    run = harness.run(command, results=results, image=image, timeout_s=1200)
    print(f"\nguest wall time {run.wall_s:.0f} s; results in {results}")
    assert run.exit_code is not None, f"the guest never finished its command.\n--- console ---\n{run.console[-3000:]}"
    return results, run, t0_utc


def scenario(guest, central: str):
    """(central.json, play log) of one scenario; fails with the guest's own words if it failed."""
    results, run, _ = guest
    folder = results / central
    out = json.loads((folder / "central.json").read_text()) if (folder / "central.json").exists() else {}
    assert "error" not in out and out, (
        f"{central} scenario failed: {out.get('error')}\n--- guest output ---\n{run.output()[-4000:]}\n"
        f"--- peripheral.log ---\n{_tail(folder / 'peripheral.log')}\n--- record.log ---\n{_tail(folder / 'record.log')}"
    )
    played = [json.loads(line) for line in (folder / "played.jsonl").read_text().splitlines()]
    if "recording" in out:  # the guest sees the results share at /mnt/results
        out["recording"] = str(folder / Path(out["recording"]).name)
    return out, played


@pytest.fixture(scope="module")
def bleak_run(guest):
    return scenario(guest, "bleak")


@pytest.fixture(scope="module")
def record_run(guest):
    return scenario(guest, "record")


def _tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else "(absent)"


def _received(session: dict):
    """Decode one session's data notifications (strict: a corrupt frame fails the test)."""
    decoder = reference.ReferenceDecoder()
    frames = [decoder.decode(bytes.fromhex(h), strict=True)
              for _t, uuid, h in session["notifications"] if uuid == reference.DATA_UUID]
    return frames


def _played_frames(played: list[dict], session: int) -> list[dict]:
    return [p for p in played if p["kind"] == "frame" and p["session"] == session]


def test_scan_finds_the_sensor_with_its_profile(bleak_run):
    central, played = bleak_run
    assert [f["profile"] for f in central["found"]] == ["backstride-reference"] * 2  # first scan, then after the drop
    assert {f["address"] for f in central["found"]} == {SENSOR_ADDRESS}
    names = {f["name"] for f in central["found"]} - {None}  # the name is in the scan response, may come later
    assert names <= {SENSOR_NAME}
    assert all(reference.SERVICE_UUID in f["service_uuids"] for f in central["found"])
    # Independent of the guest's registry call: the advertisement itself identifies the profile.
    assert registry.identify(SENSOR_NAME, [reference.SERVICE_UUID]).key == "backstride-reference"


def test_start_commands_reach_the_sensor_and_the_link_drops_once(bleak_run):
    central, played = bleak_run
    commands = [p["op"] for p in played if p["kind"] == "command"]
    # Each connection: the profile's start sequence, all answered with success by the sensor.
    start_sequence = ["STOP", "SET_RATE", "SET_RANGE", "SET_CHANNELS", "START"]
    assert commands[:5] == start_sequence and commands[5:10] == start_sequence, commands
    assert all(p["status"] == 0 for p in played if p["kind"] == "command")
    assert [s["dropped_by_sensor"] for s in central["sessions"]] == [True, False]
    assert sum(p["kind"] == "drop" for p in played) == 1
    assert sum(p["kind"] == "connected" for p in played) == 2
    assert all(p["att_mtu"] == 247 for p in played if p["kind"] == "mtu")


def test_every_played_frame_arrives_once_in_order(bleak_run):
    central, played = bleak_run
    for number, session in enumerate(central["sessions"], start=1):
        frames = _received(session)
        sent = _played_frames(played, number)
        got_counters = [int(f.sample_counter[0]) for f in frames]
        sent_counters = [p["counter"] for p in sent]
        assert got_counters == sent_counters, f"session {number}: received counters differ from those played"
        assert all(f.n_samples == p["n"] for f, p in zip(frames, sent))
        # The reference profile restarts its counter at 0 on every START.
        assert got_counters[0] == 0


def test_samples_equal_the_recording_within_quantisation(bleak_run):
    central, played = bleak_run
    rec = open_recording(RECORDING)
    acc_true = rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy()
    gyr_true = rec.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()
    n_checked = 0
    for number, session in enumerate(central["sessions"], start=1):
        for frame, sent in zip(_received(session), _played_frames(played, number)):
            idx = sent["index"] + np.arange(frame.n_samples)
            acc_lsb = sent["acc_range_g"] * GRAVITY_M_S2 / 32768
            gyr_lsb = np.deg2rad(sent["gyr_range_dps"] / 32768)
            np.testing.assert_array_less(np.abs(frame.acc_m_s2 - acc_true[idx]), acc_lsb / 2 + 1e-9)
            np.testing.assert_array_less(np.abs(frame.gyr_rad_s - gyr_true[idx]), gyr_lsb / 2 + 1e-9)
            n_checked += frame.n_samples
    assert n_checked >= (SCENARIOS["bleak"][0] - 3) * RATE_HZ, n_checked


def test_link_drop_is_one_gap_of_the_right_length(bleak_run):
    """Place every sample by the sensor clock alone (it wraps at 2**32 µs) and find the drop as a gap."""
    central, played = bleak_run
    frames = [f for s in central["sessions"] for f in _received(s)]
    time_us = np.concatenate([np.rint(f.sensor_time_s * 1e6).astype(np.int64) for f in frames])
    wraps = np.cumsum(np.r_[0, np.diff(time_us) < 0])
    assert wraps[-1] <= 1
    unwrapped_us = time_us + wraps * reference.TIME_MODULUS_US
    sample_index = np.rint((unwrapped_us - unwrapped_us[0]) * RATE_HZ / 1e6).astype(np.int64)
    recording = from_arrays(
        np.concatenate([f.acc_m_s2 for f in frames]), gyr_rad_s=np.concatenate([f.gyr_rad_s for f in frames]),
        sampling_rate_hz=RATE_HZ, sample_index=sample_index, placement="lower-back",
    )
    gaps = recording.gaps
    assert len(gaps) == 1, gaps
    first_index = _played_frames(played, 1)[0]["index"]
    last_1 = _played_frames(played, 1)[-1]
    first_2 = _played_frames(played, 2)[0]
    assert int(gaps["lost_samples"].iloc[0]) == first_2["index"] - (last_1["index"] + last_1["n"])
    assert gaps["start_s"].iloc[0] == pytest.approx((last_1["index"] + last_1["n"] - first_index) / RATE_HZ)
    # The gap is the time the link was down (sensor drop → first frame after reconnecting), at most a few seconds.
    assert 0.2 < gaps["end_s"].iloc[0] - gaps["start_s"].iloc[0] < 10



# -- the product: `backstride record` -------------------------------------------------------------


def _expected_indices(played: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Recording sample_index (0 = first sample after the first START) and source row of every played sample."""
    frames = [p for p in played if p["kind"] == "frame"]
    first = frames[0]["index"]
    source = np.concatenate([p["index"] + np.arange(p["n"]) for p in frames])
    return source - first, source


#: Found by this test on its first run (2026-11-23), and fixed since in sensing/ble.py and
#: sensing/ingest.py: after a sensor-side drop the old BleakClient kept its D-Bus connection, so
#: BlueZ delivered every later notification twice, and the ingest recorded the repeats as new
#: samples; samples before the drop went missing unmarked and the gap came from host time.
RECORDER_BUGS = lambda test: test  # noqa: E731  (kept as a marker of what these two tests guard)


def test_record_exits_cleanly_on_ctrl_c(record_run):
    central, played = record_run
    assert central["record_exit_code"] == 0
    commands = [p["op"] for p in played if p["kind"] == "command"]
    assert commands.count("START") == 2, commands  # first connection and the reconnection
    assert sum(p["kind"] == "drop" for p in played) == 1
    assert all(p["status"] == 0 for p in played if p["kind"] == "command"), [p for p in played if p["kind"] == "command"]


@RECORDER_BUGS
def test_record_holds_what_was_played(record_run, guest):
    """Every sample the sensor sent is in the recording, at its index, with its value (within one LSB/2)."""
    central, played = record_run
    rec = open_recording(central["recording"])
    assert rec.sampling_rate_hz == RATE_HZ
    assert rec.placement == "lower-back"
    assert rec.extra["profile"] == "backstride-reference"
    assert rec.extra["complete"] and not rec.extra["truncated"]
    assert rec.extra["corrupt_frames"] == 0
    expected_index, source = _expected_indices(played)
    got = rec.data.index.to_numpy()
    # Frames sent after Ctrl-C may not be written (the recorder stops listening first): a tail at most.
    assert np.array_equal(got, expected_index[: len(got)]), "recorded sample indices differ from those played"
    assert len(expected_index) - len(got) <= RATE_HZ, f"{len(expected_index) - len(got)} played samples missing at the end"
    stream_s = SCENARIOS["record"][0]
    assert len(got) >= (stream_s - 3) * RATE_HZ, f"only {len(got) / RATE_HZ:.1f} s recorded"
    truth = open_recording(RECORDING).data
    lsb = {p["acc_range_g"] for p in played if p["kind"] == "frame"}, {p["gyr_range_dps"] for p in played if p["kind"] == "frame"}
    assert len(lsb[0]) == 1 and len(lsb[1]) == 1, lsb
    acc_lsb = lsb[0].pop() * GRAVITY_M_S2 / 32768
    gyr_lsb = np.deg2rad(lsb[1].pop() / 32768)
    rows = truth.iloc[source[: len(got)]]
    for cols, tol in ((["acc_x", "acc_y", "acc_z"], acc_lsb / 2), (["gyr_x", "gyr_y", "gyr_z"], gyr_lsb / 2)):
        err = np.abs(rec.data[cols].to_numpy() - rows[cols].to_numpy())
        assert err.max() <= tol + 1e-9, f"{cols}: max error {err.max():.3g} > {tol:.3g}"
    # Absolute time: the recording starts while the guest ran (guest clock = host clock).
    _, run, t0_utc = guest
    assert t0_utc < rec.start_utc.timestamp() < t0_utc + run.wall_s


@RECORDER_BUGS
def test_record_marks_the_link_drop_as_one_gap(record_run):
    central, played = record_run
    rec = open_recording(central["recording"])
    frames = [p for p in played if p["kind"] == "frame"]
    last_1 = [p for p in frames if p["session"] == 1][-1]
    first_2 = [p for p in frames if p["session"] == 2][0]
    lost = first_2["index"] - (last_1["index"] + last_1["n"])
    assert lost > 0
    gaps = rec.gaps
    assert len(gaps) == 1, gaps
    assert int(gaps["lost_samples"].iloc[0]) == lost
    assert gaps["start_s"].iloc[0] == pytest.approx((last_1["index"] + last_1["n"] - frames[0]["index"]) / RATE_HZ)
    assert rec.link_drops == 1
    drops = [e for e in rec.extra["events"] if e.get("type") == "link_drop"]
    assert len(drops) == 1 and drops[0]["lost_samples"] == lost, drops
