"""Crash-safe live recordings: small appended chunks, readable after SIGKILL or power loss.

Layout of a live recording (``backstride record --out DIR``)::

    DIR/
      session.json            index of the sensors (written once, atomically, at start)
      lower-back.arrows       one Arrow IPC *stream* per IMU sensor, named by placement
      foot-left.arrows
      heart_rate.arrows       event streams (irregular, about 1 Hz): the standard Heart Rate
      rsc.arrows              service and Running Speed and Cadence, one row per notification

Each ``.arrows`` file is an Arrow IPC stream (pyarrow): its schema, written
first, carries the fixed metadata (rate, placement, sensor, profile) under the
key ``backstride.live``; then one record batch per chunk (at most
``flush_every_s`` of samples: ``sample_index``, ``acc_*``, ``gyr_*``, ``mag_*`` in
SI units, float64 so nothing is rounded).  Each batch carries its own metadata
(the clock fit, lost samples, link drops and events such as link drops so far),
so the newest complete batch always tells the state of the recording.  After
each batch the file is flushed and ``fsync``-ed.

A killed writer leaves at most a half-written last batch; :func:`read_live`
reads every complete batch and stops at the broken one (marking the recording
``extra["truncated"] = True``).  So a crash loses at most the samples not yet
written: under ``flush_every_s`` (0.5 s by default) plus the one being written.

:func:`read_live` returns a :class:`sensing.recording.Recording`;
:func:`sensing.formats.open_recording` opens a live directory or ``.arrows`` file.

Event streams (heart rate, running speed and cadence) are not sampled at a
rate, so they are not :class:`Recording` objects: :class:`EventWriter` writes
one fsync-ed chunk per notification (one a second, so a kill loses at most the
one being written), and :func:`read_heart_rate`, :func:`read_rr_intervals` and
:func:`read_rsc` return pandas DataFrames with ``t_s`` (seconds from the
session start, or from ``start_utc=`` such as an IMU recording's start) and
``utc`` (host receive time, UTC).  Their link drops, corrupt notifications and
whether the file was closed are in ``DataFrame.attrs``.
"""

from __future__ import annotations

import io
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa

from analysis.constants import ACC_COLS, GYR_COLS, MAG_COLS
from sensing.recording import Recording, RecordingError, SensorInfo, metadata_object, utc

LIVE_SCHEMA = "backstride.live/1"
SCHEMA_KEY = b"backstride.live"
STATE_KEY = b"state"
SUFFIX = ".arrows"
SESSION_FILE = "session.json"


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_session_index(folder: str | Path, sensors: list[dict], *, started_utc: datetime | None = None) -> Path:
    """``session.json``: which sensors (name, address, placement, file, kind) this recording holds.

    ``started_utc`` (default: now) is the session start that event streams'
    ``t_s`` count from; it is stored as ``created_utc``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SESSION_FILE
    start = (started_utc or datetime.now(timezone.utc)).astimezone(timezone.utc)
    _atomic_write_text(path, json.dumps({"schema": LIVE_SCHEMA, "created_utc": start.isoformat(),
                                         "sensors": sensors}, indent=1))
    return path


class ChunkWriter:
    """Appends sample blocks of one sensor to an ``.arrows`` file in fsync-ed chunks.

    Parameters
    ----------
    path
        The ``.arrows`` file to create (must not exist: a recording is never overwritten).
    sampling_rate_hz
        Nominal rate of ``sample_index``.
    channels
        Which of ``"acc"``, ``"gyr"``, ``"mag"`` the sensor delivers.
    flush_every_s
        Write a chunk when this much sample time is buffered (and on :meth:`flush`).
    background
        Write chunks on a worker thread (one, so chunks stay in order) rather
        than in the caller: the BLE event loop never waits for the disk.
    """

    def __init__(self, path: str | Path, *, sampling_rate_hz: float, channels: tuple[str, ...], placement: str | None,
                 sensor: SensorInfo | None = None, profile: str | None = None, address: str | None = None,
                 flush_every_s: float = 0.5, background: bool = True):
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"{self.path}: exists; a live recording is never overwritten (choose another --out)")
        if "acc" not in channels:
            raise ValueError(f"channels must include 'acc', got {channels}")
        self.sampling_rate_hz = float(sampling_rate_hz)
        self.columns = list(ACC_COLS) + (list(GYR_COLS) if "gyr" in channels else []) + (
            list(MAG_COLS) if "mag" in channels else [])
        meta = {
            "schema": LIVE_SCHEMA, "sampling_rate_hz": self.sampling_rate_hz, "placement": placement,
            "sensor": asdict(sensor or SensorInfo()), "profile": profile, "address": address,
            "opened_utc": datetime.now(timezone.utc).isoformat(),
        }
        fields = [pa.field("sample_index", pa.int64())] + [pa.field(c, pa.float64()) for c in self.columns]
        self.schema = pa.schema(fields, metadata={SCHEMA_KEY: json.dumps(meta).encode()})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "xb")
        self._writer = pa.ipc.new_stream(self._fh, self.schema)
        self.flush_every_n = max(1, int(round(flush_every_s * self.sampling_rate_hz)))
        self._parts: list[np.ndarray] = []
        self._n_buffered = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-writer") if background else None
        self._pending = []
        self.n_written_ = 0
        self.n_chunks_ = 0
        self.write_errors_: list[str] = []  # chunks the disk refused (full, pulled): said in later chunks' state
        self.unwritten_ = 0
        self.closed = False
        # an empty first chunk puts the schema and metadata on disk at once
        self._write([], json.dumps({"events": []}))
        _fsync_dir(self.path.parent)

    def _sync(self) -> None:
        _fsync_file(self._fh)

    def append(self, sample_index: np.ndarray, values: dict[str, np.ndarray], state: dict | Callable[[], dict]) -> None:
        """Buffer samples (``values``: column → array); write a chunk when enough are buffered.

        ``state`` is stored with the chunk (JSON-able: clock fit, lost samples,
        link drops, events since the last chunk); a callable is only called
        when a chunk is written.
        """
        block = np.column_stack([np.asarray(sample_index, dtype=np.float64)] + [np.asarray(values[c], np.float64) for c in self.columns])
        self._parts.append(block)
        self._n_buffered += len(block)
        if self._n_buffered >= self.flush_every_n:
            self.flush(state)

    def flush(self, state: dict | Callable[[], dict]) -> None:
        """Write what is buffered (with ``state``) as one chunk, even if empty of samples."""
        if self.closed:
            raise RuntimeError(f"{self.path}: writer is closed")
        state = _with_write_errors(self, state() if callable(state) else state)
        parts, self._parts, self._n_buffered = self._parts, [], 0
        job = (parts, json.dumps(state, default=_json_default))
        if self._pool is not None:
            self._pending = [f for f in self._pending if not f.done()]
            self._pending.append(self._pool.submit(self._write, *job))
        else:
            self._write(*job)

    def _write(self, parts: list[np.ndarray], state_json: str) -> None:
        data = np.concatenate(parts) if parts else np.zeros((0, 1 + len(self.columns)))
        arrays = [pa.array(data[:, 0].astype(np.int64))] + [pa.array(data[:, k + 1]) for k in range(len(self.columns))]
        batch = pa.record_batch(arrays, schema=self.schema)
        with self._lock:
            if _put_chunk(self, batch, state_json, len(data), self._sync):
                self.n_written_ += len(data)
                self.n_chunks_ += 1

    def close(self, state: dict) -> None:
        """Write the rest with the final ``state``, end the stream and close the file."""
        _close_stream(self, state)


def _write_failed(w, n_rows: int, exc: Exception) -> None:
    """A chunk the disk refused (full, the stick pulled): kept in ``w.write_errors_`` and ``w.unwritten_`` (rows), for
    the recorder to show and the next chunks' state to carry; the recording goes on (the disk may come back)."""
    w.write_errors_.append(f"{type(exc).__name__}: {exc}")
    w.unwritten_ += n_rows


def _put_chunk(w, batch: pa.RecordBatch, state_json: str, n_rows: int, sync) -> bool:
    """Write ``batch`` with its state to ``w``'s stream and ``sync()`` it to disk (the caller holds ``w``'s lock);
    False when the disk refused the chunk (:func:`_write_failed`).  A refused sync is kept as a write error, its rows
    not counted as lost (they are in the file's buffer, and on disk when a later flush succeeds)."""
    try:
        w._writer.write_batch(batch, custom_metadata={STATE_KEY: state_json.encode()})
    except (OSError, pa.ArrowException) as exc:
        _write_failed(w, n_rows, exc)
        return False
    try:
        sync()
    except OSError as exc:
        _write_failed(w, 0, exc)
    return True


def _with_write_errors(w, state: dict) -> dict:
    """``state`` with the writer's failed chunks so far (``write_errors``, ``unwritten_rows``), if any."""
    if not w.write_errors_:
        return state
    return {**state, "write_errors": len(w.write_errors_), "unwritten_rows": w.unwritten_,
            "last_write_error": w.write_errors_[-1]}


def _fsync_file(fh) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _close_stream(w, state: dict) -> None:
    """Close a :class:`ChunkWriter` or :class:`EventWriter`: the last chunk with ``state``, the stream's end, fsync."""
    if w.closed:
        return
    w.flush(state)
    if w._pool is not None:
        w._pool.shutdown(wait=True)
        for f in w._pending:
            f.result()  # surface a write error
    with w._lock:
        w._writer.close()
        _fsync_file(w._fh)
        w._fh.close()
    w.closed = True


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    raise TypeError(f"not JSON-able: {type(obj).__name__}")


def _open_stream(path: Path, expected: str):
    """``(file, Arrow stream reader)`` of a backstride ``.arrows`` file, or a RecordingError naming it."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise RecordingError(path, "file", "does not exist") from None
    try:
        return fh, pa.ipc.open_stream(fh)
    except (pa.ArrowException, OSError, MemoryError, ValueError) as exc:
        size = os.fstat(fh.fileno()).st_size
        fh.close()
        if size == 0:
            raise RecordingError(path, "file", "empty: the recorder stopped before writing anything, so nothing was "
                                 "recorded", expected) from None
        with open(path, "rb") as f:
            marker = f.read(4) == b"\xff\xff\xff\xff"
        if marker and size < 64 * 1024 and "read" in str(exc):
            raise RecordingError(path, "header", f"the file ends inside its header ({size} bytes): the recorder "
                                 "stopped as it started, before any samples were written", expected) from None
        raise RecordingError(path, "header", f"not an Arrow stream written by backstride ({exc})", expected) from None


class _Spliced(io.RawIOBase):
    """A stream's schema message followed by the file from ``offset`` on: a reader that starts again after damage."""

    def __init__(self, head: bytes, fh, offset: int):
        self._head, self._fh, self._pos, self.offset = head, fh, 0, offset  # offset: where reading resumes

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._pos < len(self._head):
            n = min(len(b), len(self._head) - self._pos)
            b[:n] = self._head[self._pos:self._pos + n]
        else:
            self._fh.seek(self.offset + self._pos - len(self._head))
            data = self._fh.read(len(b))
            n = len(data)
            b[:n] = data
        self._pos += n
        return n

    def file_offset(self) -> int:
        return self.offset + self._pos - len(self._head)


#: What pyarrow raises on a damaged message (a bad length can ask for gigabytes: MemoryError).
_DAMAGE = (pa.ArrowException, OSError, EOFError, MemoryError, ValueError)
_MARKER = b"\xff\xff\xff\xff"  # every IPC message starts with this continuation marker


def _next_marker(fh, after: int, size: int) -> int | None:
    """File offset of the next plausible message start after ``after`` (the marker, then a metadata length that
    fits in what is left of the file), or None.  Erased flash reads 0xFF: a run of it is all markers, none
    plausible (its length reads -1), and is passed over within each block read."""
    pos = after + 1
    while pos < size:
        fh.seek(pos)
        block = fh.read(1 << 20)
        if len(block) < 8:
            return None
        k = block.find(_MARKER)
        while 0 <= k <= len(block) - 8:
            length = int.from_bytes(block[k + 4:k + 8], "little", signed=True)
            if 0 < length <= size - (pos + k + 8):
                return pos + k
            k = block.find(_MARKER, k + 1)
        pos += len(block) - 7  # a marker across the block's end is found in the next block
    return None


def _ended_cleanly(fh, at: int, size: int) -> bool:
    """Whether the stream's end-of-stream marker (0xFFFFFFFF 0x00000000, as the writer closes it) sits at ``at``."""
    fh.seek(at)
    return fh.read(8) == _MARKER + b"\x00\x00\x00\x00"


def _last_read(batches) -> str | None:
    """The last sample read ("sample N"), or an event stream's last measurement by its time; None before any."""
    for b in reversed(batches):
        if b.num_rows and "sample_index" in b.schema.names:
            return f"sample {b.column('sample_index')[-1].as_py()}"
        if b.num_rows and "host_utc_s" in b.schema.names:
            try:
                t = datetime.fromtimestamp(b.column("host_utc_s")[-1].as_py(), timezone.utc)
            except (TypeError, ValueError, OverflowError, OSError):  # a damaged time
                return "a measurement"
            return f"the measurement of {t:%Y-%m-%d %H:%M:%S} UTC"
    return None


def _after_text(batches) -> str:
    last = _last_read(batches)
    return "before anything was read" if last is None else f"after {last}"


def _samples_text(batches) -> str:
    last = _last_read(batches)
    return "none" if last is None else f"up to {last}"


@dataclass
class _Chunks:
    """What :func:`_read_chunks` read: ``table``, the last good ``state``, every chunk's ``events``, ``truncated``
    (the last chunk unfinished), ``n`` chunks, and ``notes`` (what was damaged and skipped, said to the user)."""

    table: pa.Table
    state: dict
    events: list
    truncated: bool
    n: int
    notes: list


_JSON_TYPES = {list: "a JSON list", type(None): "null", int: "a number", float: "a number", bool: "true/false"}


def _chunk_where(batch) -> str:
    """A chunk named for the user by its samples."""
    if batch.num_rows and "sample_index" in batch.schema.names:
        idx = batch.column("sample_index")
        return f"the chunk of samples {idx[0].as_py()}-{idx[-1].as_py()}"
    return "a chunk without samples"


def _chunk_state(custom, batch, path, notes: list) -> dict | None:
    """A chunk's state (a JSON object), or None with a note when it is not one."""
    if custom is None or STATE_KEY not in custom:
        return None
    try:
        state = json.loads(custom[STATE_KEY])
    except (ValueError, UnicodeDecodeError):
        state = "text that is not JSON"
    if not isinstance(state, dict):
        kind = state if isinstance(state, str) else _JSON_TYPES.get(type(state), type(state).__name__)
        notes.append(f"{path}: {_chunk_where(batch)}: its state is {kind}, not a JSON object; ignored (its samples "
                     "are read)")
        return None
    return state


def _resume_after(fh, head: bytes, at: int, size: int):
    """``(reader, its first (batch, custom metadata), its _Spliced source)`` at the first readable chunk after the
    damage at byte ``at``, or None when none follows (the damage was the file's end)."""
    nxt = _next_marker(fh, at, size)
    while nxt is not None:
        spliced = _Spliced(head, fh, nxt)
        try:
            reader = pa.ipc.open_stream(spliced)
            return reader, reader.read_next_batch_with_custom_metadata(), spliced
        except (StopIteration, *_DAMAGE):
            nxt = _next_marker(fh, nxt, size)
    return None


def _read_chunks(reader, fh, path) -> _Chunks:
    """Every readable chunk of a backstride ``.arrows`` stream.

    A chunk the writer did not finish (killed mid-write) ends the file: what came before is kept.  A damaged chunk
    with readable chunks after it (a bad disk sector, a copy cut short in the middle) is skipped, reading goes on
    at the next chunk, and a note says where; its samples are then lost samples (a gap).
    """
    head_end = fh.tell()  # the schema message ends here
    fh.seek(0)
    head = fh.read(head_end)
    fh.seek(head_end)
    size = os.fstat(fh.fileno()).st_size
    batches, state, events, notes, truncated = [], {}, [], [], False
    tell = fh.tell
    while True:
        at = tell()
        try:
            batch, custom = reader.read_next_batch_with_custom_metadata()
            damaged = False
        except StopIteration:  # the end of the stream, unless readable chunks follow (zeroed bytes read as an end)
            damaged = size - tell() > 0
            if not damaged:
                break
        except _DAMAGE:
            damaged = True
        if damaged:
            resumed = _resume_after(fh, head, at, size)
            if resumed is None:
                if _ended_cleanly(fh, at, size):
                    break  # bytes after the stream's end marker (appended garbage): the recording is whole
                truncated = True  # the writer died while writing this chunk
                notes.append(f"{path}: the last chunk (bytes {at}-{size}) was not finished (the recorder stopped "
                             f"mid-write: killed, crashed or out of power); every complete chunk before it is read "
                             f"({_samples_text(batches)})")
                break
            reader, (batch, custom), spliced = resumed
            notes.append(f"{path}: bytes {at}-{spliced.offset} are damaged ({_after_text(batches)}); skipped, reading "
                         "went on after them (their samples are lost samples)")
            tell = spliced.file_offset
        batches.append(batch)
        st = _chunk_state(custom, batch, path, notes)
        if st is not None:
            state = st
            ev = st.get("events", [])
            if not isinstance(ev, list) or not all(isinstance(e, dict) for e in ev):
                notes.append(f"{path}: {_chunk_where(batch)}: state.events is not a list of objects; "
                             "ignored")
            else:
                events.extend(ev)
    table = pa.Table.from_batches(batches, schema=reader.schema) if batches else reader.schema.empty_table()
    return _Chunks(table, state, events, truncated, len(batches), notes)


def is_live(path: str | Path) -> bool:
    """Whether ``path`` is a live recording: a ``.arrows`` file, or a folder with ``session.json`` or ``.arrows`` files
    (a recorder killed before it wrote ``session.json``)."""
    path = Path(path)
    return path.suffix == SUFFIX or (path.is_dir() and ((path / SESSION_FILE).exists() or any(path.glob(f"*{SUFFIX}"))))


def event_kind_of(path: Path) -> str | None:
    """The event-stream kind a file name says (``heart_rate.arrows``, ``rsc-foot-left.arrows``), or None (IMU)."""
    for kind in EVENT_KINDS:
        if path.stem == kind or path.stem.startswith(kind + "-"):
            return kind
    return None


def live_files(folder: str | Path) -> list[Path]:
    """The IMU sensors' ``.arrows`` files of a live folder (event streams are not among them)."""
    return sorted(f for f in Path(folder).glob(f"*{SUFFIX}") if event_kind_of(f) is None)


def read_live(path: str | Path, placement: str | None = None) -> Recording:
    """Open a live recording (folder or ``.arrows`` file) as a :class:`Recording`.

    A folder with several sensors needs ``placement`` to choose one.  Reads
    every complete chunk; a damaged last chunk (killed writer) is skipped and
    ``extra["truncated"]`` says so.
    """
    path = Path(path)
    if path.is_dir():
        files = live_files(path)
        if not files:
            events = sorted(f.name for f in Path(path).glob(f"*{SUFFIX}") if event_kind_of(f))
            if events:
                raise RecordingError(path, "folder", f"no IMU sensor was recorded, only {', '.join(events)}",
                                     "an IMU recording; read heart rate and speed with sensing.chunked.read_heart_rate "
                                     "/ read_rsc")
            raise RecordingError(path, "folder", f"no *{SUFFIX} files", "a folder written by backstride record")
        if len(files) > 1:
            if placement is None:
                raise RecordingError(path, "folder", f"{len(files)} sensors: {', '.join(f.stem for f in files)}",
                                     "--placement to choose one")
            chosen = [f for f in files if f.stem == placement]
            if not chosen:
                raise RecordingError(path, "folder", f"no sensor at placement {placement!r}",
                                     "one of " + ", ".join(f.stem for f in files))
            path = chosen[0]
        else:
            path = files[0]
    fh, reader = _open_stream(path, "a .arrows file from backstride record")
    with fh:
        raw = (reader.schema.metadata or {}).get(SCHEMA_KEY)
        if raw is None:
            raise RecordingError(path, "metadata", "no backstride.live metadata", LIVE_SCHEMA)
        meta = _meta_object(raw, path)
        if meta.get("schema") != LIVE_SCHEMA:
            raise RecordingError(path, "metadata.schema", f"schema {meta.get('schema')!r}", LIVE_SCHEMA)
        _check_columns(reader.schema, path)
        got = _read_chunks(reader, fh, path)
    state, notes = got.state, list(got.notes)
    df = got.table.to_pandas()
    if len(df) and df["sample_index"].isna().any():
        k = int(np.argmax(df["sample_index"].isna().to_numpy()))
        raise RecordingError(path, f"sample_index, sample row {k}", "missing", "a sample number on every row")
    if len(df) == 0:
        raise RecordingError(path, "data", "no samples were written before the recording stopped",
                             "at least one chunk (recordings are written every half second)")
    df = df.set_index("sample_index")
    df.index = df.index.astype(np.int64)
    df.index.name = "sample_index"
    # chunks are in order; a resent sample (duplicate index) keeps its first copy
    dup = df.index.duplicated(keep="first")
    if dup.any():
        again = df[dup]
        first = df[~dup].loc[again.index]
        differ = ~np.isclose(again.to_numpy(np.float64), first.to_numpy(np.float64), equal_nan=True).all(axis=1)
        if differ.any():
            notes.append(f"{path}: {int(differ.sum())} samples repeat sample numbers already read, with other values "
                         f"(first: sample {int(again.index[np.argmax(differ)])}): the sensor's counter may have "
                         "restarted; the first copy is kept")
        df = df[~dup]
    df = df.sort_index()
    clock = state.get("clock")
    start = None
    if clock:
        start = _clock_start(clock, path, notes)
    if start is None and meta.get("opened_utc"):
        try:
            start = utc(meta["opened_utc"])
        except (ValueError, TypeError, OverflowError) as exc:
            raise RecordingError(path, "metadata.opened_utc", f"{meta['opened_utc']!r} ({exc})",
                                 "an ISO 8601 time with its UTC offset") from None
    sensor = meta.get("sensor") or {}
    if not isinstance(sensor, dict):
        raise RecordingError(path, "metadata.sensor", f"a JSON {type(sensor).__name__}", "a JSON object")
    sensor = SensorInfo(**{k: None if v is None else str(v) for k, v in sensor.items()
                           if k in SensorInfo.__dataclass_fields__})
    if not state.get("final") and not got.truncated:
        notes.append(f"{path}: the recording was not closed (the recorder stopped without closing it); every chunk "
                     "written is read")
    if isinstance(state.get("error"), str) and state["error"]:
        notes.append(f"{path}: while recording: {state['error']}")
    notes.extend(_write_error_note(state, path, "samples"))
    step = state.get("wall_clock_step_s")
    if _is_number(step) and abs(step) > 1.0:
        notes.append(f"{path}: the computer's clock was set {step:+.0f} s while recording; the recording's times "
                     "follow the clock as it was when recording began (off by that much if it was wrong then)")
    jumps = [e for e in got.events if e.get("type") == "clock_jump"]
    if jumps:
        lost = sum(int(e["lost_samples"]) for e in jumps if _is_number(e.get("lost_samples")))
        notes.append(f"{path}: the sensor's sample counter or clock leapt ahead of the time that passed "
                     f"{'once' if len(jumps) == 1 else f'{len(jumps)} times'} (first after sample "
                     f"{jumps[0].get('last_index_before')}): the samples after "
                     f"{'each' if len(jumps) > 1 else 'it'} are placed by the host's receive times "
                     f"({lost} samples counted as lost there)")
    extra = {
        "format": LIVE_SCHEMA, "profile": meta.get("profile"), "address": meta.get("address"), "clock": clock,
        "events": got.events, "truncated": got.truncated, "chunks": got.n, "complete": bool(state.get("final")),
        "corrupt_frames": _count(state, "corrupt_frames", path, notes),
        "lost_samples_reported": _count(state, "lost_samples", path, notes),
        "duplicate_samples": _count(state, "duplicate_samples", path, notes),
    }
    link_drops = _count(state, "link_drops", path, notes)
    if notes:
        extra["warnings"] = notes
    try:
        fs = float(meta["sampling_rate_hz"])
    except (KeyError, TypeError, ValueError):
        raise RecordingError(path, "metadata.sampling_rate_hz", "missing" if meta.get("sampling_rate_hz") is None
                             else repr(meta["sampling_rate_hz"]), "the sampling rate in Hz") from None
    return Recording(data=df, sampling_rate_hz=fs, start_utc=start, placement=meta.get("placement"), sensor=sensor,
                     source=str(path), link_drops=link_drops, extra=extra)


def _write_error_note(state: dict, path, rows: str) -> list[str]:
    """What a stream's last state says of chunks the disk refused while recording (:func:`_write_failed`)."""
    failed = state.get("write_errors")
    if not _is_number(failed) or not failed:
        return []
    n = state.get("unwritten_rows")
    return [f"{path}: {int(failed)} chunk{'s' if failed != 1 else ''} could not be written while recording "
            f"({state.get('last_write_error')}): {int(n) if _is_number(n) else 'some'} {rows} are missing "
            "from the file (gaps)"]


def _meta_object(raw: bytes, path) -> dict:
    """A stream's schema metadata: a JSON object, else a RecordingError naming the file."""
    return metadata_object(raw, path, "the JSON object backstride record writes")


def _check_columns(schema: pa.Schema, path) -> None:
    """An IMU stream's columns as ChunkWriter writes them: a whole-number ``sample_index``, numeric channels."""
    if "sample_index" not in schema.names:
        raise RecordingError(path, "schema", "no sample_index column", "sample_index, acc_x, acc_y, acc_z, ...")
    if not pa.types.is_integer(schema.field("sample_index").type):
        raise RecordingError(path, "schema, column sample_index", f"type {schema.field('sample_index').type}",
                             "whole sample numbers (int64)")
    for f in schema:
        if f.name in (*ACC_COLS, *GYR_COLS, *MAG_COLS) and not (pa.types.is_floating(f.type) or pa.types.is_integer(f.type)):
            raise RecordingError(path, f"schema, column {f.name}", f"type {f.type}", "numbers (float64)")
    missing = [c for c in ACC_COLS if c not in schema.names]
    if missing:
        raise RecordingError(path, "schema", f"no {', '.join(missing)} column", "acc_x, acc_y, acc_z")


def _count(state: dict, key: str, path, notes: list) -> int:
    """A whole count of the state (0 when absent); a note and 0 when it is not a whole number >= 0."""
    v = state.get(key)
    if v is None:
        return 0
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0 or v != int(v):
        notes.append(f"{path}: state.{key} is {v!r}, not a count; taken as unknown (0)")
        return 0
    return int(v)


def _clock_start(clock, path, notes: list) -> datetime | None:
    """The recording's start from the state's clock fit, or None with a note when the fit is unreadable."""
    from sensing.recording import start_in_range
    from sensing.timesync import ClockFit

    try:
        start = ClockFit.from_dict(clock).start_utc
        if start_in_range(start):
            return start
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError):
        pass
    notes.append(f"{path}: state.clock ({str(clock)[:80]}) is not a clock fit backstride writes; the start time is "
                 "taken from when the file was opened")
    return None


# ------------------------------------------------------------------------------------------
# Event streams: heart rate and running speed/cadence, one row per notification

EVENT_SCHEMA = "backstride.events/1"
#: Columns of each event stream after ``host_utc_s`` (host receive time, s since 1970 UTC), with
#: their Arrow types.  Optional fields a notification did not carry are null.
EVENT_KINDS: dict[str, tuple[tuple[str, pa.DataType], ...]] = {
    # Heart Rate Measurement (0x2A37): RR intervals as sent in this notification (0..n)
    "heart_rate": (("hr_bpm", pa.float64()), ("rr_s", pa.list_(pa.float64())), ("energy_kj", pa.float64()),
                   ("contact", pa.bool_())),
    # RSC Measurement (0x2A53): cadence in 1/min as the device sends it (steps or strides: device-dependent)
    "rsc": (("speed_m_s", pa.float64()), ("cadence_per_min", pa.float64()), ("stride_length_m", pa.float64()),
            ("total_distance_m", pa.float64()), ("running", pa.bool_())),
}


def event_file_name(kind: str, placement: str | None = None, taken: set[str] | frozenset = frozenset()) -> str:
    """``heart_rate.arrows`` (``rsc.arrows``); ``heart_rate-<placement>.arrows`` when the plain name is ``taken``."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"event stream kind must be one of {', '.join(EVENT_KINDS)}, got {kind!r}")
    name = f"{kind}{SUFFIX}"
    if name in taken:
        name = f"{kind}-{placement or len(taken)}{SUFFIX}"
    return name


class EventWriter:
    """Appends the notifications of one event stream (heart rate or RSC) to an ``.arrows`` file.

    Every :meth:`append` is its own chunk, written and ``fsync``-ed at once (on
    the worker thread with ``background=True``): these streams bring about one
    notification a second, so a killed process loses at most the notification
    being written.  The chunk's metadata carries the stream's state (link
    drops, corrupt notifications, events since the last chunk), as
    :class:`ChunkWriter` does.

    Parameters
    ----------
    path
        The ``.arrows`` file to create (never overwritten).
    kind
        ``"heart_rate"`` or ``"rsc"`` (:data:`EVENT_KINDS`).
    session_start_utc
        The session start ``t_s`` counts from (stored in the file, so that a
        lone file knows it too).
    """

    def __init__(self, path: str | Path, *, kind: str, placement: str | None = None, sensor: SensorInfo | None = None,
                 profile: str | None = None, address: str | None = None, session_start_utc: datetime | None = None,
                 background: bool = True):
        if kind not in EVENT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(EVENT_KINDS)}, got {kind!r}")
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"{self.path}: exists; a live recording is never overwritten (choose another --out)")
        self.kind = kind
        self.columns = [name for name, _ in EVENT_KINDS[kind]]
        start = (session_start_utc or datetime.now(timezone.utc)).astimezone(timezone.utc)
        meta = {"schema": EVENT_SCHEMA, "kind": kind, "placement": placement, "sensor": asdict(sensor or SensorInfo()),
                "profile": profile, "address": address, "session_start_utc": start.isoformat(),
                "opened_utc": datetime.now(timezone.utc).isoformat()}
        fields = [pa.field("host_utc_s", pa.float64())] + [pa.field(n, t) for n, t in EVENT_KINDS[kind]]
        self.schema = pa.schema(fields, metadata={SCHEMA_KEY: json.dumps(meta).encode()})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "xb")
        self._writer = pa.ipc.new_stream(self._fh, self.schema)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"event-writer-{kind}") if background else None
        self._pending = []
        self.n_written_ = 0
        self.write_errors_: list[str] = []
        self.unwritten_ = 0
        self.closed = False
        self._write([], json.dumps({"events": []}))  # schema and metadata on disk at once
        _fsync_dir(self.path.parent)

    def append(self, rows: list[dict], state: dict | Callable[[], dict]) -> None:
        """Write ``rows`` (each: ``host_utc_s`` and the kind's columns; absent ones are null) as one chunk."""
        self.flush(state, rows)

    def flush(self, state: dict | Callable[[], dict], rows: list[dict] | None = None) -> None:
        """Write a chunk (``rows``, possibly none) with ``state``."""
        if self.closed:
            raise RuntimeError(f"{self.path}: writer is closed")
        state = _with_write_errors(self, state() if callable(state) else state)
        job = (list(rows or []), json.dumps(state, default=_json_default))
        if self._pool is not None:
            self._pending = [f for f in self._pending if not f.done()]
            self._pending.append(self._pool.submit(self._write, *job))
        else:
            self._write(*job)

    def _write(self, rows: list[dict], state_json: str) -> None:
        arrays = [pa.array([float(r["host_utc_s"]) for r in rows], pa.float64())]
        for name, typ in EVENT_KINDS[self.kind]:
            arrays.append(pa.array([_event_value(r.get(name)) for r in rows], typ))
        batch = pa.record_batch(arrays, schema=self.schema)
        with self._lock:
            if _put_chunk(self, batch, state_json, len(rows), lambda: _fsync_file(self._fh)):
                self.n_written_ += len(rows)

    def close(self, state: dict) -> None:
        """Write the final ``state``, end the stream and close the file."""
        _close_stream(self, state)


def _event_value(value):
    """A decoded value as Arrow takes it: NumPy scalars and arrays to Python, None stays null."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return [float(x) for x in value] if value.ndim else value.item()
    if isinstance(value, (list, tuple)):
        return [float(x) for x in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _event_files(folder: Path, kind: str) -> list[Path]:
    return sorted(f for f in folder.glob(f"*{SUFFIX}") if event_kind_of(f) == kind)


def _session_start(folder: Path) -> datetime | None:
    try:
        index = json.loads((folder / SESSION_FILE).read_text())
        return utc(index["created_utc"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_events(path: str | Path, kind: str, *, placement: str | None = None,
                start_utc: datetime | str | None = None) -> "pd.DataFrame":
    """One event stream of a live recording (folder or ``.arrows`` file) as a DataFrame, one row per notification.

    Parameters
    ----------
    path
        The session folder or the stream's ``.arrows`` file.
    kind
        ``"heart_rate"`` or ``"rsc"``.
    placement
        Chooses the stream when the folder holds several of this kind.
    start_utc
        What ``t_s`` counts from: default the session start (``session.json``;
        for a lone file the start stored in it).  Pass an IMU recording's
        ``start_utc`` to put both on one time axis.

    Returns
    -------
    pandas.DataFrame
        ``t_s`` (float, s), ``utc`` (host receive time, tz-aware UTC) and the
        kind's columns (:data:`EVENT_KINDS`).  ``attrs``: ``start_utc``,
        ``kind``, ``placement``, ``sensor``, ``profile``, ``address``,
        ``link_drops``, ``corrupt_frames``, ``events`` (link drops with host
        times), ``gaps`` (``start_s``/``end_s`` of each link drop on the same
        axis as ``t_s``; ``end_s`` None if the link never came back),
        ``truncated`` (the writer died mid-chunk), ``complete`` (closed cleanly).
    """
    import pandas as pd

    if kind not in EVENT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(EVENT_KINDS)}, got {kind!r}")
    path = Path(path)
    session_start = None
    if path.is_dir():
        files = _event_files(path, kind)
        if not files:
            raise RecordingError(path, "folder", f"no {kind}{SUFFIX}: this session recorded no {kind.replace('_', ' ')} sensor",
                                 f"a folder written by backstride record with a {kind.replace('_', ' ')} sensor")
        session_start = _session_start(path)
        chosen = files
        if placement is not None:
            chosen = [f for f in files if _event_meta(f).get("placement") == placement]
            if not chosen:
                raise RecordingError(path, "folder", f"no {kind} stream at placement {placement!r}",
                                     "one of " + ", ".join(str(_event_meta(f).get("placement")) for f in files))
        if len(chosen) > 1:
            raise RecordingError(path, "folder", f"{len(chosen)} {kind} streams: {', '.join(f.name for f in chosen)}",
                                 "placement= to choose one")
        path = chosen[0]
    fh, reader = _open_stream(path, f"a {kind}{SUFFIX} file from backstride record")
    with fh:
        raw = (reader.schema.metadata or {}).get(SCHEMA_KEY)
        meta = _meta_object(raw, path) if raw is not None else {}
        if meta.get("schema") != EVENT_SCHEMA or meta.get("kind") != kind:
            raise RecordingError(path, "metadata", f"schema {meta.get('schema')!r}, kind {meta.get('kind')!r}",
                                 f"{EVENT_SCHEMA}, kind {kind!r}")
        missing = [n for n, _ in (("host_utc_s", None), *EVENT_KINDS[kind]) if n not in reader.schema.names]
        if missing:
            raise RecordingError(path, "schema", f"no {', '.join(missing)} column", f"the columns of a {kind} stream")
        got = _read_chunks(reader, fh, path)
    table, state, truncated = got.table, got.state, got.truncated
    # a link drop is usable with its times as numbers (a damaged state's others are left out)
    events = [e for e in got.events if e.get("type") != "link_drop" or (
        _is_number(e.get("lost_at_utc_s")) and (e.get("resumed_utc_s") is None or _is_number(e.get("resumed_utc_s"))))]
    if len(events) < len(got.events):
        n = len(got.events) - len(events)
        got.notes.append(f"{path}: {n} link drop{'s' if n > 1 else ''} without {'their' if n > 1 else 'its'} times in "
                         "the state; left out of the gaps")
    host = table.column("host_utc_s").to_numpy(zero_copy_only=False).astype(np.float64)
    if start_utc is not None:
        start = utc(start_utc) if isinstance(start_utc, str) else start_utc.astimezone(timezone.utc)
    else:
        start = session_start
        if start is None:
            try:
                start = utc(meta["session_start_utc"])
            except (KeyError, TypeError, ValueError, OverflowError):
                raise RecordingError(path, "metadata.session_start_utc", repr(meta.get("session_start_utc")),
                                     "an ISO 8601 time with its UTC offset") from None
    t0 = start.timestamp()
    df = pd.DataFrame({"t_s": host - t0, "utc": pd.to_datetime(host, unit="s", utc=True)})
    for name, typ in EVENT_KINDS[kind]:
        col = table.column(name)
        if pa.types.is_list(typ):
            df[name] = [np.asarray(v if v is not None else [], dtype=np.float64) for v in col.to_pylist()]
        elif pa.types.is_boolean(typ):
            df[name] = pd.array(col.to_pylist(), dtype="boolean")
        else:
            df[name] = col.to_numpy(zero_copy_only=False).astype(np.float64)  # nulls → NaN
    gaps = [{"start_s": e["lost_at_utc_s"] - t0,
             "end_s": None if e.get("resumed_utc_s") is None else e["resumed_utc_s"] - t0}
            for e in events if e.get("type") == "link_drop"]
    df.attrs.update({
        "format": EVENT_SCHEMA, "kind": kind, "source": str(path), "start_utc": start, "placement": meta.get("placement"),
        "sensor": meta.get("sensor"), "profile": meta.get("profile"), "address": meta.get("address"),
        "link_drops": _count(state, "link_drops", path, got.notes),
        "corrupt_frames": _count(state, "corrupt_frames", path, got.notes),
        "events": events, "gaps": gaps, "truncated": truncated, "complete": bool(state.get("final")),
        "warnings": got.notes + _write_error_note(state, path, "measurements"),
    })
    return df


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and bool(np.isfinite(v))


def _event_meta(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            raw = (pa.ipc.open_stream(fh).schema.metadata or {}).get(SCHEMA_KEY)
        meta = json.loads(raw) if raw else {}
        return meta if isinstance(meta, dict) else {}
    except (OSError, pa.ArrowException, ValueError):
        return {}


def read_heart_rate(path: str | Path, *, placement: str | None = None,
                    start_utc: datetime | str | None = None) -> "pd.DataFrame":
    """Heart rate of a live recording, one row per notification (about 1 Hz).

    Columns ``t_s``, ``utc``, ``hr_bpm``, ``rr_s`` (array of the RR intervals
    this notification carried, s; often empty or two), ``energy_kj`` (NaN
    unless sent), ``contact`` (nullable bool: NA when the strap does not detect
    contact).  See :func:`read_events` for the time axis and ``attrs``.
    """
    return read_events(path, "heart_rate", placement=placement, start_utc=start_utc)


def read_rr_intervals(path: str | Path, *, placement: str | None = None,
                      start_utc: datetime | str | None = None) -> "pd.DataFrame":
    """Every RR interval of a live recording, one row each, in the order the strap sent them.

    Columns ``t_s`` and ``utc`` of the notification that carried it (the beat
    that ended the interval came at or before that time), ``rr_s``, and
    ``notification`` (row of :func:`read_heart_rate`).  ``attrs`` as there.
    """
    import pandas as pd

    hr = read_heart_rate(path, placement=placement, start_utc=start_utc)
    counts = np.array([len(v) for v in hr["rr_s"]], dtype=np.int64)
    rows = np.repeat(np.arange(len(hr)), counts)
    rr = np.concatenate(list(hr["rr_s"])) if len(hr) else np.zeros(0)
    out = pd.DataFrame({"t_s": hr["t_s"].to_numpy()[rows], "utc": hr["utc"].iloc[rows].to_numpy(),
                        "rr_s": rr, "notification": rows})
    out["utc"] = pd.to_datetime(out["utc"], utc=True)
    out.attrs.update(hr.attrs)
    return out


def read_rsc(path: str | Path, *, placement: str | None = None,
             start_utc: datetime | str | None = None) -> "pd.DataFrame":
    """Running speed and cadence of a live recording, one row per notification (about 1 Hz).

    Columns ``t_s``, ``utc``, ``speed_m_s``, ``cadence_per_min`` (as the
    footpod sends it: steps or strides per minute depending on the device),
    ``stride_length_m`` and ``total_distance_m`` (NaN unless sent), ``running``
    (the device's walking/running flag).  See :func:`read_events`.
    """
    return read_events(path, "rsc", placement=placement, start_utc=start_utc)
