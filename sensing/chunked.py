"""Crash-safe live recordings: small appended chunks, readable after SIGKILL or power loss.

Layout of a live recording (``backstride record --out DIR``)::

    DIR/
      session.json            index of the sensors (written once, atomically, at start)
      lower-back.arrows       one Arrow IPC *stream* per sensor, named by placement
      foot-left.arrows

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
"""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa

from analysis.constants import ACC_COLS, GYR_COLS, MAG_COLS
from sensing.recording import Recording, RecordingError, SensorInfo, utc

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


def write_session_index(folder: str | Path, sensors: list[dict]) -> Path:
    """``session.json``: which sensors (name, address, placement, file) this recording holds."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SESSION_FILE
    _atomic_write_text(path, json.dumps({"schema": LIVE_SCHEMA, "created_utc": datetime.now(timezone.utc).isoformat(),
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
        self.closed = False
        # an empty first chunk puts the schema and metadata on disk at once
        self._write([], json.dumps({"events": []}))
        _fsync_dir(self.path.parent)

    def _sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

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
        state = state() if callable(state) else state
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
            self._writer.write_batch(batch, custom_metadata={STATE_KEY: state_json.encode()})
            self._sync()
            self.n_written_ += len(data)
            self.n_chunks_ += 1

    def close(self, state: dict) -> None:
        """Write the rest with the final ``state``, end the stream and close the file."""
        if self.closed:
            return
        self.flush(state)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            for f in self._pending:
                f.result()  # surface a write error
        with self._lock:
            self._writer.close()
            self._sync()
            self._fh.close()
        self.closed = True


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    raise TypeError(f"not JSON-able: {type(obj).__name__}")


def is_live(path: str | Path) -> bool:
    """Whether ``path`` is a live recording (a ``.arrows`` file or a folder with ``session.json``)."""
    path = Path(path)
    return path.suffix == SUFFIX or (path.is_dir() and (path / SESSION_FILE).exists())


def live_files(folder: str | Path) -> list[Path]:
    return sorted(Path(folder).glob(f"*{SUFFIX}"))


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
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise RecordingError(path, "file", "does not exist") from None
    with fh:
        try:
            reader = pa.ipc.open_stream(fh)
        except (pa.ArrowInvalid, OSError) as exc:
            raise RecordingError(path, "header", f"not an Arrow stream written by backstride ({exc})",
                                 "a .arrows file from backstride record") from None
        raw = (reader.schema.metadata or {}).get(SCHEMA_KEY)
        if raw is None:
            raise RecordingError(path, "metadata", "no backstride.live metadata", LIVE_SCHEMA)
        meta = json.loads(raw)
        if meta.get("schema") != LIVE_SCHEMA:
            raise RecordingError(path, "metadata.schema", f"schema {meta.get('schema')!r}", LIVE_SCHEMA)
        batches, state, events, truncated, n_chunks = [], {}, [], False, 0
        while True:
            try:
                batch, custom = reader.read_next_batch_with_custom_metadata()
            except StopIteration:
                break
            except (pa.ArrowInvalid, OSError, EOFError):
                truncated = True  # the writer died while writing this chunk
                break
            n_chunks += 1
            batches.append(batch)
            if custom is not None and STATE_KEY in custom:
                state = json.loads(custom[STATE_KEY])
                events.extend(state.get("events", []))
    table = pa.Table.from_batches(batches, schema=reader.schema) if batches else reader.schema.empty_table()
    df = table.to_pandas()
    if len(df) == 0:
        raise RecordingError(path, "data", "no samples were written before the recording stopped",
                             "at least one chunk (recordings are written every half second)")
    df = df.set_index("sample_index")
    df.index = df.index.astype(np.int64)
    df.index.name = "sample_index"
    # chunks are in order; a resent sample (duplicate index) keeps its first copy
    df = df[~df.index.duplicated(keep="first")].sort_index()
    clock = state.get("clock")
    start = None
    if clock:
        from sensing.timesync import ClockFit

        start = ClockFit.from_dict(clock).start_utc
    elif meta.get("opened_utc"):
        start = utc(meta["opened_utc"])
    sensor = SensorInfo(**{k: v for k, v in (meta.get("sensor") or {}).items() if k in SensorInfo.__dataclass_fields__})
    extra = {
        "format": LIVE_SCHEMA, "profile": meta.get("profile"), "address": meta.get("address"), "clock": clock,
        "events": events, "truncated": truncated, "chunks": n_chunks, "complete": bool(state.get("final")),
        "corrupt_frames": int(state.get("corrupt_frames") or 0),
        "lost_samples_reported": int(state.get("lost_samples") or 0),
        "duplicate_samples": int(state.get("duplicate_samples") or 0),
    }
    return Recording(data=df, sampling_rate_hz=float(meta["sampling_rate_hz"]), start_utc=start,
                     placement=placement or meta.get("placement"), sensor=sensor, source=str(path),
                     link_drops=int(state.get("link_drops") or 0), extra=extra)
