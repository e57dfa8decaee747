"""Crash-safe live recordings: round trip, damaged files, and a real recording process killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from analysis.constants import GRAVITY_M_S2
from conftest import arrow_message_offsets
from sensing import chunked
from sensing.formats import open_recording
from sensing.recording import RecordingError, SensorInfo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_blocks(path, blocks, *, fs=100.0, close=True, state=None):
    w = chunked.ChunkWriter(path, sampling_rate_hz=fs, channels=("acc", "gyr"), placement="lower-back",
                            sensor=SensorInfo(make="emulated"), profile="backstride-reference", background=False)
    for idx, acc, gyr in blocks:
        w.append(idx, {"acc_x": acc[:, 0], "acc_y": acc[:, 1], "acc_z": acc[:, 2],
                       "gyr_x": gyr[:, 0], "gyr_y": gyr[:, 1], "gyr_z": gyr[:, 2]}, state or {"lost_samples": 0})
    if close:
        w.close({"final": True, "link_drops": 2, "lost_samples": 5, "events": [{"type": "link_drop"}]})
    return w


def rand_blocks(rng, sizes, start=0):
    out, i = [], start
    for n in sizes:
        out.append((np.arange(i, i + n), rng.normal(0, 3, (n, 3)), rng.normal(0, 1, (n, 3))))
        i += n
    return out


def test_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(1)
    blocks = rand_blocks(rng, [7, 13, 60, 1, 40])
    blocks[2] = (blocks[2][0] + 5, blocks[2][1], blocks[2][2])  # a gap of 5 before the third block
    blocks[3] = (blocks[3][0] + 5, blocks[3][1], blocks[3][2])
    blocks[4] = (blocks[4][0] + 5, blocks[4][1], blocks[4][2])
    write_blocks(tmp_path / "lower-back.arrows", blocks)
    chunked.write_session_index(tmp_path, [{"placement": "lower-back", "file": "lower-back.arrows"}])
    rec = open_recording(tmp_path)
    idx = np.concatenate([b[0] for b in blocks])
    np.testing.assert_array_equal(rec.data.index.to_numpy(), idx)
    np.testing.assert_array_equal(rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy(), np.concatenate([b[1] for b in blocks]))
    np.testing.assert_array_equal(rec.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(), np.concatenate([b[2] for b in blocks]))
    assert rec.lost_samples == 5 and rec.link_drops == 2 and rec.placement == "lower-back"
    assert rec.extra["complete"] and not rec.extra["truncated"]
    assert rec.sensor.make == "emulated"


def test_truncated_last_chunk_keeps_everything_before(tmp_path):
    rng = np.random.default_rng(2)
    blocks = rand_blocks(rng, [50, 50, 50])
    path = tmp_path / "x.arrows"
    write_blocks(path, blocks, close=False)
    size = path.stat().st_size
    with open(path, "r+b") as fh:  # cut the last chunk in half: what a kill mid-write leaves
        fh.truncate(size - 700)
    rec = open_recording(path)
    assert rec.extra["truncated"] and not rec.extra["complete"]
    np.testing.assert_array_equal(rec.data.index.to_numpy(), np.arange(100))
    np.testing.assert_array_equal(rec.data["acc_x"].to_numpy(), np.concatenate([b[1][:, 0] for b in blocks[:2]]))


def test_bad_files_give_clear_errors(tmp_path):
    junk = tmp_path / "junk.arrows"
    junk.write_bytes(b"not arrow at all")
    with pytest.raises(RecordingError, match="junk.arrows: header: not an Arrow stream"):
        open_recording(junk)
    empty = tmp_path / "empty.arrows"
    w = chunked.ChunkWriter(empty, sampling_rate_hz=100, channels=("acc",), placement=None, background=False)
    del w  # killed before the first chunk
    with pytest.raises(RecordingError, match="no samples were written"):
        open_recording(empty)
    two = tmp_path / "two"
    for p in ("lower-back", "foot-left"):
        write_blocks(two / f"{p}.arrows", rand_blocks(np.random.default_rng(3), [10]))
    chunked.write_session_index(two, [])
    with pytest.raises(RecordingError, match="2 sensors: foot-left, lower-back"):
        open_recording(two)
    assert open_recording(two, placement="lower-back").placement == "lower-back"
    with pytest.raises(FileExistsError, match="never overwritten"):
        chunked.ChunkWriter(two / "foot-left.arrows", sampling_rate_hz=100, channels=("acc",), placement=None)


@pytest.mark.parametrize("state, said", [
    ([1, 2], "the chunk of samples 100-149: its state is a JSON list, not a JSON object; ignored"),
    (None, "the chunk of samples 100-149: its state is null"),
    ({"events": 3}, "the chunk of samples 100-149: state.events is not a list of objects"),
    ({"link_drops": "x"}, "state.link_drops is 'x', not a count"),
    ({"lost_samples": [1]}, "state.lost_samples is [1], not a count"),
    ({"clock": [1, 2]}, "state.clock ([1, 2]) is not a clock fit"),
    ({"clock": {"utc0_s": 1.7e9}}, "is not a clock fit"),
    ({"clock": {"utc0_s": 1e20, "rate_hz": 100, "nominal_rate_hz": 100}}, "is not a clock fit"),
])
def test_a_chunk_state_of_the_wrong_kind_is_said_and_every_sample_kept(tmp_path, state, said):
    """The last chunk's state (what the recorder knew: clock, lost samples, link drops, events) damaged or of the
    wrong type: every sample of every chunk is read, the warning names the file and the chunk or field."""
    rng = np.random.default_rng(4)
    blocks = rand_blocks(rng, [50, 50, 50])
    path = tmp_path / "x.arrows"
    w = write_blocks(path, blocks[:2], close=False)
    idx, acc, gyr = blocks[2]
    w.append(idx, {"acc_x": acc[:, 0], "acc_y": acc[:, 1], "acc_z": acc[:, 2],
                   "gyr_x": gyr[:, 0], "gyr_y": gyr[:, 1], "gyr_z": gyr[:, 2]}, state)
    rec = open_recording(path)
    np.testing.assert_array_equal(rec.data.index.to_numpy(), np.arange(150))
    np.testing.assert_array_equal(rec.data["acc_x"].to_numpy(), np.concatenate([b[1][:, 0] for b in blocks]))
    assert any(said in x and "x.arrows" in x for x in rec.extra["warnings"]), rec.extra["warnings"]
    assert rec.start_utc is None or 2000 < rec.start_utc.year < 2100


def _with_meta(path, meta: bytes, tmp_path):
    """``path`` rewritten with its schema's ``backstride.live`` metadata replaced by ``meta``."""
    import pyarrow as pa

    with open(path, "rb") as fh:
        r = pa.ipc.open_stream(fh)
        schema = r.schema.with_metadata({chunked.SCHEMA_KEY: meta})
        batches = list(r)
    out = tmp_path / "meta.arrows"
    with pa.OSFile(str(out), "wb") as sink, pa.ipc.new_stream(sink, schema) as wr:
        for b in batches:
            wr.write_batch(b)
    return out


@pytest.mark.parametrize("change, where", [
    (lambda m: [1, 2], "metadata: a JSON list"),
    (lambda m: {**m, "sampling_rate_hz": "fast"}, "metadata.sampling_rate_hz: 'fast'"),
    (lambda m: {k: v for k, v in m.items() if k != "sampling_rate_hz"}, "metadata.sampling_rate_hz: missing"),
    (lambda m: {**m, "sensor": ["x"]}, "metadata.sensor: a JSON list"),
    (lambda m: {**m, "opened_utc": "yesterday"}, "metadata.opened_utc: 'yesterday'"),
])
def test_file_metadata_of_the_wrong_kind_is_a_named_error(tmp_path, change, where):
    rng = np.random.default_rng(5)
    path = tmp_path / "x.arrows"
    write_blocks(path, rand_blocks(rng, [50, 50]))
    with open(path, "rb") as fh:
        import pyarrow as pa

        meta = json.loads(pa.ipc.open_stream(fh).schema.metadata[chunked.SCHEMA_KEY])
    bad = _with_meta(path, json.dumps(change(meta)).encode(), tmp_path)
    with pytest.raises(RecordingError, match="meta.arrows: " + where.replace("(", r"\(").replace("[", r"\[")):
        open_recording(bad)
    with pytest.raises(RecordingError, match="meta.arrows: metadata: not valid JSON"):
        open_recording(_with_meta(path, b'{"schema": "backstride.live/1", ', tmp_path))


@pytest.mark.parametrize("how", ["marker", "length", "zeros", "zeroed chunk", "erased flash"])
def test_a_damaged_chunk_in_the_middle_skips_only_that_chunk(tmp_path, how):
    """One chunk damaged in a closed recording (its message marker overwritten, or its length made huge): the
    chunks after it are read too, its samples are lost samples, and the warning names the bytes and the chunk."""
    rng = np.random.default_rng(6)
    blocks = rand_blocks(rng, [50] * 8)
    path = tmp_path / "x.arrows"
    write_blocks(path, blocks)
    offs = arrow_message_offsets(path)
    data = bytearray(path.read_bytes())
    at = offs[4]  # chunk 4, samples 100-149 (offs[0] is the schema, chunk 1 the writer's empty first one)
    if how == "marker":
        data[at:at + 4] = b"\x00\x00\x00\x01"
    elif how == "length":
        data[at + 4:at + 8] = (0x7FFFFFF0).to_bytes(4, "little")
    elif how == "zeros":  # zeroed bytes read as the stream's end: a bad sector
        data[at:at + 8] = bytes(8)
    else:  # the whole chunk zeroed, or read back as erased flash (0xFF)
        data[at:offs[5]] = (b"\x00" if how == "zeroed chunk" else b"\xff") * (offs[5] - at)
    path.write_bytes(bytes(data))
    rec = open_recording(path)
    keep = np.r_[0:100, 150:400]
    np.testing.assert_array_equal(rec.data.index.to_numpy(), keep)
    np.testing.assert_array_equal(rec.data["acc_z"].to_numpy(), np.concatenate([b[1][:, 2] for b in blocks])[keep])
    assert rec.lost_samples == 50
    (w,) = [x for x in rec.extra["warnings"] if "damaged" in x]
    assert f"bytes {at}-{offs[5]} are damaged (after sample 99)" in w, w
    assert rec.extra["complete"]  # the closing chunk after the damage was read


def test_bytes_appended_after_a_closed_recording_change_nothing(tmp_path):
    rng = np.random.default_rng(13)
    blocks = rand_blocks(rng, [50] * 4)
    path = tmp_path / "x.arrows"
    write_blocks(path, blocks)
    path.write_bytes(path.read_bytes() + b"\xff" * 5000 + b"garbage" * 100)
    rec = open_recording(path)
    np.testing.assert_array_equal(rec.data.index.to_numpy(), np.arange(200))
    assert rec.extra["complete"] and not rec.extra.get("warnings"), rec.extra.get("warnings")


def test_a_killed_recorder_is_said_and_a_folder_without_its_index_is_read(tmp_path):
    """A recording whose last chunk was cut (the recorder killed mid-write) says so; a folder whose recorder was
    killed before it wrote session.json is still a live recording (not taken for a BIDS folder)."""
    rng = np.random.default_rng(7)
    path = tmp_path / "lower-back.arrows"
    write_blocks(path, rand_blocks(rng, [50, 50, 50]), close=False)
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.truncate(size - 700)
    rec = open_recording(tmp_path)  # the folder: no session.json
    assert len(rec.data) == 100
    (w,) = [x for x in rec.extra["warnings"] if "not finished" in x]
    assert "every complete chunk before it is read (up to sample 99)" in w, w


def test_empty_and_header_cut_files_say_nothing_was_recorded(tmp_path):
    rng = np.random.default_rng(8)
    whole = tmp_path / "whole.arrows"
    write_blocks(whole, rand_blocks(rng, [50]))
    (tmp_path / "empty.arrows").write_bytes(b"")
    with pytest.raises(RecordingError, match="empty.arrows: file: empty: the recorder stopped before writing anything"):
        open_recording(tmp_path / "empty.arrows")
    (tmp_path / "head.arrows").write_bytes(whole.read_bytes()[: arrow_message_offsets(whole)[1] - 60])
    with pytest.raises(RecordingError, match="head.arrows: header: the file ends inside its header"):
        open_recording(tmp_path / "head.arrows")


def test_a_restarted_counter_is_said_and_the_first_copy_kept(tmp_path):
    rng = np.random.default_rng(9)
    first, again = rand_blocks(rng, [100]), rand_blocks(rng, [100])  # the same sample numbers, other values
    path = tmp_path / "x.arrows"
    write_blocks(path, first + again)
    rec = open_recording(path)
    np.testing.assert_array_equal(rec.data["acc_x"].to_numpy(), first[0][1][:, 0])
    (w,) = [x for x in rec.extra["warnings"] if "repeat sample numbers" in x]
    assert "100 samples" in w and "first: sample 0" in w


@pytest.mark.parametrize("field, arrow_type, said", [
    ("acc_z", "string", "schema, column acc_z: type string"),
    ("acc_z", "date64", "schema, column acc_z: type date64"),
    ("sample_index", "float64", "schema, column sample_index: type double"),
])
def test_columns_of_the_wrong_type_are_named(tmp_path, field, arrow_type, said):
    import pyarrow as pa

    rng = np.random.default_rng(10)
    path = tmp_path / "x.arrows"
    write_blocks(path, rand_blocks(rng, [20]))
    with open(path, "rb") as fh:
        table = pa.ipc.open_stream(fh).read_all()
    col = table.column(field)
    new = {"string": lambda c: pa.compute.cast(c, pa.string()), "date64": lambda c: pa.array(
        np.arange(len(c)), pa.int64()).cast(pa.date64()), "float64": lambda c: pa.compute.cast(c, pa.float64())}[arrow_type](col)
    i = table.schema.get_field_index(field)
    table = table.set_column(i, pa.field(field, new.type), new).replace_schema_metadata(table.schema.metadata)
    out = tmp_path / "typed.arrows"
    with pa.OSFile(str(out), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as wr:
        wr.write_table(table)
    with pytest.raises(RecordingError, match="typed.arrows: " + said):
        open_recording(out)


def test_placement_asked_over_the_files_own_is_said(tmp_path):
    path = tmp_path / "x.arrows"
    write_blocks(path, rand_blocks(np.random.default_rng(11), [50]))
    rec = open_recording(path, placement="foot-left")
    assert rec.placement == "foot-left"
    assert any("metadata.placement: the file says lower-back; read as foot-left as asked" in w
               for w in rec.extra["warnings"])


CHILD = textwrap.dedent("""
    import sys, threading, time
    import numpy as np
    from sensing.ble import EmulatedRadio, EmulatedReferenceSensor
    from sensing.session import LiveSession
    fs = 200
    pos = np.arange(4000)
    acc = np.column_stack([(pos % 1000) / 100.0, np.sin(pos / 50.0), 9.80665 + np.cos(pos / 30.0)])
    gyr = np.column_stack([np.sin(pos / 20.0), np.zeros(4000), (pos % 500) / 500.0])
    sensor = EmulatedReferenceSensor("AA:BB:CC:DD:EE:09", "backstride-09", acc, gyr, sampling_rate_hz=fs)
    radio = EmulatedRadio([sensor])
    s = LiveSession.sensors([("backstride-09", "foot-left")], out=sys.argv[1], client_backend=radio.client_backend,
                            scanner_backend=radio.scanner_backend, scan_timeout_s=0.05)
    s.start()
    while True:   # report what the sensor has delivered so far: the parent's truth
        log = list(sensor.sent_log)
        if log:
            print("SENT", log[0][0], sum(n for _, n in log), flush=True)
        time.sleep(0.05)
""")


@pytest.mark.slow
def test_sigkill_loses_at_most_a_second(tmp_path):
    out = tmp_path / "rec"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    first_pos, sent = None, 0
    t_end = time.monotonic() + 120
    try:
        while time.monotonic() < t_end:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("SENT"):
                _, first_pos, sent = line.split()
                first_pos, sent = int(first_pos), int(sent)
                if sent >= 4 * 200:  # four seconds recorded
                    break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert first_pos is not None, proc.stderr.read()[-2000:]
    rec = open_recording(out)
    assert not rec.extra["complete"]
    n = len(rec.data)
    # at most the last second (plus the 50 ms between the child's reports) is lost
    assert n >= sent - 200 - 10, (n, sent)
    # everything that was written is exact: sample index i is the sensor's position first_pos + i
    idx = rec.data.index.to_numpy()
    np.testing.assert_array_equal(idx, np.arange(n))
    p = first_pos + idx
    np.testing.assert_allclose(rec.data["acc_x"].to_numpy(), (p % 1000) / 100.0, atol=16 * GRAVITY_M_S2 / 65536 + 1e-12)
    np.testing.assert_allclose(rec.data["gyr_z"].to_numpy(), (p % 500) / 500.0, atol=np.deg2rad(2000 / 65536) + 1e-12)
    index = json.loads((out / "session.json").read_text())
    assert index["sensors"][0]["placement"] == "foot-left"


CHILD_HR = textwrap.dedent("""
    import sys, time
    import numpy as np
    from sensing.ble import EmulatedHeartRateStrap, EmulatedRadio, EmulatedReferenceSensor
    from sensing.session import LiveSession
    pos = np.arange(4000)
    acc = np.column_stack([(pos % 1000) / 100.0, np.sin(pos / 50.0), 9.80665 + np.cos(pos / 30.0)])
    imu = EmulatedReferenceSensor("AA:BB:CC:DD:EE:0A", "backstride-0a", acc, 0 * acc, sampling_rate_hz=200)
    # measurement k (counted since power-on) names itself: 100 + k mod 50 bpm, RR (400 + k mod 100) / 1024 s
    strap = EmulatedHeartRateStrap("AA:BB:CC:DD:EE:0B", "HRM-Pro:0b",
                                   [{"hr_bpm": 100 + k % 50, "rr_s": [(400 + k % 100) / 1024]} for k in range(100)],
                                   interval_s=0.5)
    radio = EmulatedRadio([imu, strap])
    s = LiveSession.sensors([("backstride-0a", "lower-back"), ("HRM-Pro", "chest")], out=sys.argv[1],
                            client_backend=radio.client_backend, scanner_backend=radio.scanner_backend,
                            scan_timeout_s=0.05)
    s.start()
    while True:
        log = list(strap.sent_log)
        n_imu = sum(n for _, n in imu.sent_log)
        if log:
            print("SENT", log[0][0], len(log), n_imu, flush=True)
        time.sleep(0.05)
""")


@pytest.mark.slow
def test_sigkill_heart_rate_beside_imu_loses_at_most_a_second(tmp_path):
    """A heart-rate strap recorded beside an IMU: after SIGKILL both files open, each missing at most the last second."""
    out = tmp_path / "rec"
    proc = subprocess.Popen([sys.executable, "-c", CHILD_HR, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    first_k, sent, sent_imu = None, 0, 0
    t_end = time.monotonic() + 120
    try:
        while time.monotonic() < t_end:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("SENT"):
                first_k, sent, sent_imu = (int(x) for x in line.split()[1:])
                if sent >= 8:  # four seconds of heart rate
                    break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert first_k is not None, proc.stderr.read()[-2000:]
    hr = chunked.read_heart_rate(out)
    assert not hr.attrs["complete"]
    n = len(hr)
    # at most the last second (two notifications at 2 Hz, plus one in the 50 ms between reports) is lost
    assert n >= sent - 3, (n, sent)
    k = first_k + np.arange(n)  # what was written is exact and in order
    assert hr["hr_bpm"].tolist() == (100 + k % 50).astype(float).tolist()
    np.testing.assert_array_equal(np.concatenate(list(hr["rr_s"])), (400 + k % 100) / 1024)
    assert np.all(np.diff(hr["t_s"]) > 0)
    rec = open_recording(out)  # the IMU file beside it opens too
    assert len(rec.data) >= sent_imu - 200 - 10 and not rec.extra["complete"]
    index = json.loads((out / "session.json").read_text())
    assert {s["file"]: s["kind"] for s in index["sensors"]} == {"lower-back.arrows": "imu", "heart_rate.arrows": "heart_rate"}


def test_replay_says_a_damaged_live_file_as_analyse_does(tmp_path, capsys):
    """`backstride replay` of a live file whose metadata is unreadable: refused on stderr, exit 2, before any live
    view; of one damaged in the middle: played, with the skipped bytes said first."""
    from sensing.cli import main

    rng = np.random.default_rng(12)
    path = tmp_path / "x.arrows"
    write_blocks(path, rand_blocks(rng, [50] * 6))
    bad = _with_meta(path, b"[1, 2]", tmp_path)
    assert main(["replay", str(bad), "--speed", "max"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"backstride replay: {bad}: metadata: a JSON list" in err
    offs = arrow_message_offsets(path)
    data = bytearray(path.read_bytes())
    data[offs[3]:offs[3] + 4] = b"\x00\x00\x00\x01"
    path.write_bytes(bytes(data))
    assert main(["replay", str(path), "--speed", "max"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"warning: {path}: bytes {offs[3]}-{offs[4]} are damaged" in err
