"""Full BLE stack, end to end: bleak → bluetoothd → kernel hci_vhci → Bumble radio → emulated sensors.

Nothing above the radio is mocked.  A throw-away QEMU guest (``tests/vm/harness.py``)
runs Debian's kernel with ``hci_vhci``, D-Bus and BlueZ's ``bluetoothd``; in it,
``tests/vm/peripheral.py`` emulates one sensor per supported IMU profile, each with
its real GATT layout and byte stream, playing ``sample_recordings/sim_lower_back_run.parquet``
in real time (interpolated onto 52 Hz for Polar Verity, 200 Hz for the H10 and 104 Hz for
Movesense), and a heart-rate strap and a footpod (one measurement a second from the emulator's
models, ``emulated_profiles.heart_measurements`` / ``footpod_measurements``); each drops its
link once; ``tests/vm/guest_test.py`` runs the centrals, one after another, in one boot:

============  ==========================  =======  =====================================================
tag           profile                     central  streaming (drop after)
============  ==========================  =======  =====================================================
bleak         backstride-reference        bleak    20 s (10 s): validates the harness
witmotion     witmotion-wt901ble          bleak    14 s (7 s)
verity        polar-verity-sense          bleak    14 s (7 s), ACC + GYRO
thingy        nordic-thingy52             bleak    14 s (7 s)
metamotion    mbientlab-metamotion        bleak    14 s (7 s), accelerometer + gyroscope
movesense     movesense-gatt-sensordata   bleak    14 s (7 s), IMU6
TAG-live      each of the five above      session  60 s (30 s Polar/Movesense, 8 s the others): the product's
                                                   live path (``LiveSession``,
                                                   what ``backstride record`` runs), into a recording
strap+footpod heart-rate,                 session  60 s (strap 20 s, footpod 35 s): both in one session,
              running-speed-cadence                chest and foot-left, into heart_rate.arrows and rsc.arrows
h10           polar-h10                   session  60 s (30 s): ACC 200 Hz into chest.arrows, its heart
                                                   rate beside it (a companion on the same link)
record        backstride-reference        record   60 s (30 s): ``backstride record``, the product
============  ==========================  =======  =====================================================

The truth is the played recording and each sensor's own play log (every
notification's bytes and the sample indices it carries); the checks compare what
arrived at the central with them.

Rates: WitMotion and Thingy:52 send one notification per sample or two, MetaMotion one
per three samples and channel; at their usual 100 Hz that is ~100 notifications a
second, which the single emulated CPU cannot carry through Bumble, bluetoothd, D-Bus
and bleak (seen: half the notifications lost, commands delayed by 10 s).  So they
play at 20, 20 and 25 Hz (rates each device offers); Polar plays at its 52 Hz,
Movesense at 104 Hz (8 samples a frame), the reference profile at 100 Hz (19 a frame).
What each profile can reveal:

* strap and footpod: one measurement a second, each notification compared value for value
  with the play log and the emulator's model; the drop must show as one gap whose length
  matches the measurements missed (host receive times, within half a second);
* reference (sample counter + µs clock), Polar (ns clock of each frame), Movesense
  (ms clock of each frame, wrapping at 2**32 ms during the test): every sample is
  placed by the sensor's own clock, so the drop must show as exactly one gap of
  exactly the lost samples;
* WitMotion, Thingy:52, MetaMotion have no counter and no clock: samples can only be
  taken in arrival order.  The checks are byte-for-byte arrival of every played
  notification (count and values), and that the pause in host receive times
  around the drop is about as long as the samples the sensor measured meanwhile;
  a loss *within* a connection would stay invisible to a recorder.

Cost: one guest boot of about 18 minutes on one TCG CPU (measured 1089 s for the
module, 2026-11-23, with other users' jobs on the host's two cores; about 9 of those
minutes are the real-time streams — eight minutes-long product recordings — and most
of the rest imports under emulation), so those tests are marked
``slow``.  It skips (with the reason) only where the guest cannot be built: not
x86_64 Linux, or packages missing and no root/apt-get to install them.  The
emulator's encoders are also checked on the host, without a guest (fast tests at
the top).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from analysis.constants import GRAVITY_M_S2
from firmware_interface import metamotion, movesense, polar_pmd, reference, registry, thingy52, witmotion
from firmware_interface.base import DecodedFrame
from sensing.formats import open_recording
from sensing.recording import from_arrays

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "vm"))
import emulated_profiles as ep  # noqa: E402
import harness  # noqa: E402

RECORDING = ROOT / "sample_recordings" / "sim_lower_back_run.parquet"
RATE_HZ = 100
#: Sensor µs clock at the first sample: 20 s before it wraps at 2**32, so it wraps mid-stream.
SENSOR_CLOCK_START_US = 2**32 - 20_000_000
SENSOR_NAME = "backstride-2A01"
SENSOR_ADDRESS = "D4:5B:AC:3F:2A:01"
#: Where the short commodity streams start in the recording (its first 10 s are standing still).
OFFSET_S = 20.0

SENSORS = [
    dict(tag="bleak", profile="backstride-reference", address=SENSOR_ADDRESS, rate_hz=RATE_HZ, drop_after_s=10.0,
         clock_start=SENSOR_CLOCK_START_US),
    dict(tag="witmotion", profile="witmotion-wt901ble", address="D4:5B:AC:3F:2A:11", rate_hz=20, drop_after_s=7.0,
         offset_s=OFFSET_S),
    dict(tag="verity", profile="polar-verity-sense", address="D4:5B:AC:3F:2A:12", rate_hz=52, drop_after_s=7.0,
         offset_s=OFFSET_S),
    dict(tag="thingy", profile="nordic-thingy52", address="D4:5B:AC:3F:2A:13", rate_hz=20, drop_after_s=7.0,
         offset_s=OFFSET_S),
    dict(tag="metamotion", profile="mbientlab-metamotion", address="D4:5B:AC:3F:2A:14", rate_hz=25, drop_after_s=7.0,
         offset_s=OFFSET_S),
    dict(tag="movesense", profile="movesense-gatt-sensordata", address="D4:5B:AC:3F:2A:15", rate_hz=104, drop_after_s=7.0,
         offset_s=OFFSET_S),
    dict(tag="record", profile="backstride-reference", address="D4:5B:AC:3F:2A:02", rate_hz=RATE_HZ, drop_after_s=30.0,
         clock_start=SENSOR_CLOCK_START_US),
]
COMMODITY = ["witmotion", "verity", "thingy", "metamotion", "movesense"]
#: Profiles whose frames carry the sensor's clock (the drop is measurable exactly) vs arrival order only.
SENSOR_CLOCK = {"verity", "movesense"}
#: A second sensor of each commodity profile for the product's live path (each sensor drops its link once, in a
#: minute of streaming).  Clock profiles drop after 30 s.  Arrival-order profiles have only host receive times to
#: size the gap, and once notifications queue in the guest's one overloaded CPU the last frame before the drop
#: arrives late and the measured pause is short by that backlog (seen: 1.05 s at 20 Hz after 30 s, a fresh-clone
#: run); they drop after 8 s, while the guest still delivers promptly, so the 0.5 s check tests the product.
SENSORS += [dict(s, tag=f"{s['tag']}-live", address=s["address"][:-2] + f"{int(s['address'][-2:], 16) + 0x10:02X}",
                 drop_after_s=30.0 if s["tag"] in SENSOR_CLOCK else 8.0) for s in SENSORS if s["tag"] in COMMODITY]
#: The standard services backstride records beside the IMU: a heart-rate strap and a footpod, one notification a
#: second each (rate_hz 1: their measurement rate), recorded together in one session, each dropping its link once;
#: and a Polar H10 at its own default settings (PMD ACC 200 Hz, 16 bit, ±8 G, raw int16 mG frames) beside its
#: heart rate, one device, one link.
SENSORS += [
    dict(tag="strap", profile="heart-rate", address="D4:5B:AC:3F:2A:31", rate_hz=1, drop_after_s=20.0, placement="chest"),
    dict(tag="footpod", profile="running-speed-cadence", address="D4:5B:AC:3F:2A:32", rate_hz=1, drop_after_s=35.0,
         placement="foot-left"),
    dict(tag="h10", profile="polar-h10", address="D4:5B:AC:3F:2A:33", rate_hz=200, drop_after_s=30.0, offset_s=OFFSET_S,
         placement="chest"),
]
SPEC = {s["tag"]: s for s in SENSORS}
STANDARD = "strap+footpod"
#: (central, sensor tag, seconds of streaming in all), run in this order in one guest boot.
RUNS = [("bleak", "bleak", 20.0)] + [("bleak", t, 14.0) for t in COMMODITY] + [("session", f"{t}-live", 60.0) for t in COMMODITY] \
    + [("session", STANDARD, 60.0), ("session", "h10", 60.0), ("record", "record", 60.0)]
STREAM_S = {tag: s for _c, tag, s in RUNS}
#: Half a quantisation step per profile and channel (float32 for Movesense).
HALF_LSB = {
    "witmotion": (8.0 * GRAVITY_M_S2 / 32768, math.radians(1000.0 / 32768)),
    "verity": (0.5 * 8.0 / 32768 * GRAVITY_M_S2, math.radians(1000.0 / 32768)),
    "thingy": (0.5 * GRAVITY_M_S2 / 1024, math.radians(0.5 / 32)),
    "metamotion": (0.5 * GRAVITY_M_S2 / 2048, math.radians(0.5 / 16.4)),
    "movesense": (5e-6, 1e-6),
    "h10": (0.5 * GRAVITY_M_S2 / 1000, 0.0),
}
#: Which emulated stream carries which channels (a heart-rate or RSC stream: none).
STREAM_CHANNELS = {"data": ("acc", "gyr"), "raw": ("acc", "gyr"), "ref99": ("acc", "gyr"), "acc": ("acc",), "gyr": ("gyr",),
                   "hr": (), "rsc": ()}


# -- the emulator's encoders, on the host (fast) ------------------------------------------------------------


def _closed_form(n: int, rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """Sines of a few Hz around gravity and a few rad/s: an independent truth for the round trips."""
    t = np.arange(n)[:, None] / rate_hz
    acc = np.array([1.5, -2.0, GRAVITY_M_S2]) + np.array([6.0, 3.0, 12.0]) * np.sin(2 * np.pi * np.array([1.3, 2.9, 2.6]) * t)
    gyr = np.array([2.0, 5.0, 1.0]) * np.sin(2 * np.pi * np.array([0.7, 1.4, 3.1]) * t + 0.3)
    return acc, gyr


def _within(got: np.ndarray, want: np.ndarray, tol: float, what: str) -> None:
    err = np.abs(np.asarray(got) - np.asarray(want))
    assert err.shape == np.shape(want), f"{what}: shape {err.shape} vs {np.shape(want)}"
    assert err.max() <= tol + 1e-9, f"{what}: max error {err.max():.3g} > {tol:.3g}"


def test_witmotion_stream_split_across_notifications_decodes_to_the_samples():
    acc, gyr = _closed_form(200, 100)
    data = ep.witmotion_packets(acc, gyr)
    assert len(data) == 20 * 200 and data[:2] == b"\x55\x61" and data[20:22] == b"\x55\x61"
    sizes = [20, 20, 7, 33, 47, 13, 41, 60]  # as the emulated module cuts its stream
    chunks, _ = ep.split_stream(data, sizes, 0)
    cuts = np.cumsum([len(c) for c in chunks])[:-1]
    assert np.any(cuts % 20 == 1), "some notification must end between the 55 and the 61 of a header"
    assert np.any(cuts % 20 > 1), "some packet must straddle two notifications"
    decoder = witmotion.WitMotionDecoder()
    frame = DecodedFrame.concat([decoder.decode(c, strict=True) for c in chunks] + [decoder.flush(strict=True)])
    _within(frame.acc_m_s2, acc, HALF_LSB["witmotion"][0], "acc")
    _within(frame.gyr_rad_s, gyr, HALF_LSB["witmotion"][1], "gyr")


def test_thingy_metamotion_movesense_frames_decode_to_the_samples():
    acc, gyr = _closed_form(24, 104)
    mag = np.tile([22.0, -5.0, -33.0], (24, 1))
    frames = [thingy52.Thingy52Decoder().decode(b, strict=True) for b in ep.thingy_raw_frames(acc, gyr, mag)]
    thingy = DecodedFrame.concat(frames)
    _within(thingy.acc_m_s2, acc, HALF_LSB["thingy"][0], "thingy acc")
    _within(thingy.gyr_rad_s, gyr, HALF_LSB["thingy"][1], "thingy gyr")
    _within(thingy.mag_ut, mag, 1 / 32, "thingy mag")

    decoder = metamotion.MetaMotionDecoder(acc_range_g=16, gyr_range_dps=2000)
    acc_n = ep.metamotion_notifications(0x03, 0x1C, acc, GRAVITY_M_S2 / 2048, 3)
    gyr_n = ep.metamotion_notifications(0x13, 0x07, gyr, math.radians(1 / 16.4), 3)
    assert all(len(b) == 20 for b in acc_n + gyr_n)
    _within(DecodedFrame.concat([decoder.decode(b, strict=True) for b in acc_n]).acc_m_s2, acc, HALF_LSB["metamotion"][0], "mm acc")
    _within(DecodedFrame.concat([decoder.decode(b, strict=True) for b in gyr_n]).gyr_rad_s, gyr, HALF_LSB["metamotion"][1], "mm gyr")

    payload = ep.movesense_imu6(99, 2**32 - 20, acc[:8], gyr[:8])
    assert len(payload) == 6 + 8 * 24
    frame = movesense.MovesenseDecoder(resources={99: "/Meas/IMU6/104"}).decode(payload, strict=True)
    _within(frame.acc_m_s2, acc[:8], HALF_LSB["movesense"][0], "movesense acc")
    _within(frame.gyr_rad_s, gyr[:8], HALF_LSB["movesense"][1], "movesense gyr")
    # u32 ms clock wraps inside the frame: 2**32 − 20 ms, then 20 ms later it reads 0
    assert frame.sensor_time_s[0] == pytest.approx((2**32 - 20) / 1000)
    assert frame.sensor_time_s[3] == pytest.approx(3 / 104 - 0.020, abs=1e-9)


def test_polar_delta_frames_with_factor_decode_to_the_samples():
    acc, gyr = _closed_form(18, 52)
    decoder = polar_pmd.PolarPmdDecoder(sampling_rates_hz={polar_pmd.PmdMeasurement.ACC: 52, polar_pmd.PmdMeasurement.GYRO: 52})
    acc_factor, gyr_factor = 8 / 32768, 2000 / 32768
    decoder.handle_control_point(ep.pmd_response(2, 2, 0, ep.pmd_settings({5: [acc_factor]})))
    decoder.handle_control_point(ep.pmd_response(2, 5, 0, ep.pmd_settings({5: [gyr_factor]})))
    assert decoder.factors_ == {polar_pmd.PmdMeasurement.ACC: acc_factor, polar_pmd.PmdMeasurement.GYRO: gyr_factor}
    t_ns = 849_000_000 * 10**9
    raw = np.rint(acc / (acc_factor * GRAVITY_M_S2)).astype(np.int64)
    frame = decoder.decode(ep.pmd_frame(2, t_ns, 0x80, ep.pmd_delta_payload(raw, resolution_bits=16, block_sizes=[8, 9])),
                           strict=True)
    _within(frame.acc_m_s2, acc, HALF_LSB["verity"][0], "polar acc")
    assert frame.sensor_time_s[-1] == t_ns / 1e9
    raw = np.rint(np.degrees(gyr) / gyr_factor).astype(np.int64)
    frame = decoder.decode(ep.pmd_frame(5, t_ns, 0x80, ep.pmd_delta_payload(raw, resolution_bits=16, block_sizes=[17])),
                           strict=True)
    _within(frame.gyr_rad_s, gyr, HALF_LSB["verity"][1], "polar gyr")
    # the published SDK vector (PROTOCOLS.md §A.2, GYRO compressed type 0) comes out of the encoder byte for byte
    vector = bytes.fromhex("EAFF08000D000301DF00")
    assert ep.pmd_delta_payload(np.array([[-22, 8, 13], [-23, 11, 16]]), resolution_bits=16, block_sizes=[1]) == vector


def test_played_samples_cut_and_interpolate_the_recording():
    acc100, gyr100 = ep.played_samples(RECORDING, sampling_rate_hz=100, offset_s=OFFSET_S)
    truth = open_recording(RECORDING).data
    first = int(OFFSET_S * 100)
    np.testing.assert_array_equal(acc100, truth[["acc_x", "acc_y", "acc_z"]].to_numpy()[first:])
    acc52, gyr52 = ep.played_samples(RECORDING, sampling_rate_hz=52, offset_s=OFFSET_S)
    assert abs(len(acc52) - len(acc100) * 52 / 100) <= 1
    # on the instants both grids share (every second) the 52-Hz sensor measures the recording's values
    np.testing.assert_allclose(acc52[::52][:300], acc100[::100][:300], atol=1e-6)
    np.testing.assert_allclose(gyr52[::52][:300], gyr100[::100][:300], atol=1e-6)
    # in between, linear interpolation: 1/52 s after t = 25 s lies 1.923 samples into the 100-Hz grid
    w = 100 / 52 - 1
    np.testing.assert_allclose(acc52[52 * 25 + 1], (1 - w) * acc100[2501] + w * acc100[2502], atol=1e-6)
    with pytest.raises(ValueError, match="outside"):
        ep.played_samples(RECORDING, sampling_rate_hz=100, offset_s=1e6)


def test_strap_and_footpod_measurements_decode_to_a_consistent_run():
    """The strap's notifications, through the product's encoder and decoder, give back every value exactly, and
    their RR intervals form one beat train: the beats a notification reports ended in the second before it."""
    from firmware_interface import heart_rate, rsc
    from sensing.ble import encode_heart_rate, encode_rsc

    beats = ep.heart_measurements(120)
    decoder = heart_rate.PROFILE.decoder()
    beat_times = np.cumsum(np.concatenate([m["rr_s"] for m in beats]))
    owner = np.repeat(np.arange(len(beats)), [len(m["rr_s"]) for m in beats])
    assert np.all((beat_times > owner - 1) & (beat_times <= owner)), "a beat reported in the wrong second"
    assert beat_times[-1] > 118 and 2.0 <= len(beat_times) / beat_times[-1] <= 3.0  # 120-180 bpm
    for m in beats:
        got = decoder.decode(encode_heart_rate(**m), strict=True).extra
        assert got["hr_bpm"][0] == m["hr_bpm"] and bool(got["contact"][0])
        np.testing.assert_array_equal(got["rr_s"], m["rr_s"])
        if m["rr_s"]:  # the rate the strap shows is that of the last beat
            assert m["hr_bpm"] == round(60 / m["rr_s"][-1])
        assert ("energy_kj" in got) == (m["energy_kj"] is not None)

    pod = ep.footpod_measurements(120)
    decoder = rsc.PROFILE.decoder()
    for m, after in zip(pod, pod[1:]):
        got = decoder.decode(encode_rsc(**m), strict=True).extra
        for key in ("speed_m_s", "cadence_per_min", "stride_length_m", "total_distance_m"):
            assert got[key][0] == m[key], key
        # one second at this speed, to the decimetre; a stride is two steps at this cadence, to the centimetre
        assert after["total_distance_m"] - m["total_distance_m"] == pytest.approx(m["speed_m_s"], abs=0.1 + 1e-9)
        assert m["stride_length_m"] == pytest.approx(2 * m["speed_m_s"] / (m["cadence_per_min"] / 60), abs=0.005 + 1e-9)


def test_polar_h10_raw_acc_frames_decode_to_the_samples():
    """H10 ACC raw frames (sub-type 1, int16 mG) through the H10 profile's own decoder at its default 200 Hz."""
    acc, _ = _closed_form(36, 200)
    decoder = registry.profile("polar-h10").decoder()
    t_ns = 851_000_000 * 10**9
    frame = decoder.decode(ep.pmd_frame(2, t_ns, 0x01, ep.pmd_acc_raw_int16(acc)), strict=True)
    _within(frame.acc_m_s2, acc, HALF_LSB["h10"][0], "h10 acc")
    assert frame.sensor_time_s[-1] == t_ns / 1e9
    np.testing.assert_allclose(np.diff(frame.sensor_time_s), 1 / 200, atol=1e-6)  # float64 s at 8.5e8 s: 0.12 µs steps
    # what the emulated H10 plays stays inside its ±8 G (raw int16 mG would saturate beyond 32.767 G anyway)
    played, _ = ep.played_samples(RECORDING, sampling_rate_hz=200, offset_s=OFFSET_S)
    assert np.abs(played).max() < 8 * GRAVITY_M_S2


# -- the guest ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guest():
    """Boot the guest once and run every central in it; yield the results folder and run info.

    Results go to ``.cache/vm/results/`` (git-ignored; the last run is kept for
    reading after a failure), not pytest's tmp_path: on a shared machine other
    pytest sessions prune those folders while the guest is still writing.

    ``BACKSTRIDE_VM_JUDGE=FOLDER`` judges the results a finished guest left in FOLDER
    instead of booting one (to re-read a run after changing a check; the guest's
    own files are the evidence, nothing is made up).
    """
    judge = os.environ.get("BACKSTRIDE_VM_JUDGE")
    if judge:
        results = Path(judge)
        t0_utc = (results / "cmd.sh").stat().st_mtime
        code = (results / "exit_code").read_text().strip() if (results / "exit_code").exists() else ""
        run = harness.GuestRun(int(code) if code else None, (results / "cmd.log").stat().st_mtime - t0_utc, results,
                               (results / "console.log").read_text(errors="replace"))
        return results, run, t0_utc
    try:
        image = harness.build()
    except harness.HarnessUnavailable as why:
        pytest.skip(f"full-stack BLE guest cannot be built here: {why}")
    results = harness.CACHE / "results"
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir(parents=True)
    runs = " ".join(f"--run {central}:{tag}:{stream_s:g}" for central, tag, stream_s in RUNS)
    sensors = json.dumps(SENSORS).replace("'", "'\\''")
    command = (f".venv/bin/python tests/vm/guest_test.py --results /mnt/results --recording {RECORDING} "
               f"--sensors '{sensors}' {runs}")
    t0_utc = time.time()
    run = harness.run(command, results=results, image=image, timeout_s=1800)
    print(f"\nguest wall time {run.wall_s:.0f} s; results in {results}")
    assert run.exit_code is not None, f"the guest never finished its command.\n--- console ---\n{run.console[-3000:]}"
    return results, run, t0_utc


#: Centrals that are the product (its reconnect loop), not this harness's plain bleak script.
PRODUCT_CENTRALS = ("session", "record")


def data_connections(played: list[dict]) -> list[dict]:
    """The play log with the connections that carried data numbered 1, 2, … and the attempts that carried none left out.

    The product retries a connection attempt that fails before it streams: BlueZ's own ``le-connection-abort-by-local``
    retry inside bleak's connect, or a GATT step timing out in the guest's one busy CPU (a fresh-clone CI run once
    showed a strap connected three times for two streams).  Such an attempt is the central's business and costs no
    data; the checks are about the connections that streamed.  An attempt that the sensor dropped, or in which it sent
    any notification, is a data connection and stays: the checks then see it.
    """
    sessions: dict[int, list[dict]] = {}
    for p in played:
        if "session" in p:
            sessions.setdefault(p["session"], []).append(p)
    carried = [n for n in sorted(sessions) if any(
        (p["kind"] == "frame" and p["notifications"]) or p["kind"] == "drop" for p in sessions[n])]
    number = {old: new for new, old in enumerate(carried, start=1)}
    return [p if "session" not in p else {**p, "session": number[p["session"]]} for p in played
            if "session" not in p or p["session"] in number]


def scenario(guest, tag: str):
    """(central.json, play log) of one run; fails with the guest's own words if it failed."""
    results, run, _ = guest
    folder = results / tag
    out = json.loads((folder / "central.json").read_text()) if (folder / "central.json").exists() else {}
    assert "error" not in out and out, (
        f"{tag} run failed: {out.get('error')}\n--- guest output ---\n{run.output()[-4000:]}\n"
        f"--- peripheral.log ---\n{_tail(results / 'peripheral.log')}\n--- record.log ---\n{_tail(folder / 'record.log')}"
    )
    played = [json.loads(line) for line in (folder / "played.jsonl").read_text().splitlines()]
    if out.get("central") in PRODUCT_CENTRALS:
        played = data_connections(played)
    if "recording" in out:  # the guest sees the results share at /mnt/results
        out["recording"] = str(folder / Path(out["recording"]).name)
    return out, played


def test_data_connections_leave_out_attempts_that_carried_nothing():
    """A connection the central gave up before anything streamed goes; the sensor's drop and every frame stay."""
    def frame(n, sent=True):
        return {"kind": "frame", "session": n, "stream": "hr", "index": n, "n": 1, "notifications": [["2a37", "00"]] if sent else []}

    log = [{"kind": "ready"},
           {"kind": "connected", "session": 1}, {"kind": "start", "session": 1, "stream": "hr"}, frame(1),
           {"kind": "drop", "session": 1}, {"kind": "disconnected", "session": 1, "reason": 19},
           {"kind": "connected", "session": 2}, {"kind": "subscription", "session": 2}, frame(2, sent=False),
           {"kind": "disconnected", "session": 2, "reason": 19},
           {"kind": "connected", "session": 3}, frame(3), {"kind": "stop", "session": 3, "stream": "hr"}]
    got = data_connections(log)
    assert [p["session"] for p in got if p["kind"] == "connected"] == [1, 2]
    assert [(p["session"], p["index"]) for p in got if p["kind"] == "frame"] == [(1, 1), (2, 3)]
    assert [p["kind"] for p in got if p.get("session") == 2] == ["connected", "frame", "stop"]
    assert got[0] == {"kind": "ready"}
    # an attempt in which the sensor sent data, or which it dropped, is never left out
    assert data_connections(log[:10] + [frame(2)]) == log[:10] + [frame(2)]


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


# -- backstride reference profile, plain bleak ----------------------------------------------------------


@pytest.mark.slow
def test_scan_finds_the_sensor_with_its_profile(bleak_run):
    central, played = bleak_run
    assert [f["profile"] for f in central["found"]] == ["backstride-reference"] * 2  # first scan, then after the drop
    assert {f["address"] for f in central["found"]} == {SENSOR_ADDRESS}
    names = {f["name"] for f in central["found"]} - {None}  # the name is in the scan response, may come later
    assert names <= {SENSOR_NAME}
    assert all(reference.SERVICE_UUID in f["service_uuids"] for f in central["found"])
    # Independent of the guest's registry call: the advertisement itself identifies the profile.
    assert registry.identify(SENSOR_NAME, [reference.SERVICE_UUID]).key == "backstride-reference"


@pytest.mark.slow
def test_start_commands_reach_the_sensor_and_the_link_drops_once(bleak_run):
    central, played = bleak_run
    commands = [p["op"] for p in played if p["kind"] == "command"]
    # Each connection: the profile's start sequence, all answered with success by the sensor.
    start_sequence = ["STOP", "SET_RATE", "SET_RANGE", "SET_CHANNELS", "START"]
    assert commands[:5] == start_sequence and commands[5:10] == start_sequence, commands
    assert commands[10:] == ["STOP"], commands  # the central's stop at the end
    assert all(p["status"] == 0 for p in played if p["kind"] == "command")
    assert [s["dropped_by_sensor"] for s in central["sessions"]] == [True, False]
    assert sum(p["kind"] == "drop" for p in played) == 1
    assert sum(p["kind"] == "connected" for p in played) == 2
    assert all(p["att_mtu"] == 247 for p in played if p["kind"] == "mtu")


@pytest.mark.slow
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


@pytest.mark.slow
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
    assert n_checked >= (STREAM_S["bleak"] - 3) * RATE_HZ, n_checked


@pytest.mark.slow
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


# -- commodity profiles, plain bleak -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def commodity_runs(guest):
    """tag → (central.json, play log) of every commodity run (a failed run fails only its own tests)."""
    out = {}
    for tag in COMMODITY:
        try:
            out[tag] = scenario(guest, tag)
        except AssertionError as err:
            out[tag] = err
    return out


def _run(commodity_runs, tag):
    got = commodity_runs[tag]
    if isinstance(got, AssertionError):
        raise got
    return got


def _played_notifications(played: list[dict], session: int, with_times: bool = False):
    """Every notification the sensor sent in one connection, in order: data frames and command answers
    (and, ``with_times``, the guest UTC time each was handed to the radio)."""
    out, times = [], []
    for p in played:
        if p.get("session") != session:
            continue
        if p["kind"] == "frame":
            out += p["notifications"]
            times += [p["utc_s"]] * len(p["notifications"])
        elif p["kind"] == "answer":
            out.append([p["char"], p["hex"]])
            times.append(p["utc_s"])
    return (out, times) if with_times else out


#: What the central may miss at the very end: notifications sent after it began to stop, and this long before
#: (on their way through bluetoothd and D-Bus in the one emulated CPU when notifications were disabled;
#: seen: 1.4 s behind with the live path's decoding and metrics in the same CPU).
TAIL_S = 2.0


@pytest.mark.slow
@pytest.mark.parametrize("tag", COMMODITY)
def test_commodity_scan_connect_and_the_link_drops_once(commodity_runs, tag):
    central, played = _run(commodity_runs, tag)
    spec = SPEC[tag]
    assert [f["profile"] for f in central["found"]] == [spec["profile"]] * 2  # first scan, and after the drop
    assert {f["address"] for f in central["found"]} == {spec["address"]}
    assert [s["dropped_by_sensor"] for s in central["sessions"]] == [True, False]
    assert sum(p["kind"] == "drop" for p in played) == 1
    assert [p["session"] for p in played if p["kind"] == "connected"] == [1, 2]
    assert all(p["att_mtu"] == 247 for p in played if p["kind"] == "mtu")


@pytest.mark.slow
@pytest.mark.parametrize("tag", COMMODITY)
def test_commodity_start_and_stop_commands_reach_the_sensor(commodity_runs, tag):
    """Every write the central made arrives, in order, byte for byte; the sensor accepted each and
    started streaming on every connection; the central's stop reached it at the end."""
    central, played = _run(commodity_runs, tag)
    for number, session in enumerate(central["sessions"], start=1):
        commands = [p for p in played if p["kind"] == "command" and p["session"] == number]
        assert [p["bytes"] for p in commands] == [h for _t, _u, h in session["writes"]], f"session {number}"
        assert all(not p.get("note") and p.get("status", 0) == 0 for p in commands), commands
        starts = {p["stream"] for p in played if p["kind"] == "start" and p["session"] == number}
        stops = {p["stream"] for p in played if p["kind"] == "stop" and p["session"] == number}
        expected = {"witmotion": {"data"}, "verity": {"acc", "gyr"}, "thingy": {"raw"}, "metamotion": {"acc", "gyr"},
                    "movesense": {"ref99"}}[tag]
        assert starts == expected, f"session {number}: streams started {starts}"
        assert stops == expected, f"session {number}: streams stopped {stops}"
    # what the writes were (the profile's own start commands, with this run's settings)
    writes = [bytes.fromhex(h) for _t, _u, h in central["sessions"][0]["writes"]]
    if tag == "witmotion":
        assert writes == [w.data for w in witmotion.rate_commands(20)]  # unlock, rate 20 Hz (07), save
    elif tag == "thingy":
        assert len(writes) == 1 and np.frombuffer(writes[0], dtype=thingy52.MOTION_CONFIG)["motion_freq_hz"][0] == 20
    elif tag == "verity":
        assert [w[:2] for w in writes] == [b"\x01\x02", b"\x01\x05", b"\x02\x02", b"\x02\x05"]
    elif tag == "metamotion":
        assert writes[0] == bytes([0x03, 0x03, 0x26, 0x0C])  # accelerometer 25 Hz, ±16 g (BMI160 codes)
        assert writes[-1] == bytes([0x03, 0x01, 0x01])  # accelerometer start
    elif tag == "movesense":
        assert writes == [b"\x01\x63/Meas/IMU6/104"]
        last = central["sessions"][-1]
        assert [bytes.fromhex(h) for _t, _u, h in last["writes"]][-1] == b"\x02\x63"  # unsubscribe


@pytest.mark.slow
@pytest.mark.parametrize("tag", COMMODITY)
def test_commodity_every_played_notification_arrives_once_in_order(commodity_runs, tag):
    """Byte-for-byte: what bleak handed over is exactly what the sensor sent, in its order.

    Before the drop the sensor lets its queue empty, so the first connection must match
    completely.  At the end the central disables notifications: WitMotion and Thingy:52
    stop streaming only then, and what was in flight may be dropped by BlueZ, so the
    last connection may miss what was sent after the central began to stop, and in the
    :data:`TAIL_S` before (on its way through the starved guest).
    """
    central, played = _run(commodity_runs, tag)
    for number, session in enumerate(central["sessions"], start=1):
        got = [[uuid, h] for _t, uuid, h in session["notifications"]]
        sent, sent_utc = _played_notifications(played, number, with_times=True)
        if number < len(central["sessions"]):
            assert got == sent, f"session {number}: {len(got)} notifications received, {len(sent)} sent"
        else:
            assert got == sent[: len(got)], f"session {number}: received notifications differ from those sent"
            must = int(np.sum(np.asarray(sent_utc) < session["stop_begin_utc"] - TAIL_S))
            assert len(got) >= must, (f"session {number}: {must - len(got)} notifications sent more than {TAIL_S} s "
                                      f"before the central began to stop never arrived")


def _decoder(tag: str, session: dict):
    spec = SPEC[tag]
    settings = ep.central_settings(spec["profile"], spec["rate_hz"])
    if tag == "thingy":
        settings["current_config"] = bytes.fromhex(session["current_config"])
    return registry.profile(spec["profile"]).decoder(**settings)


def _decoded(tag: str, session: dict) -> tuple[dict, list]:
    """The session's samples per channel as the project's decoder reads them, and their host times."""
    decoder = _decoder(tag, session)
    parts = {"acc": [], "gyr": [], "acc_t": [], "gyr_t": []}
    for host_t, uuid, h in session["notifications"]:
        data = bytes.fromhex(h)
        if tag == "verity" and uuid == polar_pmd.CONTROL_POINT_UUID:
            decoder.handle_control_point(data)
            continue
        frame = decoder.decode(data, strict=True)
        for ch, arr in (("acc", frame.acc_m_s2), ("gyr", frame.gyr_rad_s)):
            if arr is not None and len(arr):
                parts[ch].append(arr)
                parts[ch + "_t"].append(frame.sensor_time_s if frame.sensor_time_s is not None
                                        else np.full(len(arr), host_t))
    frame = decoder.flush(strict=True)
    assert frame.n_samples == 0 or tag == "witmotion"
    for ch, arr in (("acc", frame.acc_m_s2), ("gyr", frame.gyr_rad_s)):
        if arr is not None and len(arr):
            parts[ch].append(arr)
    return {k: (np.concatenate(v) if v else np.empty((0, 3) if not k.endswith("_t") else 0)) for k, v in parts.items()}


def _played_indices(played: list[dict], session: int, channel: str) -> np.ndarray:
    """Indices (into the played samples) of every sample of ``channel`` sent in one connection, in order."""
    parts = [p["index"] + np.arange(p["n"]) for p in played
             if p["kind"] == "frame" and p["session"] == session and channel in STREAM_CHANNELS[p["stream"]]
             and p["notifications"]]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


@pytest.fixture(scope="module")
def played_truth():
    """tag → (acc, gyr) the emulated sensor measured (rebuilt from the recording, as the sensor did)."""
    return {tag: ep.played_samples(RECORDING, sampling_rate_hz=SPEC[tag]["rate_hz"], offset_s=SPEC[tag].get("offset_s", 0.0))
            for tag in COMMODITY + [f"{t}-live" for t in COMMODITY] + ["h10"]}


@pytest.mark.slow
@pytest.mark.parametrize("tag", COMMODITY)
def test_commodity_samples_equal_what_was_played(commodity_runs, played_truth, tag):
    """Decoded with firmware_interface, every sample equals the played one within the profile's quantisation,
    one for one and in order (arrival order is all WitMotion, Thingy:52 and MetaMotion tell)."""
    central, played = _run(commodity_runs, tag)
    acc_true, gyr_true = played_truth[tag]
    rate = SPEC[tag]["rate_hz"]
    n_checked = 0
    for number, session in enumerate(central["sessions"], start=1):
        got = _decoded(tag, session)
        for ch, truth, tol in (("acc", acc_true, HALF_LSB[tag][0]), ("gyr", gyr_true, HALF_LSB[tag][1])):
            idx = _played_indices(played, number, ch)
            n = len(got[ch])
            assert n <= len(idx), f"session {number} {ch}: {n} samples decoded, only {len(idx)} played"
            if number < len(central["sessions"]):
                assert n == len(idx), f"session {number} {ch}: {n} samples decoded, {len(idx)} played"
            _within(got[ch], truth[idx[:n]], tol, f"session {number} {ch}")
            n_checked += n if ch == "acc" else 0
    assert n_checked >= (STREAM_S[tag] - 3) * rate, f"only {n_checked / rate:.1f} s of samples"


@pytest.mark.slow
@pytest.mark.parametrize("tag", COMMODITY)
def test_commodity_link_drop_shows_as_a_gap_of_the_right_length(commodity_runs, tag):
    """With a sensor clock (Polar, Movesense) the drop is exactly the lost samples; without one
    (WitMotion, Thingy:52, MetaMotion) only the pause in host receive times shows it, about as long."""
    central, played = _run(commodity_runs, tag)
    rate = SPEC[tag]["rate_hz"]
    s1, s2 = central["sessions"]
    for ch in ("acc", "gyr"):
        idx1, idx2 = _played_indices(played, 1, ch), _played_indices(played, 2, ch)
        lost = int(idx2[0] - idx1[-1] - 1)
        assert lost > 0
        got1, got2 = _decoded(tag, s1), _decoded(tag, s2)
        if tag in SENSOR_CLOCK:
            t = np.concatenate([got1[ch + "_t"], got2[ch + "_t"]])
            if tag == "movesense":  # u32 ms clock: wraps during the test
                t = np.unwrap(t, period=movesense.TIME_MODULUS_S)
            index = np.rint((t - t[0]) * rate).astype(np.int64)
            steps = np.diff(index)
            assert np.all(steps >= 1), "sensor time went back or repeated"
            gaps = np.flatnonzero(steps > 1)
            assert len(gaps) == 1, f"{ch}: gaps at {gaps}: {steps[gaps]}"
            assert steps[gaps[0]] - 1 == lost, f"{ch}: the sensor clock shows {steps[gaps[0]] - 1} lost, {lost} were"
        else:
            host_pause_s = got2[ch + "_t"][0] - got1[ch + "_t"][-1]
            assert host_pause_s == pytest.approx(lost / rate, abs=0.5), (
                f"{ch}: host receive times pause {host_pause_s:.2f} s for {lost / rate:.2f} s of lost samples")


# -- commodity profiles through the product's live path (sensing.session.LiveSession, as `backstride record`) --

LIVE = [f"{t}-live" for t in COMMODITY] + ["h10"]
#: What the product records of each (sensing.ble.default_settings): Polar ACC only, MetaMotion accelerometer only.
LIVE_CHANNELS = {"witmotion": ("acc", "gyr"), "verity": ("acc",), "thingy": ("acc", "gyr"), "metamotion": ("acc",),
                 "movesense": ("acc", "gyr"), "h10": ("acc",)}
COLUMNS = {"acc": ["acc_x", "acc_y", "acc_z"], "gyr": ["gyr_x", "gyr_y", "gyr_z"]}


@pytest.fixture(scope="module")
def live_runs(guest):
    out = {}
    for tag in LIVE:
        try:
            out[tag] = scenario(guest, tag)
        except AssertionError as err:
            out[tag] = err
    return out


def _live(live_runs, tag):
    central, played = _run(live_runs, tag)
    return central, played, open_recording(central["recording"])


def _played_all(played: list[dict], channel: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Played indices of ``channel``: all (in order), first connection, second connection."""
    one, two = _played_indices(played, 1, channel), _played_indices(played, 2, channel)
    return np.concatenate([one, two]), one, two


@pytest.mark.slow
@pytest.mark.parametrize("tag", LIVE)
def test_live_recording_is_complete_and_the_sensor_was_started_twice(live_runs, tag):
    central, played, rec = _live(live_runs, tag)
    spec = SPEC[tag]
    assert not central["running_after_stop"], "the live session did not end when stopped"
    assert rec.extra["profile"] == spec["profile"]
    assert rec.sampling_rate_hz == spec["rate_hz"]
    assert rec.extra["complete"] and not rec.extra["truncated"]
    assert rec.extra["corrupt_frames"] == 0 and rec.extra["duplicate_samples"] == 0
    assert rec.link_drops == 1
    assert [p["session"] for p in played if p["kind"] == "connected"] == [1, 2]
    assert sum(p["kind"] == "drop" for p in played) == 1
    commands = [p for p in played if p["kind"] == "command"]
    assert commands and all(not p.get("note") and p.get("status", 0) == 0 for p in commands), commands
    for number in (1, 2):
        assert any(p["kind"] == "start" and p["session"] == number for p in played), f"no stream in connection {number}"
    # the stop at the end reached the sensor (explicit stop, or notifications disabled)
    assert any(p["kind"] == "stop" and p["session"] == 2 for p in played)


@pytest.mark.slow
@pytest.mark.parametrize("tag", LIVE)
def test_live_recording_holds_what_was_played(live_runs, played_truth, tag):
    """Every played sample is in the recording once, in order, with its value within the quantisation;
    with a sensor clock (Polar, Movesense) also at its exact index.  Samples sent after the session was
    asked to stop, or in the :data:`TAIL_S` before, may be missing at the end (notifications disabled)."""
    central, played, rec = _live(live_runs, tag)
    base = tag.removesuffix("-live")
    rate = SPEC[tag]["rate_hz"]
    truth = dict(zip(("acc", "gyr"), played_truth[tag]))
    for ch, tol in zip(("acc", "gyr"), HALF_LSB[base]):
        if ch not in LIVE_CHANNELS[base]:
            continue
        everything, one, _two = _played_all(played, ch)
        got = rec.data[COLUMNS[ch]].to_numpy()
        n = len(got)
        assert n <= len(everything), f"{ch}: {n} samples recorded, only {len(everything)} played"
        must = sum(p["n"] for p in played if p["kind"] == "frame" and p["notifications"] and p["session"] in (1, 2)
                   and ch in STREAM_CHANNELS[p["stream"]] and p["utc_s"] < central["stop_begin_utc"] - TAIL_S)
        assert n >= must, f"{ch}: {must - n} samples played more than {TAIL_S} s before the stop are not recorded"
        assert n >= (STREAM_S[tag] - 3) * rate, f"{ch}: only {n / rate:.1f} s recorded"
        _within(got, truth[ch][everything[:n]], tol, f"{ch}")
        index = rec.data.index.to_numpy()
        np.testing.assert_array_equal(index[: len(one)], np.arange(len(one)))  # first connection: 0, 1, 2 …
        if base in SENSOR_CLOCK or base == "h10":
            np.testing.assert_array_equal(index, everything[:n] - everything[0])


@pytest.mark.slow
@pytest.mark.parametrize("tag", LIVE)
def test_live_recording_marks_the_link_drop_as_one_gap(live_runs, tag):
    """Polar and Movesense: the gap is exactly the lost samples (sensor clock).  WitMotion, Thingy:52,
    MetaMotion: only host receive times can size it, so it must be within half a second of the truth."""
    central, played, rec = _live(live_runs, tag)
    base = tag.removesuffix("-live")
    rate = SPEC[tag]["rate_hz"]
    everything, one, two = _played_all(played, "acc")
    lost = int(two[0] - one[-1] - 1)
    gaps = rec.gaps
    assert len(gaps) == 1, gaps
    got_lost = int(gaps["lost_samples"].iloc[0])
    assert gaps["start_s"].iloc[0] == pytest.approx(len(one) / rate)
    if base in SENSOR_CLOCK or base == "h10":
        assert got_lost == lost, f"recorded gap {got_lost} samples, {lost} were lost"
    else:
        assert abs(got_lost - lost) <= 0.5 * rate, f"recorded gap {got_lost} samples, {lost} were lost"
    drops = [e for e in rec.extra["events"] if e.get("type") == "link_drop"]
    assert len(drops) == 1 and drops[0]["lost_samples"] == got_lost, drops


# -- heart-rate strap, footpod, and the H10's heart rate through the product's live path ---------------------


@pytest.fixture(scope="module")
def standard_run(guest):
    """(central.json, {tag: play log}) of the one session that recorded the strap and the footpod together."""
    results, run, _ = guest
    folder = results / STANDARD
    out = json.loads((folder / "central.json").read_text()) if (folder / "central.json").exists() else {}
    assert out and "error" not in out, (f"{STANDARD} run failed: {out.get('error')}\n--- guest output ---\n"
                                        f"{run.output()[-4000:]}\n--- peripheral.log ---\n{_tail(results / 'peripheral.log')}")
    out["recording"] = str(folder / "recording")  # the guest sees the results share at /mnt/results
    played = {tag: data_connections([json.loads(line) for line in (results / tag / "played.jsonl").read_text().splitlines()])
              for tag in STANDARD.split("+")}
    return out, played


def _event_frames(played: list[dict], stream: str) -> list[dict]:
    """The measurements a strap or footpod played (stream ``hr`` or ``rsc``), both connections, in order."""
    return [p for p in played if p["kind"] == "frame" and p["stream"] == stream and p["notifications"]]


def _check_event_stream(df, played: list[dict], stream: str, central: dict, columns: tuple[str, ...], truth: list[dict]):
    """Every measurement played in both connections is a row, once, in order, with its exact value (the play log's
    and the emulator's model's), received after it was sent; only what was sent after the stop began, or
    :data:`TAIL_S` before, may be missing; the link drop is one gap, between the last row before it and the first
    after, beginning when the sensor dropped the link.

    No length check on the gap beyond that: a strap has no clock, so host receive times are all there is, and in the
    guest's one busy CPU (an H10 streams 200 Hz beside its heart rate) the last notification before the drop can
    arrive most of a second late (seen: 4.28 s between rows across 4 missed measurements).  The measurements missed
    are known exactly from the play log, not from the recording."""
    frames = _event_frames(played, stream)
    assert [p["session"] for p in frames] == sorted(p["session"] for p in frames) and {p["session"] for p in frames} == {1, 2}
    n = len(df)
    must = sum(p["utc_s"] < central["stop_begin_utc"] - TAIL_S for p in frames)
    assert must <= n <= len(frames), f"{n} rows recorded, {len(frames)} measurements played, {must} before the stop"
    for column in columns:
        want = [p["measurement"][column] for p in frames[:n]]
        model = [truth[p["index"]][column] for p in frames[:n]]
        assert want == model, f"{column}: the play log is not the emulator's model"
        got = df[column].tolist()
        if column == "rr_s":
            assert [list(v) for v in got] == want, "RR intervals differ from those played"
        else:  # exact: every value lies on the wire's grid; a field not sent reads NaN
            np.testing.assert_array_equal(np.asarray(got, dtype=float), [np.nan if v is None else float(v) for v in want],
                                          err_msg=f"{column} differs from what was played")
    # one link drop, one gap, where the measurements stop and resume
    assert df.attrs["complete"] and df.attrs["link_drops"] == 1 and df.attrs["corrupt_frames"] == 0
    (gap,) = df.attrs["gaps"]
    before = sum(p["session"] == 1 for p in frames)
    t = df["t_s"].to_numpy()
    assert t[before - 1] <= gap["start_s"] < gap["end_s"] == pytest.approx(t[before])
    assert frames[before]["index"] - frames[before - 1]["index"] > 1, "the drop must have cost measurements"
    assert np.all(np.diff(t) > 0)
    # the guest's one clock: sensor log and central share it
    received_utc = np.array([x.timestamp() for x in df["utc"]])
    latency_s = received_utc - np.array([p["utc_s"] for p in frames[:n]])
    assert latency_s.min() > -0.01 and latency_s.max() < 5.0, f"receive - send: {latency_s.min():.3f} … {latency_s.max():.3f} s"
    dropped_utc = next(p["utc_s"] for p in played if p["kind"] == "disconnected")
    gap_start_utc = df.attrs["start_utc"].timestamp() + gap["start_s"]
    assert dropped_utc - 0.01 <= gap_start_utc <= dropped_utc + 5.0, (
        f"gap begins {gap_start_utc - dropped_utc:+.2f} s from the sensor's drop")


@pytest.mark.slow
def test_strap_and_footpod_session_records_both_streams_exactly(standard_run):
    """A strap (chest) and a footpod (foot-left) recorded together by the product's live session, each losing its
    link once on its own: two event files, every measurement in them, one gap each."""
    from sensing import chunked

    central, played = standard_run
    folder = Path(central["recording"])
    assert not central["running_after_stop"]
    assert sorted(p.name for p in folder.iterdir()) == ["heart_rate.arrows", "rsc.arrows", "session.json"]
    for tag in ("strap", "footpod"):
        assert [p["session"] for p in played[tag] if p["kind"] == "connected"] == [1, 2], tag
        assert sum(p["kind"] == "drop" for p in played[tag]) == 1, tag
        assert any(p["kind"] == "stop" and p["session"] == 2 for p in played[tag]), f"{tag}: never unsubscribed"
    hr = chunked.read_heart_rate(folder)
    assert hr.attrs["placement"] == "chest" and hr.attrs["profile"] == "heart-rate"
    assert hr.attrs["address"] == SPEC["strap"]["address"]
    _check_event_stream(hr, played["strap"], "hr", central, ("hr_bpm", "rr_s", "contact", "energy_kj"),
                        ep.heart_measurements(600))
    assert len(hr) >= STREAM_S[STANDARD] - 5
    rr = chunked.read_rr_intervals(folder)
    assert len(rr) > 2 * len(hr)  # two or three beats a second at 135-165 bpm
    pod = chunked.read_rsc(folder)
    assert pod.attrs["placement"] == "foot-left" and pod.attrs["profile"] == "running-speed-cadence"
    _check_event_stream(pod, played["footpod"], "rsc", central,
                        ("speed_m_s", "cadence_per_min", "stride_length_m", "total_distance_m", "running"),
                        ep.footpod_measurements(600))
    assert len(pod) >= STREAM_S[STANDARD] - 5
    # the live snapshot at the end showed both streams
    streams = {x["kind"]: x for x in central["snapshot"]["streams"]}
    assert sorted(streams) == ["heart_rate", "rsc"]
    assert streams["heart_rate"]["measurements"] == len(hr) and streams["heart_rate"]["link_drops"] == 1
    assert streams["rsc"]["measurements"] == len(pod) and streams["rsc"]["link_drops"] == 1


@pytest.mark.slow
def test_h10_heart_rate_is_recorded_beside_its_accelerometer(live_runs):
    """The H10's Heart Rate service, a companion of its PMD accelerometer on the same link: every measurement,
    and the one link drop as one gap in both files."""
    from sensing import chunked

    central, played, rec = _live(live_runs, "h10")
    folder = Path(central["recording"])
    assert sorted(p.name for p in folder.iterdir()) == ["chest.arrows", "heart_rate.arrows", "session.json"]
    commands = [p for p in played if p["kind"] == "command"]
    assert [c["op"] for c in commands if c["op"] == "START"] == ["START", "START"]  # one per connection
    start = bytes.fromhex(next(c["bytes"] for c in commands if c["op"] == "START"))
    assert start[:2] == bytes([2, 2])  # START ACC, at the H10 profile's defaults: 200 Hz, 16 bit, ±8 G
    assert {int(k): tuple(v) for k, v in polar_pmd.decode_settings(start[2:]).items()} == {0: (200,), 1: (16,), 2: (8,)}
    assert not any(p["kind"] == "refused" for p in played)
    hr = chunked.read_heart_rate(folder)
    assert hr.attrs["placement"] == "chest" and hr.attrs["profile"] == "heart-rate"
    _check_event_stream(hr, played, "hr", central, ("hr_bpm", "rr_s", "contact", "energy_kj"), ep.heart_measurements(600))
    assert rec.link_drops == 1


# -- the product: `backstride record` -------------------------------------------------------------


def _expected_indices(played: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Recording sample_index (0 = first sample after the first START) and source row of every played sample."""
    frames = [p for p in played if p["kind"] == "frame"]
    first = frames[0]["index"]
    source = np.concatenate([p["index"] + np.arange(p["n"]) for p in frames])
    return source - first, source


@pytest.mark.slow
def test_record_exits_cleanly_on_ctrl_c(record_run):
    central, played = record_run
    assert central["record_exit_code"] == 0
    commands = [p["op"] for p in played if p["kind"] == "command"]
    assert commands.count("START") == 2, commands  # first connection and the reconnection
    assert sum(p["kind"] == "drop" for p in played) == 1
    assert all(p["status"] == 0 for p in played if p["kind"] == "command"), [p for p in played if p["kind"] == "command"]


@pytest.mark.slow
def test_record_holds_what_was_played(record_run, guest):
    """Every sample the sensor sent is in the recording, at its index, with its value (within one LSB/2).

    Guards what this test found on its first run (2026-11-23, fixed since in sensing/ble.py and
    sensing/ingest.py): after a sensor-side drop the old BleakClient kept its D-Bus connection, so
    BlueZ delivered every later notification twice and the ingest recorded the repeats as new samples.
    """
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
    stream_s = STREAM_S["record"]
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


@pytest.mark.slow
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
