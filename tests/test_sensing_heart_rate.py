"""Heart-rate straps and running speed/cadence footpods recorded beside the IMU.

Only the radio is emulated (sensing.ble: an HR strap and an RSC footpod that
encode their notifications as the Bluetooth specifications say; the encoders
are checked here against the published vectors the decoders are tested with,
../shared/ble/PROTOCOLS.md §A.6 and §A.7 from polar-ble-sdk).  Truth is what
the emulated peripherals sent (their ``sent_log``: the measurement values they
were given, chosen on the wire's quantisation grid so that equality is exact),
never what the code under test reported.
"""

from __future__ import annotations

import asyncio
import io
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from firmware_interface.heart_rate import HeartRateDecoder
from firmware_interface.rsc import RscDecoder
from sensing import chunked
from sensing.ble import (EmulatedHeartRateStrap, EmulatedRadio, EmulatedReferenceSensor, EmulatedRscFootpod,
                         encode_heart_rate, encode_rsc)
from sensing.formats import open_recording
from sensing.ingest import EventStream
from sensing.live_view import build_table, stream_text
from sensing.record_cli import stream_summary
from sensing.recording import RecordingError
from sensing.session import LiveSession, wait_until
from test_sensing_ingest import FS, check_exact, ramp_signals

h = bytes.fromhex

# -- encoders of the emulated peripherals: the published vectors ------------------------------------

HR_VECTORS = [  # (encoder arguments, published bytes)
    (dict(hr_bpm=255), "00 FF"),
    (dict(hr_bpm=0x8080), "01 80 80"),
    (dict(hr_bpm=0, energy_kj=0xFFFF, hr_u16=True), "09 00 00 FF FF"),
    (dict(hr_bpm=0, rr_s=[65535 / 1024, 32895 / 1024], hr_u16=True), "11 00 00 FF FF 7F 80"),
    (dict(hr_bpm=60, rr_s=[410 / 1024]), "10 3C 9A 01"),
    (dict(hr_bpm=72, rr_s=[1.0, 1.0], contact=True), "16 48 00 04 00 04"),
]
RSC_VECTORS = [
    (dict(speed_m_s=4660 / 256, cadence_per_min=86, stride_length_m=19.29, total_distance_m=1_690_906.0, running=True),
     "07 34 12 56 89 07 04 03 02 01"),
    (dict(speed_m_s=10 / 256, cadence_per_min=20, running=False), "00 0A 00 14"),
]


@pytest.mark.parametrize("kwargs, published", HR_VECTORS)
def test_heart_rate_encoder_gives_the_published_bytes(kwargs, published):
    assert encode_heart_rate(**kwargs) == h(published)


@pytest.mark.parametrize("kwargs, published", RSC_VECTORS)
def test_rsc_encoder_gives_the_published_bytes(kwargs, published):
    assert encode_rsc(**kwargs) == h(published)


def test_encoder_refuses_values_the_wire_cannot_carry():
    with pytest.raises(ValueError, match="16-bit"):
        encode_heart_rate(300, hr_u16=False)
    with pytest.raises(ValueError, match="RR intervals"):
        encode_heart_rate(60, rr_s=[70.0])


# -- the writer and readers on their own ------------------------------------------------------------

START = datetime(2026, 3, 1, 7, 30, tzinfo=timezone.utc)
HR_ROWS = [  # host times 1 s apart from START + 2 s; RR lists of 0, 1 and 3 intervals; optional fields absent
    {"hr_bpm": 61.0, "rr_s": [], "energy_kj": None, "contact": None},
    {"hr_bpm": 140.0, "rr_s": [430 / 1024], "energy_kj": 12.0, "contact": True},
    {"hr_bpm": 0.0, "rr_s": [400 / 1024, 410 / 1024, 420 / 1024], "energy_kj": None, "contact": False},
    {"hr_bpm": 300.0, "rr_s": [205 / 1024, 204 / 1024], "energy_kj": 65535.0, "contact": True},
]


def write_hr(path, rows, *, close=True, state=None):
    w = chunked.EventWriter(path, kind="heart_rate", placement="chest", profile="heart-rate", session_start_utc=START,
                            background=False)
    for k, r in enumerate(rows):
        w.append([{"host_utc_s": START.timestamp() + 2.0 + k, **r}], state or {"link_drops": 0})
    if close:
        w.close({"final": True, "link_drops": 1, "corrupt_frames": 3,
                 "events": [{"type": "link_drop", "lost_at_utc_s": START.timestamp() + 10.0, "resumed_utc_s": None}]})
    return w


def test_heart_rate_file_round_trip_is_exact(tmp_path):
    write_hr(tmp_path / "heart_rate.arrows", HR_ROWS)
    chunked.write_session_index(tmp_path, [{"placement": "chest", "file": "heart_rate.arrows", "kind": "heart_rate"}],
                                started_utc=START)
    df = chunked.read_heart_rate(tmp_path)
    assert list(df.columns) == ["t_s", "utc", "hr_bpm", "rr_s", "energy_kj", "contact"]
    np.testing.assert_allclose(df["t_s"], [2.0, 3.0, 4.0, 5.0], atol=1e-6)
    assert df["utc"].iloc[0] == pd.Timestamp(START + timedelta(seconds=2))
    assert df["hr_bpm"].tolist() == [r["hr_bpm"] for r in HR_ROWS]
    for got, r in zip(df["rr_s"], HR_ROWS):
        np.testing.assert_array_equal(got, r["rr_s"])
    assert df["energy_kj"].isna().tolist() == [True, False, True, False] and df["energy_kj"].iloc[3] == 65535.0
    assert df["contact"].isna().tolist() == [True, False, False, False]
    assert df["contact"].iloc[1:].tolist() == [True, False, True]
    a = df.attrs
    assert a["complete"] and not a["truncated"] and a["link_drops"] == 1 and a["corrupt_frames"] == 3
    assert a["start_utc"] == START and a["placement"] == "chest"
    assert a["gaps"] == [{"start_s": pytest.approx(10.0), "end_s": None}]
    # one row per RR interval, in order, each with the notification that carried it
    rr = chunked.read_rr_intervals(tmp_path)
    np.testing.assert_array_equal(rr["rr_s"], np.concatenate([r["rr_s"] for r in HR_ROWS]))
    assert rr["notification"].tolist() == [1, 2, 2, 2, 3, 3]
    np.testing.assert_allclose(rr["t_s"], [3, 4, 4, 4, 5, 5], atol=1e-6)
    # another time axis: an IMU recording that started 1.5 s after the session
    shifted = chunked.read_heart_rate(tmp_path, start_utc=START + timedelta(seconds=1.5))
    np.testing.assert_allclose(shifted["t_s"], [0.5, 1.5, 2.5, 3.5], atol=1e-6)


def test_truncated_heart_rate_file_keeps_every_earlier_row(tmp_path):
    path = tmp_path / "heart_rate.arrows"
    write_hr(path, HR_ROWS, close=False)
    size = path.stat().st_size
    with open(path, "r+b") as fh:  # a kill in the middle of writing the last notification
        fh.truncate(size - 60)
    df = chunked.read_heart_rate(path)  # a lone file: its own session start
    assert df.attrs["truncated"] and not df.attrs["complete"]
    assert df["hr_bpm"].tolist() == [r["hr_bpm"] for r in HR_ROWS[:3]]
    np.testing.assert_allclose(df["t_s"], [2.0, 3.0, 4.0], atol=1e-6)


def test_event_files_bad_input_gives_clear_errors(tmp_path):
    junk = tmp_path / "heart_rate.arrows"
    junk.write_bytes(b"not arrow")
    with pytest.raises(RecordingError, match="heart_rate.arrows: header: not an Arrow stream"):
        chunked.read_heart_rate(junk)
    empty = tmp_path / "none"
    empty.mkdir()
    with pytest.raises(RecordingError, match="no heart_rate.arrows: this session recorded no heart rate sensor"):
        chunked.read_heart_rate(empty)
    with pytest.raises(ValueError, match="kind must be one of heart_rate, rsc"):
        chunked.read_events(empty, "ecg")
    # an HR-only session is not an IMU recording: the message says where the heart rate is
    hr_only = tmp_path / "hr_only"
    write_hr(hr_only / "heart_rate.arrows", HR_ROWS[:1])
    chunked.write_session_index(hr_only, [])
    with pytest.raises(RecordingError, match="no IMU sensor was recorded, only heart_rate.arrows.*read_heart_rate"):
        open_recording(hr_only)
    with pytest.raises(RecordingError, match="kind 'heart_rate'"):
        chunked.read_rsc(hr_only / "heart_rate.arrows")
    with pytest.raises(FileExistsError, match="never overwritten"):
        chunked.EventWriter(hr_only / "heart_rate.arrows", kind="heart_rate")


def test_event_file_names_do_not_collide():
    assert chunked.event_file_name("heart_rate") == "heart_rate.arrows"
    assert chunked.event_file_name("heart_rate", "foot-left", {"heart_rate.arrows"}) == "heart_rate-foot-left.arrows"
    assert chunked.event_file_name("rsc", "foot-right") == "rsc.arrows"


# -- the consumer's event stream: malformed and impossible notifications ----------------------------


def test_malformed_and_impossible_notifications_are_counted_never_written(tmp_path):
    w = chunked.EventWriter(tmp_path / "heart_rate.arrows", kind="heart_rate", session_start_utc=START, background=False)
    es = EventStream("s", kind="heart_rate", label="strap", placement="chest", decoder=HeartRateDecoder(), writer=w)
    t0 = START.timestamp()
    payloads = [
        (encode_heart_rate(70, [880 / 1024]), True),
        (b"", False),                               # empty
        (h("10 3C 9A 01 02"), False),               # odd number of RR bytes
        (h("01 80"), False),                        # u16 flagged, one byte
        (encode_heart_rate(1024, hr_u16=True), False),  # decodes, but no heart beats at 1024 bpm
        (encode_heart_rate(71, [860 / 1024, 870 / 1024]), True),
    ]
    for k, (p, _) in enumerate(payloads):
        es.feed(t0 + k, p)
    w.close(es.writer_state(final=True))
    assert es.corrupt_frames_ == 4 and es.measurements_ == 2 and es.notifications_ == 6
    df = chunked.read_heart_rate(tmp_path / "heart_rate.arrows")
    assert df["hr_bpm"].tolist() == [70.0, 71.0]
    np.testing.assert_allclose(df["t_s"], [0.0, 5.0], atol=1e-6)
    np.testing.assert_array_equal(df["rr_s"].iloc[1], [860 / 1024, 870 / 1024])
    assert df.attrs["corrupt_frames"] == 4
    rsc = EventStream("r", kind="rsc", label="pod", placement="foot-left", decoder=RscDecoder())
    assert rsc.feed(t0, h("00 0A 00")) is None and rsc.corrupt_frames_ == 1
    assert rsc.feed(t0, encode_rsc(30.0, 90)) is None and rsc.corrupt_frames_ == 2  # 30 m/s: not a runner
    assert rsc.feed(t0, encode_rsc(3.5, 88, running=True))["speed_m_s"] == 3.5


# -- live sessions over the emulated radio ----------------------------------------------------------


def hr_measurements(n: int = 9) -> list[dict]:
    """Heart rates and RR intervals on the wire's grid (1/1024 s), 0 to 3 intervals per notification."""
    return [{"hr_bpm": 130 + k, "rr_s": [(440 + 7 * k + j) / 1024 for j in range(k % 4)], "contact": k % 5 != 0}
            for k in range(n)]


def rsc_measurements(n: int = 7) -> list[dict]:
    return [{"speed_m_s": (800 + 9 * k) / 256, "cadence_per_min": 84 + k, "stride_length_m": (110 + k) / 100,
             "total_distance_m": (1000 + 3 * k) / 10, "running": k != 3} for k in range(n)]


def run(tmp_path, peripherals, specs, during, *, wait_for=lambda snap: True):
    radio = EmulatedRadio(peripherals)
    out = tmp_path / "rec"
    session = LiveSession.sensors(specs, out=out, client_backend=radio.client_backend,
                                  scanner_backend=radio.scanner_backend, scan_timeout_s=0.05)
    session.start()
    try:
        assert wait_until(lambda: wait_for(session.snapshot()), 60), session.snapshot()
        during(session)
    finally:
        session.stop()
    return session, out


def check_heart_rate(df, strap) -> None:
    """Exactly what the strap sent, in order: heart rate, every RR interval, contact."""
    sent = [m for _, _, m in strap.sent_log]
    assert len(df) == len(sent) > 0
    assert df["hr_bpm"].tolist() == [float(m["hr_bpm"]) for m in sent]
    for got, m in zip(df["rr_s"], sent):
        np.testing.assert_array_equal(got, m["rr_s"])
    assert df["contact"].tolist() == [m["contact"] for m in sent]


def test_imu_and_heart_rate_strap_give_both_files_exactly(tmp_path):
    acc, gyr = ramp_signals()
    imu = EmulatedReferenceSensor("AA:BB:CC:DD:EE:51", "backstride-51", acc, gyr, sampling_rate_hz=FS)
    strap = EmulatedHeartRateStrap("AA:BB:CC:DD:EE:52", "HRM-Pro:52", hr_measurements(), interval_s=0.2)
    session, out = run(tmp_path, [imu, strap], [("backstride-51", "lower-back"), ("HRM-Pro", "chest")],
                       lambda s: time.sleep(2.5), wait_for=lambda snap: snap["samples_received"] > 100)
    snap = session.snapshot()
    rec = open_recording(out)  # the IMU recording opens as before: the heart-rate file is not a sensor
    assert rec.placement == "lower-back" and rec.lost_samples == 0 and rec.link_drops == 0
    assert check_exact(rec, imu) == sum(n for _, n in imu.sent_log)
    df = chunked.read_heart_rate(out)
    check_heart_rate(df, strap)
    assert df.attrs["complete"] and df.attrs["link_drops"] == 0 and df.attrs["corrupt_frames"] == 0
    # host receive times: in order, about the strap's interval apart, inside the session
    assert np.all(np.diff(df["t_s"]) > 0)
    assert np.median(np.diff(df["t_s"])) == pytest.approx(0.2, abs=0.05)
    assert 0 <= df["t_s"].iloc[0] < 5 and df.attrs["start_utc"] <= df["utc"].iloc[0]
    # RR intervals, one row each, every one the strap sent
    rr = chunked.read_rr_intervals(out)
    np.testing.assert_array_equal(rr["rr_s"], np.concatenate([m["rr_s"] for _, _, m in strap.sent_log]))
    # the same time axis as the IMU recording on request
    on_imu = chunked.read_heart_rate(out, start_utc=rec.start_utc)
    np.testing.assert_allclose(on_imu["t_s"] - df["t_s"], (df.attrs["start_utc"] - rec.start_utc).total_seconds(), atol=1e-6)
    # snapshot, live view and end-of-session summary show the heart rate
    stream = snap["streams"][0]
    assert stream["kind"] == "heart_rate" and stream["measurements"] == len(df) and snap["hr_bpm"] == df["hr_bpm"].iloc[-1]
    assert stream["rr_intervals"] == len(rr)
    text = io.StringIO()
    Console(file=text, width=250).print(build_table(snap))
    assert f"heart rate {df['hr_bpm'].iloc[-1]:.0f} bpm" in text.getvalue() and "HRM-Pro:52" in text.getvalue()
    assert f"heart rate: {len(df)} measurements, {len(rr)} RR intervals" in stream_summary(stream)


def test_strap_disconnect_marks_a_gap_and_the_imu_keeps_recording(tmp_path):
    acc, gyr = ramp_signals()
    imu = EmulatedReferenceSensor("AA:BB:CC:DD:EE:53", "backstride-53", acc, gyr, sampling_rate_hz=FS)
    strap = EmulatedHeartRateStrap("AA:BB:CC:DD:EE:54", "Polar H9 54", hr_measurements(), interval_s=0.2)
    marks = {}

    def drop(session):
        time.sleep(1.0)
        marks["before"] = len(strap.sent_log)
        session._loop.call_soon_threadsafe(strap.drop_link)
        assert wait_until(lambda: session.snapshot()["streams"][0]["link_drops"] == 1
                          and session.snapshot()["streams"][0]["state"] == "streaming", 30)
        time.sleep(1.0)

    session, out = run(tmp_path, [imu, strap], [("backstride-53", "lower-back"), ("Polar H9", "chest")], drop,
                       wait_for=lambda snap: snap["samples_received"] > 100)
    rec = open_recording(out)
    assert rec.link_drops == 0 and rec.lost_samples == 0  # the IMU never noticed
    assert check_exact(rec, imu) == sum(n for _, n in imu.sent_log)
    df = chunked.read_heart_rate(out)
    check_heart_rate(df, strap)
    ks = [k for k, _, _ in strap.sent_log]
    assert ks[marks["before"]] - ks[marks["before"] - 1] > 1  # truth: measurements passed unsent during the drop
    assert df.attrs["link_drops"] == 1
    (gap,) = df.attrs["gaps"]
    t = df["t_s"].to_numpy()
    last_before, first_after = t[marks["before"] - 1], t[marks["before"]]
    assert last_before <= gap["start_s"] < gap["end_s"] == pytest.approx(first_after)
    assert not np.any((t > gap["start_s"]) & (t < gap["end_s"]))


def test_malformed_notifications_from_a_strap_never_stop_the_stream(tmp_path):
    bad = {k: [b"", h("10 3C 9A 01 02"), encode_heart_rate(1024, hr_u16=True)][k % 3] for k in range(0, 10_000, 4)}
    strap = EmulatedHeartRateStrap("AA:BB:CC:DD:EE:55", "HRM-Dual 55", hr_measurements(), interval_s=0.1, payloads=bad)
    session, out = run(tmp_path, [strap], [("HRM-Dual", "chest")], lambda s: time.sleep(2.0),
                       wait_for=lambda snap: snap["streams"] and snap["streams"][0]["measurements"] > 3)
    sent_bad = [k for k, _, _ in strap.sent_log if k in bad]
    good = [(k, m) for k, _, m in strap.sent_log if k not in bad]
    assert len(sent_bad) >= 3
    df = chunked.read_heart_rate(out)
    assert df["hr_bpm"].tolist() == [float(m["hr_bpm"]) for _, m in good]
    assert df.attrs["corrupt_frames"] == len(sent_bad)
    snap = session.snapshot()
    assert snap["state"] == "finished" and snap["streams"][0]["corrupt_frames"] == len(sent_bad)


def test_rsc_footpod_beside_the_imu(tmp_path):
    acc, gyr = ramp_signals()
    imu = EmulatedReferenceSensor("AA:BB:CC:DD:EE:56", "backstride-56", acc, gyr, sampling_rate_hz=FS)
    pod = EmulatedRscFootpod("AA:BB:CC:DD:EE:57", "Stryd 57", rsc_measurements(), interval_s=0.2)
    session, out = run(tmp_path, [imu, pod], [("backstride-56", "lower-back"), ("Stryd", "foot-left")],
                       lambda s: time.sleep(2.0), wait_for=lambda snap: snap["samples_received"] > 100)
    assert check_exact(open_recording(out), imu) > 0
    df = chunked.read_rsc(out)
    sent = [m for _, _, m in pod.sent_log]
    assert len(df) == len(sent) > 0
    for col in ("speed_m_s", "cadence_per_min", "stride_length_m", "total_distance_m"):
        np.testing.assert_array_equal(df[col].to_numpy(), [float(m[col]) for m in sent])  # exact: on the wire's grid
    assert df["running"].tolist() == [m["running"] for m in sent]
    assert df.attrs["placement"] == "foot-left" and df.attrs["profile"] == "running-speed-cadence"
    snap = session.snapshot()
    assert snap["speed_m_s"] == df["speed_m_s"].iloc[-1]
    assert f"speed {df['speed_m_s'].iloc[-1]:.2f} m/s" in stream_text(snap["streams"][0])


def test_a_device_with_imu_and_heart_rate_records_both(tmp_path):
    """An IMU profile that also advertises the Heart Rate service (as a Polar H10 does): one connection, two files."""
    acc, gyr = ramp_signals()
    board = EmulatedReferenceSensor("AA:BB:CC:DD:EE:58", "backstride-58", acc, gyr, sampling_rate_hz=FS,
                                    heart_rate=hr_measurements(), heart_rate_interval_s=0.2)
    marks = {}

    def drop(session):
        time.sleep(1.0)
        marks["before"] = len(board.sent_log)
        session._loop.call_soon_threadsafe(board.drop_link)  # the whole device drops: both streams
        assert wait_until(lambda: session.snapshot()["link_drops"] == 1 and session.snapshot()["state"] == "streaming", 30)
        time.sleep(1.0)

    session, out = run(tmp_path, [board], [("backstride-58", "chest")], drop,
                       wait_for=lambda snap: snap["samples_received"] > 100)
    assert sorted(p.name for p in out.iterdir()) == ["chest.arrows", "heart_rate.arrows", "session.json"]
    rec = open_recording(out)
    assert rec.link_drops == 1 and check_exact(rec, board) == sum(n for _, n in board.sent_log)
    df = chunked.read_heart_rate(out)
    check_heart_rate(df, board.hr)
    assert df.attrs["link_drops"] == 1 and len(df.attrs["gaps"]) == 1
    assert df.attrs["placement"] == "chest" and df.attrs["address"] == "AA:BB:CC:DD:EE:58"


def test_heart_rate_strap_alone(tmp_path):
    strap = EmulatedHeartRateStrap("AA:BB:CC:DD:EE:59", "HRM-Pro:59", hr_measurements(), interval_s=0.2)
    session, out = run(tmp_path, [strap], [("AA:BB:CC:DD:EE:59", "chest")], lambda s: time.sleep(1.0),
                       wait_for=lambda snap: snap["streams"] and snap["streams"][0]["measurements"] > 2)
    snap = session.snapshot()
    assert snap["state"] == "finished" and snap["sensors"] == [] and snap["hr_bpm"] is not None
    check_heart_rate(chunked.read_heart_rate(out), strap)
    assert sorted(p.name for p in out.iterdir()) == ["heart_rate.arrows", "session.json"]


def test_stream_text_by_kind():
    assert stream_text({"kind": "heart_rate", "hr_bpm": 151.0, "rr_s": [0.396, 0.4], "contact": False,
                        "hr_mean_bpm": 140.2}) == "heart rate 151 bpm, RR 396 400 ms, no skin contact, mean 140 bpm"
    assert stream_text({"kind": "rsc", "speed_m_s": 4.0, "cadence_per_min": 88.0, "total_distance_m": 5230.0,
                        "running": True}) == "speed 4.00 m/s (4:10 /km), cadence 88/min, 5.23 km, running"
    assert stream_text({"kind": "heart_rate"}) == "–"


def test_pipeline_rejects_a_reused_stream_id():
    from sensing.ingest import IngestPipeline

    async def main():
        p = IngestPipeline()
        p.add_stream("a", kind="heart_rate", label="a", placement="chest", decoder=HeartRateDecoder())
        with pytest.raises(ValueError, match="already in use"):
            p.add_stream("a", kind="rsc", label="a", placement="chest", decoder=RscDecoder())
        with pytest.raises(ValueError, match="kind must be one of"):
            p.add_stream("b", kind="ecg", label="b", placement="chest", decoder=HeartRateDecoder())

    asyncio.run(main())


def _replayed(folder) -> dict:
    """The last snapshot of a replay of ``folder`` at full speed."""
    replay = LiveSession.replay(folder, speed=None)
    replay.start()
    try:
        assert replay.wait(60)
    finally:
        replay.stop()
    return replay.snapshot()


def test_replay_of_a_session_plays_the_strap_through_the_same_decoder(tmp_path):
    """`backstride replay` of an IMU + strap session: every recorded notification decoded again, on the IMU's axis."""
    acc, gyr = ramp_signals()
    imu = EmulatedReferenceSensor("AA:BB:CC:DD:EE:61", "backstride-61", acc, gyr, sampling_rate_hz=FS)
    strap = EmulatedHeartRateStrap("AA:BB:CC:DD:EE:62", "HRM-Pro:62", hr_measurements(), interval_s=0.2)
    _, out = run(tmp_path, [imu, strap], [("backstride-61", "lower-back"), ("HRM-Pro", "chest")],
                 lambda s: time.sleep(2.5), wait_for=lambda snap: snap["samples_received"] > 100)
    df = chunked.read_heart_rate(out)
    rr = chunked.read_rr_intervals(out)
    snap = _replayed(out)
    (stream,) = snap["streams"]
    assert stream["kind"] == "heart_rate" and stream["state"] == "finished" and stream["corrupt_frames"] == 0
    assert stream["measurements"] == len(df) and stream["rr_intervals"] == len(rr)
    assert stream["hr_bpm"] == df["hr_bpm"].iloc[-1]
    assert stream["hr_mean_bpm"] == pytest.approx(df.loc[df["hr_bpm"] > 0, "hr_bpm"].mean())
    assert stream["rr_s"] == pytest.approx(list(df["rr_s"].iloc[-1]), abs=0.5 / 1024)
    # virtual host times: the recorded spacing, whatever the replay speed
    assert stream["t_s"] == pytest.approx(df["t_s"].iloc[-1] - df["t_s"].iloc[0], abs=1e-3)
    assert snap["samples_received"] == sum(n for _, n in imu.sent_log)
    # a damaged strap file: the IMU still replays in full, the strap's stream says why it is silent
    (out / "heart_rate.arrows").write_bytes(b"damaged")
    snap = _replayed(out)
    (stream,) = snap["streams"]
    assert stream["state"] == "error" and "not replayed" in stream["error"] and "heart_rate.arrows" in stream["error"]
    assert stream["measurements"] == 0 and snap["hr_bpm"] is None
    assert snap["state"] == "finished" and snap["samples_received"] == sum(n for _, n in imu.sent_log)


@pytest.mark.parametrize("state", [[1, 2], {"events": ["link_drop"]}, {"events": [{"type": "link_drop"}]}])
def test_a_damaged_heart_rate_state_keeps_every_measurement(tmp_path, state):
    """A heart-rate chunk whose state is of the wrong kind (a list, events that are text, a link drop without its
    time): every measurement is read, the damaged state is said, and the link drops that are whole stay."""
    w = write_hr(tmp_path / "heart_rate.arrows", HR_ROWS[:2], close=False)
    w.append([{"host_utc_s": START.timestamp() + 4.0, **HR_ROWS[2]}], state)
    w.close({"final": True, "link_drops": 1,
             "events": [{"type": "link_drop", "lost_at_utc_s": START.timestamp() + 10.0, "resumed_utc_s": None}]})
    df = chunked.read_heart_rate(tmp_path / "heart_rate.arrows")
    assert list(df["hr_bpm"]) == [61.0, 140.0, 0.0]
    assert [g["start_s"] for g in df.attrs["gaps"]] == [pytest.approx(10.0)]
    said = "ignored" if not isinstance(state, dict) or not all(isinstance(e, dict) for e in state["events"]) else \
        "1 link drop without its times in the state; left out"
    assert any("heart_rate.arrows" in x and said in x for x in df.attrs["warnings"]), df.attrs["warnings"]
