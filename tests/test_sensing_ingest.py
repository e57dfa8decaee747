"""Ingest logic against an injected bleak backend (the emulated radio in sensing.ble).

Only the radio is emulated: bleak's BleakClient/BleakScanner, the reference
profile's commands and decoder, the ingest queue, the writer and the reader run
unchanged.  Truth is what the emulated sensor *took* (its sample positions and
the arrays it played), never what the code under test reported.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from analysis.constants import GRAVITY_M_S2
from firmware_interface import reference
from firmware_interface.reference import ReferenceDecoder
from sensing.ble import EmulatedRadio, EmulatedReferenceSensor
from sensing.formats import open_recording
from sensing.ingest import IngestPipeline, StreamAssembler
from sensing.session import LiveSession, wait_until

FS = 200
ACC_LSB = 16 * GRAVITY_M_S2 / 32768  # ±16 g int16
GYR_LSB = np.deg2rad(2000 / 32768)


def ramp_signals(n: int = 4000):
    """Acceleration that names its own sample position (x = position mod 1000 / 100 m/s²)."""
    pos = np.arange(n)
    acc = np.column_stack([(pos % 1000) / 100.0, np.sin(pos / 50.0), GRAVITY_M_S2 + np.cos(pos / 30.0)])
    gyr = np.column_stack([np.sin(pos / 20.0), np.zeros(n), (pos % 500) / 500.0])
    return acc, gyr


def check_exact(rec, sensor: EmulatedReferenceSensor) -> int:
    """Every recorded row equals what the sensor took at that position (within half an LSB); returns rows checked."""
    first_pos = sensor.sent_log[0][0]
    idx = rec.data.index.to_numpy()
    rows = (first_pos + idx) % len(sensor.acc)
    acc = rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy()
    gyr = rec.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()
    np.testing.assert_allclose(acc, sensor.acc[rows], atol=ACC_LSB / 2 + 1e-12)
    np.testing.assert_allclose(gyr, sensor.gyr[rows], atol=GYR_LSB / 2 + 1e-12)
    # and exactly the delivered samples are there
    delivered = np.concatenate([p - first_pos + np.arange(n) for p, n in sensor.sent_log])
    np.testing.assert_array_equal(np.sort(delivered), idx)
    return len(idx)


def run_session(tmp_path, sensor, during, *, seconds_before: float = 1.5):
    radio = EmulatedRadio([sensor])
    out = tmp_path / "rec"
    session = LiveSession.sensors([(sensor.name, "lower-back")], out=out, client_backend=radio.client_backend,
                                  scanner_backend=radio.scanner_backend, scan_timeout_s=0.05)
    session.start()
    try:
        assert wait_until(lambda: session.snapshot()["samples_received"] > 100, 60), session.snapshot()
        time.sleep(seconds_before)
        during(session)
    finally:
        session.stop()
    return session, out


def test_dropped_packets_become_lost_samples(tmp_path):
    acc, gyr = ramp_signals()
    sensor = EmulatedReferenceSensor("AA:BB:CC:DD:EE:01", "backstride-01", acc, gyr, sampling_rate_hz=FS,
                                     drop_frames={5, 6, 15})
    session, out = run_session(tmp_path, sensor, lambda s: time.sleep(0.5))
    per = sensor.per_frame
    snap = session.snapshot()
    assert snap["state"] == "finished"
    assert snap["lost_samples"] == 3 * per
    assert snap["link_drops"] == 0
    rec = open_recording(out)
    assert rec.lost_samples == 3 * per
    assert list(rec.gaps["lost_samples"]) == [2 * per, per]
    assert rec.extra["complete"] and not rec.extra["truncated"]
    assert check_exact(rec, sensor) == sensor.frames_sent * per


def test_disconnect_reconnects_into_same_recording_with_gap_marked(tmp_path):
    acc, gyr = ramp_signals()
    sensor = EmulatedReferenceSensor("AA:BB:CC:DD:EE:02", "backstride-02", acc, gyr, sampling_rate_hz=FS)
    marks = {}

    def drop(session):
        marks["before"] = len(sensor.sent_log)
        session._loop.call_soon_threadsafe(sensor.drop_link)
        assert wait_until(lambda: session.snapshot()["link_drops"] == 1 and session.snapshot()["state"] == "streaming", 30)
        time.sleep(1.0)

    session, out = run_session(tmp_path, sensor, drop)
    rec = open_recording(out)
    assert rec.link_drops == 1
    # the gap is where the sensor's positions jumped while the link was down
    before = sensor.sent_log[marks["before"] - 1]
    after = sensor.sent_log[marks["before"]]
    first = sensor.sent_log[0][0]
    true_lost = after[0] - (before[0] + before[1])
    assert true_lost > 0
    gaps = rec.gaps
    assert len(gaps) == 1
    assert gaps["lost_samples"].iloc[0] == true_lost
    assert gaps["start_s"].iloc[0] == pytest.approx((before[0] + before[1] - first) / FS)
    events = rec.extra["events"]
    assert [e["type"] for e in events] == ["link_drop"]
    assert events[0]["lost_samples"] == true_lost
    assert events[0]["resumed_utc_s"] > events[0]["lost_at_utc_s"]
    check_exact(rec, sensor)
    assert session.snapshot()["lost_samples"] == true_lost


def test_stop_closes_the_file_completely(tmp_path):
    acc, gyr = ramp_signals()
    sensor = EmulatedReferenceSensor("AA:BB:CC:DD:EE:03", "backstride-03", acc, gyr, sampling_rate_hz=FS)
    session, out = run_session(tmp_path, sensor, lambda s: None, seconds_before=0.3)
    rec = open_recording(out)
    assert rec.extra["complete"] is True
    assert not sensor.streaming and sensor.connected_client is None  # stop command written, link closed
    assert check_exact(rec, sensor) == sum(n for _, n in sensor.sent_log)


def test_unknown_sensor_is_a_clear_error(tmp_path):
    acc, gyr = ramp_signals()
    radio = EmulatedRadio([EmulatedReferenceSensor("AA:BB:CC:DD:EE:04", "backstride-04", acc, gyr, sampling_rate_hz=FS)])
    session = LiveSession.sensors([("Polar H10 123", "chest")], client_backend=radio.client_backend,
                                  scanner_backend=radio.scanner_backend, scan_timeout_s=0.05)
    session.start()
    assert session.wait(60)
    snap = session.snapshot()
    assert snap["state"] == "error"
    assert "'Polar H10 123' not found" in snap["error"] and "backstride-04" in snap["error"]
    session.stop()
    session.stop()  # idempotent


# -- the assembler on its own (no loop) -----------------------------------------------------------


def frames(n_samples: int, *, first_counter=0, first_time_us=0):
    acc, gyr = ramp_signals(n_samples)
    return reference.encode_stream(acc, gyr_rad_s=gyr, first_counter=first_counter, first_time_us=first_time_us,
                                   sampling_rate_hz=FS, acc_range_g=16)


def test_assembler_counts_corrupt_frames_and_keeps_streaming():
    asm = StreamAssembler(ReferenceDecoder(), sampling_rate_hz=FS)
    good = frames(57)
    blocks = [asm.feed(1.0, good[0]), asm.feed(1.1, b"\xb5\x01"), asm.feed(1.2, b"garbage" * 4), asm.feed(1.3, good[1]),
              asm.feed(1.4, good[2])]
    assert blocks[1] is None and blocks[2] is None
    assert asm.corrupt_frames_ == 2
    idx = np.concatenate([b.sample_index for b in blocks if b is not None])
    np.testing.assert_array_equal(idx, np.arange(57))
    assert asm.lost_samples_ == 0


def test_assembler_counter_wrap():
    asm = StreamAssembler(ReferenceDecoder(), sampling_rate_hz=FS)
    f = frames(57, first_counter=2**32 - 19)  # the second frame's counter wraps to 0
    b1 = asm.feed(1.0, f[0])
    b3 = asm.feed(1.2, f[2])  # f[1] lost over the air
    np.testing.assert_array_equal(np.concatenate([b1.sample_index, b3.sample_index]), np.r_[0:19, 38:57])
    assert asm.lost_samples_ == 19


def test_reconnect_gap_from_sensor_clock():
    """After a drop the counter restarts at 0; the free-running µs clock places the new samples."""
    asm = StreamAssembler(ReferenceDecoder(), sampling_rate_hz=FS)
    f = frames(19, first_counter=0, first_time_us=0)
    asm.feed(100.0, f[0])
    asm.link_lost(100.2)
    # 1000 samples (5 s) later on the sensor clock, counter back at 0, host says ~5 s
    g = frames(19, first_counter=0, first_time_us=int(round((19 + 1000) * 1e6 / FS)))
    blk = asm.feed(105.2, g[0])
    assert blk.sample_index[0] == 19 + 1000
    assert asm.lost_samples_ == 1000 and asm.link_drops_ == 1
    assert asm.events_[0]["lost_samples"] == 1000


def test_pipeline_callback_only_enqueues():
    async def main():
        p = IngestPipeline()
        p.add_sensor("a", label="a", placement="lower-back", decoder=ReferenceDecoder(), sampling_rate_hz=FS)
        cb = p.callback("a", "data", clock=lambda: 123.0)
        cb(None, bytearray(frames(19)[0]))
        assert p.queue.qsize() == 1
        assert p.sensors["a"].assembler.samples_received_ == 0  # nothing decoded in the callback
        sid, kind, t, payload = p.queue.get_nowait()
        assert (sid, kind, t, type(payload)) == ("a", "data", 123.0, bytes)

    asyncio.run(main())


# -- recorder bugs found by the full-stack test (tests/test_sensing_fullstack.py) -----------------


def test_reconnect_closes_the_old_client_so_notifications_arrive_once(tmp_path):
    """After a sensor-side drop the old client must still be disconnected (bleak/BlueZ: only disconnect()

    closes its D-Bus connection; otherwise its notification sessions come back on the next connection
    and every notification arrives twice; the emulated radio models that)."""
    acc, gyr = ramp_signals()
    sensor = EmulatedReferenceSensor("AA:BB:CC:DD:EE:05", "backstride-05", acc, gyr, sampling_rate_hz=FS)

    def drop(session):
        session._loop.call_soon_threadsafe(sensor.drop_link)
        assert wait_until(lambda: session.snapshot()["link_drops"] == 1 and session.snapshot()["state"] == "streaming", 30)
        time.sleep(1.0)
        assert sensor.stale_sessions == set()  # the dropped client released its sessions

    session, out = run_session(tmp_path, sensor, drop)
    rec = open_recording(out)
    assert session.snapshot()["duplicate_samples"] == 0 and rec.extra["duplicate_samples"] == 0
    assert check_exact(rec, sensor) == sum(n for _, n in sensor.sent_log)


def test_every_notification_twice_is_recorded_once(tmp_path):
    """A stale BlueZ session doubles every notification: the repeats are dropped and counted, never recorded."""
    acc, gyr = ramp_signals()
    sensor = EmulatedReferenceSensor("AA:BB:CC:DD:EE:06", "backstride-06", acc, gyr, sampling_rate_hz=FS)
    sensor.stale_sessions.add(-1)  # a previous client's session that was never released

    def drop(session):
        session._loop.call_soon_threadsafe(sensor.drop_link)  # and across a reconnection (counter back at 0)
        assert wait_until(lambda: session.snapshot()["link_drops"] == 1 and session.snapshot()["state"] == "streaming", 30)
        time.sleep(1.0)

    session, out = run_session(tmp_path, sensor, drop)
    rec = open_recording(out)
    sent = sum(n for _, n in sensor.sent_log)
    assert check_exact(rec, sensor) == sent  # each sample once, at its index
    assert rec.link_drops == 1 and len(rec.gaps) == 1
    # every delivered sample arrived twice: one copy of each is a duplicate (the last frame's copy
    # may be cut off by the stop)
    assert sent - sensor.per_frame <= rec.extra["duplicate_samples"] <= sent


def test_slow_consumer_records_frames_queued_before_the_drop(tmp_path):
    """The consumer is seconds behind the radio: the link drop is queued behind the frames that arrived

    before it, and the frames after the reconnection behind it.  Everything is applied in queue order:
    every frame of the first connection is recorded, and the gap is the sensor's."""
    from sensing import chunked
    from sensing.ble import SensorLink, default_settings, find
    from sensing.ingest import close_writers

    acc, gyr = ramp_signals()
    sensor = EmulatedReferenceSensor("AA:BB:CC:DD:EE:07", "backstride-07", acc, gyr, sampling_rate_hz=FS)
    radio = EmulatedRadio([sensor])
    out = tmp_path / "rec"

    async def main():
        pipeline = IngestPipeline()
        found = await find(sensor.name, timeout_s=0.05, backend=radio.scanner_backend)
        settings = default_settings(found.profile, sampling_rate_hz=FS)
        writer = chunked.ChunkWriter(out / f"lower-back{chunked.SUFFIX}", sampling_rate_hz=FS, channels=("acc", "gyr"),
                                     placement="lower-back", profile=found.profile.key)
        chunked.write_session_index(out, [{"placement": "lower-back", "file": writer.path.name}])
        pipeline.add_sensor("s0", label="s0", placement="lower-back", decoder=ReferenceDecoder(), sampling_rate_hz=FS,
                            writer=writer)
        link = SensorLink(pipeline, "s0", found, settings, client_backend=radio.client_backend,
                          scanner_backend=radio.scanner_backend, backoff_s=0.2)
        stop = asyncio.Event()
        task = asyncio.ensure_future(link.run(stop))
        await asyncio.sleep(1.5)
        n_before = len(sensor.sent_log)
        sensor.drop_link()
        while link.connections_ < 2:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        stop.set()
        await task
        # only now does the consumer start: everything above waits in the queue, in order
        assert pipeline.sensors["s0"].assembler.samples_received_ == 0
        pipeline.stop_consumer()
        await pipeline.consume()
        close_writers(pipeline)
        return n_before

    n_before = asyncio.run(main())
    rec = open_recording(out)
    assert check_exact(rec, sensor) == sum(n for _, n in sensor.sent_log)
    before, after = sensor.sent_log[n_before - 1], sensor.sent_log[n_before]
    true_lost = after[0] - (before[0] + before[1])
    assert rec.link_drops == 1 and list(rec.gaps["lost_samples"]) == [true_lost]
    drop = [e for e in rec.extra["events"] if e["type"] == "link_drop"]
    assert drop[0]["lost_samples"] == true_lost and drop[0]["gap_from"] == "sensor clock"


def _frame(counter: int, pos: int, clock0_us: int, n: int = 19) -> bytes:
    acc, gyr = ramp_signals(pos + n)
    return reference.encode_frame(acc[pos:pos + n], gyr_rad_s=gyr[pos:pos + n], first_counter=counter,
                                  first_time_us=(clock0_us + round(pos * 1e6 / FS)) % reference.TIME_MODULUS_US,
                                  sampling_rate_hz=FS, acc_range_g=16, gyr_range_dps=2000)


@pytest.mark.parametrize("clock0_us", [0, 2**32 - 20_000_000])  # the second wraps during the drop
def test_big_gap_after_reconnect_under_a_late_host_clock(clock0_us):
    """CPU starvation: notifications reached the host later and later before the drop (up to 8 s late),

    the first after the reconnection arrives on time.  The host times say 5 s passed between the last
    frame and the new one; the sensor clock (consistent with its counter all along) says 13 s: the
    sensor is right, and the gap is what the sensor took while nothing was delivered."""
    n = 19
    asm = StreamAssembler(ReferenceDecoder(), sampling_rate_hz=FS)
    t0 = 1_700_000_000.0
    n_frames = 120  # 2280 samples, 11.4 s
    for k in range(n_frames):
        pos = k * n
        lag_s = 0.01 + 8.0 * max(0, k - 60) / (n_frames - 61)  # on time, then falling behind to 8 s
        asm.feed(t0 + (pos + n - 1) / FS + lag_s, _frame(pos, pos, clock0_us))
    last = n_frames * n - 1
    asm.link_lost(t0 + last / FS + 8.1)
    resume_pos = last + 1 + 13 * FS  # 13 s of samples taken while nothing arrived
    blk = asm.feed(t0 + (resume_pos + n - 1) / FS + 0.02, _frame(0, resume_pos, clock0_us))
    assert blk.sample_index[0] == resume_pos
    assert asm.lost_samples_ == 13 * FS and asm.events_[-1]["gap_from"] == "sensor clock"
    assert asm.events_[-1]["lost_samples"] == 13 * FS


def test_a_restarted_sensor_clock_is_not_trusted():
    """The sensor rebooted during the drop (its µs clock starts again near 0): the host estimate is used."""
    n = 19
    asm = StreamAssembler(ReferenceDecoder(), sampling_rate_hz=FS)
    t0 = 1_700_000_000.0
    clock0_us = 600_000_000  # 10 minutes after power-on
    for k in range(50):
        asm.feed(t0 + (k * n + n - 1) / FS + 0.01, _frame(k * n, k * n, clock0_us))
    last = 50 * n - 1
    asm.link_lost(t0 + last / FS + 0.05)
    # 3 s later, the sensor's clock reads 0.5 s (it restarted); the counter starts at 0 again
    host = t0 + last / FS + 3.0
    blk = asm.feed(host, reference.encode_frame(ramp_signals(n)[0], gyr_rad_s=ramp_signals(n)[1], first_counter=0,
                                                first_time_us=500_000, sampling_rate_hz=FS, acc_range_g=16,
                                                gyr_range_dps=2000))
    assert asm.events_[-1]["gap_from"] == "host time"
    # the host says: the new frame's last sample was taken ~3 s (minus the usual 10 ms delay) after the last one
    assert abs(int(blk.sample_index[-1]) - (last + 3.0 * FS)) <= 4


def test_duplicate_frames_in_the_assembler_are_dropped_and_counted():
    """Each notification twice, also straddling: nothing is indexed twice, nothing is lost."""
    asm = StreamAssembler(ReferenceDecoder(), sampling_rate_hz=FS)
    f = frames(19 * 6)
    got = []
    for k, payload in enumerate(f):
        for _copy in range(2):
            blk = asm.feed(100.0 + k * 0.095, payload)
            if blk is not None:
                got.append(blk.sample_index)
    np.testing.assert_array_equal(np.concatenate(got), np.arange(19 * 6))
    assert asm.duplicates_ == 19 * 6 and asm.lost_samples_ == 0


# -- found by fuzzing the ingest path (session 22) -----------------------------------------------------


@pytest.mark.parametrize("leap", [50_000, 2**31])
def test_a_counter_that_leaps_ahead_of_the_time_that_passed_loses_nothing(leap):
    """One frame's counter leaps ahead (a corrupt frame, a bit flip) while the host and the µs clock say 0.1 s
    passed: it was taken for a gap of `leap` samples, and every real sample after it for a repeat.  Now the frame
    is placed by the clocks and the stream goes on: every sample where the sensor took it, none lost."""
    n = 19
    asm = StreamAssembler(ReferenceDecoder(), sampling_rate_hz=FS)
    t0 = 1_700_000_000.0
    got = []
    for k in range(60):
        pos = k * n
        counter = pos + leap if k == 30 else pos
        blk = asm.feed(t0 + (pos + n - 1) / FS + 0.01, _frame(counter % 2**32, pos, 0))
        got.append(blk.sample_index)
    np.testing.assert_array_equal(np.concatenate(got), np.arange(60 * n))
    # (half the counter's range ahead, the way back to the real counter is a leap as well)
    assert asm.lost_samples_ == 0 and asm.duplicates_ == 0 and asm.clock_jumps_ in (1, 2)
    assert {e["type"] for e in asm.events_} == {"clock_jump"}


def test_a_sensor_clock_set_forward_mid_stream_keeps_the_recording_readable(tmp_path):
    """A Polar-like sensor (time stamps, no counter) whose clock a phone app sets 5 years forward after 20 s: the
    rest was indexed 1.6e10 samples later and the file refused by every reader ("would span 1830 days").  Now it
    is placed by the host's receive times: 60 s of samples, 0 lost, readable, the leap said."""
    from firmware_interface.base import DecodedFrame
    from sensing import chunked

    class ClockDecoder:
        def decode(self, payload):
            t_s, k = payload
            acc = np.tile([0.0, 0.0, GRAVITY_M_S2], (k, 1))
            return DecodedFrame("clock", acc_m_s2=acc, sensor_time_s=t_s + np.arange(k) / 50.0, n_samples=k)

        def flush(self):
            return DecodedFrame("clock")

        def reset(self):
            pass

    asm = StreamAssembler(ClockDecoder(), sampling_rate_hz=50.0)
    w = chunked.ChunkWriter(tmp_path / "lower-back.arrows", sampling_rate_hz=50.0, channels=("acc",),
                            placement="lower-back", background=False)
    t0, n = 1_700_000_000.0, 10
    for k in range(300):  # 60 s in frames of 10 at 50 Hz
        sensor_t = k * n / 50.0 + (5 * 365 * 86400.0 if k >= 100 else 0.0)
        blk = asm.feed(t0 + (k * n + n - 1) / 50.0 + 0.01, (sensor_t, n))
        w.append(blk.sample_index, {c: blk.acc_m_s2[:, i] for i, c in enumerate(("acc_x", "acc_y", "acc_z"))},
                 {"lost_samples": asm.lost_samples_})
    w.close({"final": True, "lost_samples": asm.lost_samples_, "events": asm.events_})  # (each event once)
    assert asm.lost_samples_ == 0 and asm.clock_jumps_ == 1
    rec = open_recording(tmp_path / "lower-back.arrows")
    assert len(rec.data) == 3000 and rec.data.index[-1] == 2999 and rec.lost_samples == 0
    assert any("leapt ahead of the time that passed once" in w for w in rec.extra["warnings"])


def test_a_sensor_without_counter_at_another_rate_is_said_and_kept_in_the_file(tmp_path):
    """A WitMotion streaming 10 Hz (its factory rate) into a 100-Hz recording: arrival order gave 120 s as a 12-s
    recording at 100 Hz, silently.  After 10 s of a connection the arrival rate is compared with the asked rate:
    the live view says so, and the file's state keeps it for analyse and import."""
    from firmware_interface.witmotion import DATA_PACKET, WitMotionDecoder

    def packet(k):
        p = np.zeros(1, DATA_PACKET)
        p["header"], p["flag"] = 0x55, 0x61
        p["acc"] = (0, 0, 2048)
        return p.tobytes()

    async def main():
        from sensing import chunked

        p = IngestPipeline()
        w = chunked.ChunkWriter(tmp_path / "lower-back.arrows", sampling_rate_hz=100, channels=("acc", "gyr"),
                                placement="lower-back")
        rt = p.add_sensor("w", label="wt901", placement="lower-back", decoder=WitMotionDecoder(),
                          sampling_rate_hz=100, writer=w)
        consumer = asyncio.ensure_future(p.consume())
        for k in range(200):  # 20 s at 10 Hz
            p.queue.put_nowait(("w", "data", 1_700_000_000.0 + k / 10, packet(k)))
        p.queue.put_nowait(("w", "state", 1_700_000_020.0, ("finished", None)))
        p.stop_consumer()
        await consumer
        snap = rt.snapshot()
        from sensing.ingest import close_writers

        close_writers(p)
        return snap

    snap = asyncio.run(main())
    assert "samples arrive at 10 per second, not the 100 Hz asked for" in snap["error"]   # kept past "finished"
    rec = open_recording(tmp_path / "lower-back.arrows")
    assert any("while recording: samples arrive at 10 per second" in w for w in rec.extra["warnings"])


def test_a_disk_that_refuses_chunks_is_said_live_and_in_the_file(tmp_path):
    """Three chunks refused by a full disk (ENOSPC on the writer's thread): the failures were dropped unread and
    the file read as complete.  Now the writer keeps them, the next chunks' state says how many samples are not on
    disk, and the reader warns; everything the disk took is there."""
    import errno

    from sensing import chunked

    w = chunked.ChunkWriter(tmp_path / "lower-back.arrows", sampling_rate_hz=100, channels=("acc",),
                            placement="lower-back", flush_every_s=0.5)
    real = w._writer.write_batch
    calls = [0]

    def full_disk(batch, custom_metadata=None):  # the disk itself: the edge this test cannot reach
        calls[0] += 1
        if calls[0] in (4, 5, 6):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(batch, custom_metadata=custom_metadata)

    w._writer.write_batch = full_disk
    for k in range(20):
        w.append(np.arange(k * 50, (k + 1) * 50), {"acc_x": np.zeros(50), "acc_y": np.zeros(50),
                                                   "acc_z": np.full(50, GRAVITY_M_S2)}, {"lost_samples": 0})
        time.sleep(0.01)
    w.close({"final": True, "lost_samples": 0})
    assert len(w.write_errors_) == 3 and w.unwritten_ == 150
    rec = open_recording(tmp_path / "lower-back.arrows")
    assert len(rec.data) == 850 and rec.lost_samples == 150
    assert any("3 chunks could not be written while recording" in x and "150 samples are missing" in x
               for x in rec.extra["warnings"])


def test_a_link_drop_the_sensor_never_comes_back_from_is_in_the_file(tmp_path):
    asm = StreamAssembler(ReferenceDecoder(), sampling_rate_hz=FS)
    asm.feed(100.0, frames(19)[0])
    asm.link_lost(100.5)
    drop = asm.open_drop_event()
    assert drop["type"] == "link_drop" and drop["lost_at_utc_s"] == 100.5 and drop["resumed_utc_s"] is None
    assert drop["last_index_before"] == 18 and asm.open_drop_event() is None   # once


def test_the_gap_after_a_drop_is_counted_at_the_rate_the_clock_fit_measured():
    """An IMU whose output rate runs 1.5 % slow (a MEMS tolerance; the µs clock is a crystal): a 60-s drop was
    counted at the nominal rate, 90 samples too many, and everything after it placed 0.45 s late."""
    n = 20
    true_hz = FS * 0.985
    asm = StreamAssembler(ReferenceDecoder(), sampling_rate_hz=FS)
    t0 = 1_700_000_000.0
    acc, gyr = ramp_signals(n)

    def frame(counter, pos):
        return reference.encode_frame(acc, gyr_rad_s=gyr, first_counter=counter, first_time_us=round(pos * 1e6 / true_hz),
                                      sampling_rate_hz=FS, acc_range_g=16, gyr_range_dps=2000)

    for k in range(1000):  # 101 s at the true rate: the fit has its minute
        asm.feed(t0 + (k * n + n - 1) / true_hz + 0.01, frame(k * n, k * n))
    last = 1000 * n - 1
    asm.link_lost(t0 + last / true_hz + 0.05)
    resume = last + 1 + round(60 * true_hz)  # what the sensor took in 60 s
    blk = asm.feed(t0 + (resume + n - 1) / true_hz + 0.01, frame(0, resume))
    assert asm.events_[-1]["gap_from"] == "sensor clock"
    assert abs(int(blk.sample_index[0]) - resume) <= 1


def test_host_receive_times_do_not_follow_a_wall_clock_step(monkeypatch):
    """NTP sets the clock of a computer without a battery clock two days forward mid-recording: receive times kept
    on the session's monotonic clock do not jump (the clock fit, the start and the drop gaps stay right)."""
    async def main():
        p = IngestPipeline()
        before = p.host_clock()
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 2 * 86400.0)
        after = p.host_clock()
        assert 0 <= after - before < 5.0
        p.add_sensor("a", label="a", placement="lower-back", decoder=ReferenceDecoder(), sampling_rate_hz=FS)
        p.callback("a", "data")(None, bytearray(frames(19)[0]))
        p.set_state("a", "finished")
        stamps = [p.queue.get_nowait()[2] for _ in range(2)]
        assert all(0 <= t - before < 5.0 for t in stamps)

    asyncio.run(main())


def test_a_disk_error_stays_said_past_state_changes_and_a_writer_that_cannot_close_spares_the_others(tmp_path):
    """The disk refused chunks: the live error was erased by the next state change ("reconnecting", "finished"),
    so the record summary never said it.  A writer that cannot close (the disk still full) stopped close_writers
    before the other sensors' files were closed."""
    import errno

    from sensing import chunked
    from sensing.ingest import close_writers

    async def main():
        p = IngestPipeline()
        ws = {pl: chunked.ChunkWriter(tmp_path / f"{pl}.arrows", sampling_rate_hz=FS, channels=("acc", "gyr"),
                                      placement=pl, background=False) for pl in ("lower-back", "foot-left")}
        for sid, pl in (("a", "lower-back"), ("b", "foot-left")):
            p.add_sensor(sid, label=sid, placement=pl, decoder=ReferenceDecoder(), sampling_rate_hz=FS, writer=ws[pl])

        def full(batch, custom_metadata=None):  # the disk: the edge this test cannot reach
            raise OSError(errno.ENOSPC, "No space left on device")

        ws["lower-back"]._writer.write_batch = full
        consumer = asyncio.ensure_future(p.consume())
        for k, payload in enumerate(frames(19 * 20)):
            for sid in ("a", "b"):
                p.queue.put_nowait((sid, "data", 1_700_000_000.0 + k * 0.095, payload))
        for state in ("reconnecting", "finished"):
            p.queue.put_nowait(("a", "state", 1_700_000_002.0, (state, None)))
        p.stop_consumer()
        await consumer
        assert "could not write to" in p.sensors["a"].error and "No space left" in p.sensors["a"].error
        ws["lower-back"]._writer.close = lambda: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left"))
        close_writers(p)
        assert "could not close" in p.sensors["a"].error and ws["foot-left"].closed

    asyncio.run(main())
    rec = open_recording(tmp_path / "foot-left.arrows")
    assert len(rec.data) == 19 * 20 and rec.extra["complete"]


def test_a_wall_clock_step_during_the_session_is_said_in_the_file(tmp_path, monkeypatch):
    """The receive times keep the clock as it was at the start: when NTP sets a wrong clock mid-recording, the file
    says by how much, so the runner knows the times (and day) may be off."""
    from sensing import chunked
    from sensing.ingest import close_writers

    async def main():
        p = IngestPipeline()
        w = chunked.ChunkWriter(tmp_path / "lower-back.arrows", sampling_rate_hz=FS, channels=("acc", "gyr"),
                                placement="lower-back", background=False)
        p.add_sensor("a", label="a", placement="lower-back", decoder=ReferenceDecoder(), sampling_rate_hz=FS, writer=w)
        consumer = asyncio.ensure_future(p.consume())
        for k, payload in enumerate(frames(19 * 10)):
            p.queue.put_nowait(("a", "data", p.host_clock() + k * 0.095, payload))
        p.stop_consumer()
        await consumer
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 2 * 86400.0)
        close_writers(p)

    asyncio.run(main())
    rec = open_recording(tmp_path / "lower-back.arrows")
    assert any("the computer's clock was set +172800 s while recording" in x for x in rec.extra["warnings"])
