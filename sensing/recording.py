"""The recording: IMU samples on a regular clock plus what is known about them.

A :class:`Recording` holds the samples that were received, indexed by
``sample_index`` (the sensor's sample counter, 0 for the first sample).  The
time of a sample is ``t_s = sample_index / sampling_rate_hz`` seconds from the
recording's start, and its absolute time is ``start_utc + t_s``.

Lost samples are never interpolated: their rows are simply absent, and
:attr:`Recording.gaps` lists them.  Analysis works on the contiguous
:meth:`Recording.segments`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from analysis.constants import (
    ACC_COLS,
    EARLIEST_START_YEAR,
    GYR_COLS,
    LATEST_START_YEAR,
    MAG_COLS,
    MAX_ABS_ACC_M_S2,
    MAX_ABS_GYR_RAD_S,
    MAX_RECORDING_SPAN_S,
    MAX_SAMPLING_RATE_HZ,
    MIN_SAMPLING_RATE_HZ,
    PLACEMENTS,
    SI_UNITS,
)


class RecordingError(ValueError):
    """A recording that cannot be read or is not what it claims to be.

    The message names the file, where in it (row, column or field) and what
    was expected, so the user can fix the file or the command.
    """

    def __init__(self, source: str | Path | None, where: str, problem: str, expected: str = ""):
        self.source = str(source) if source is not None else "<memory>"
        self.where = where
        self.problem = problem
        self.expected = expected
        msg = f"{self.source}: {where}: {problem}"
        if expected:
            msg += f" (expected {expected})"
        super().__init__(msg)


@dataclass(frozen=True)
class SensorInfo:
    make: str | None = None
    model: str | None = None
    firmware: str | None = None
    serial: str | None = None


@dataclass
class Recording:
    """IMU samples of one sensor.

    Parameters
    ----------
    data
        DataFrame indexed by ``sample_index`` (int, strictly increasing) with
        columns ``acc_x/y/z`` in m/s², optionally ``gyr_x/y/z`` in rad/s and
        ``mag_x/y/z`` in µT, all in the sensor frame.
    sampling_rate_hz
        Nominal rate of the sample counter.
    start_utc
        Absolute time of sample 0 (timezone-aware, UTC), or None if unknown.
    placement
        Where the sensor was worn, one of :data:`analysis.constants.PLACEMENTS`,
        or None if unknown.
    """

    data: pd.DataFrame
    sampling_rate_hz: float
    start_utc: datetime | None = None
    placement: str | None = None
    sensor: SensorInfo = field(default_factory=SensorInfo)
    source: str | None = None
    link_drops: int = 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate(self)

    # -- channels ------------------------------------------------------------
    @property
    def has_gyr(self) -> bool:
        return all(c in self.data.columns for c in GYR_COLS)

    @property
    def has_mag(self) -> bool:
        return all(c in self.data.columns for c in MAG_COLS)

    @property
    def t_s(self) -> np.ndarray:
        return self.data.index.to_numpy(dtype=np.float64) / self.sampling_rate_hz

    @property
    def n_samples(self) -> int:
        """Samples spanned by the recording, received or lost."""
        idx = self.data.index
        return int(idx[-1] - idx[0] + 1) if len(idx) else 0

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sampling_rate_hz

    @property
    def units(self) -> dict[str, str]:
        cols = [c for c in self.data.columns]
        return {c: SI_UNITS[c[:3]] for c in cols}

    # -- gaps ------------------------------------------------------------------
    @property
    def gaps(self) -> pd.DataFrame:
        """Lost samples: one row per gap with ``start_s``, ``end_s``, ``lost_samples``.

        ``start_s`` is the time of the first missing sample, ``end_s`` the time of
        the next received one.
        """
        idx = self.data.index.to_numpy()
        if len(idx) < 2:
            return pd.DataFrame({"start_s": [], "end_s": [], "lost_samples": []})
        step = np.diff(idx)
        where = np.flatnonzero(step > 1)
        first_missing = idx[where] + 1
        next_received = idx[where + 1]
        return pd.DataFrame(
            {
                "start_s": first_missing / self.sampling_rate_hz,
                "end_s": next_received / self.sampling_rate_hz,
                "lost_samples": (next_received - first_missing).astype(int),
            }
        )

    @property
    def lost_samples(self) -> int:
        return int(self.gaps["lost_samples"].sum())

    def segments(self, min_duration_s: float = 0.0) -> Iterator["Segment"]:
        """Contiguous runs of received samples (split at every gap)."""
        idx = self.data.index.to_numpy()
        if len(idx) == 0:
            return
        breaks = np.flatnonzero(np.diff(idx) > 1) + 1
        bounds = np.concatenate([[0], breaks, [len(idx)]])
        for a, b in zip(bounds[:-1], bounds[1:]):
            if (b - a) / self.sampling_rate_hz < min_duration_s:
                continue
            chunk = self.data.iloc[a:b]
            yield Segment(
                start_index=int(idx[a]),
                sampling_rate_hz=self.sampling_rate_hz,
                acc=chunk[list(ACC_COLS)].to_numpy(dtype=np.float64),
                gyr=chunk[list(GYR_COLS)].to_numpy(dtype=np.float64) if self.has_gyr else None,
            )

    def with_placement(self, placement: str | None) -> "Recording":
        return dataclasses.replace(self, placement=placement)

    def metadata(self) -> dict:
        """Metadata as plain JSON-able values (what the native format stores)."""
        return {
            "sampling_rate_hz": self.sampling_rate_hz,
            "start_utc": self.start_utc.isoformat() if self.start_utc else None,
            "placement": self.placement,
            "sensor": dataclasses.asdict(self.sensor),
            "units": self.units,
            "link_drops": self.link_drops,
            "lost_samples": self.lost_samples,
            "extra": self.extra,
        }


@dataclass(frozen=True)
class Segment:
    """A contiguous block of samples (no gap inside) as NumPy arrays.

    ``acc`` and ``gyr`` have shape (n, 3) in the sensor frame, m/s² and rad/s.
    ``start_index`` is the sample index of the first row; its time is
    ``start_index / sampling_rate_hz`` seconds from the recording's start.
    ``hidden``: for a segment bridged over lost samples (analysis.pipeline.bridged_segments),
    True on the interpolated samples of gaps long enough to hide a gait event; None when there are none.
    """

    start_index: int
    sampling_rate_hz: float
    acc: np.ndarray
    gyr: np.ndarray | None
    hidden: np.ndarray | None = None

    @property
    def start_s(self) -> float:
        return self.start_index / self.sampling_rate_hz

    def __len__(self) -> int:
        return len(self.acc)


#: Beyond these (SI units) no body-worn sensor reads: a value past one is a wrong unit or a corrupt file.
MAX_ABS_SI = {"acc": MAX_ABS_ACC_M_S2, "gyr": MAX_ABS_GYR_RAD_S, "mag": 5000.0}


def validate(rec: Recording) -> None:
    """Check a recording's invariants; raise :class:`RecordingError` otherwise."""
    src = rec.source
    fs = rec.sampling_rate_hz
    if not isinstance(fs, (int, float)) or not np.isfinite(fs) or not (
        MIN_SAMPLING_RATE_HZ <= fs <= MAX_SAMPLING_RATE_HZ
    ):
        raise RecordingError(
            src, "sampling_rate_hz", f"impossible sampling rate {fs!r}",
            f"a rate between {MIN_SAMPLING_RATE_HZ:g} and {MAX_SAMPLING_RATE_HZ:g} Hz",
        )
    if rec.placement is not None and rec.placement not in PLACEMENTS:
        raise RecordingError(src, "placement", f"unknown placement {rec.placement!r}", f"one of {', '.join(PLACEMENTS)}")
    if rec.start_utc is not None and rec.start_utc.tzinfo is None:
        raise RecordingError(src, "start_utc", "start time has no time zone", "a UTC time")
    if rec.start_utc is not None and not start_in_range(rec.start_utc):
        raise RecordingError(src, "start_utc", f"start {rec.start_utc.isoformat()}",
                             f"a date from {EARLIEST_START_YEAR} to {LATEST_START_YEAR}")
    df = rec.data
    missing = [c for c in ACC_COLS if c not in df.columns]
    if missing:
        raise RecordingError(src, "columns", f"missing accelerometer channels {missing}", "acc_x, acc_y, acc_z")
    for group in (GYR_COLS, MAG_COLS):
        present = [c for c in group if c in df.columns]
        if present and len(present) != 3:
            raise RecordingError(src, "columns", f"incomplete channel group {present}", f"all of {', '.join(group)}")
    unknown = [c for c in df.columns if c not in ACC_COLS + GYR_COLS + MAG_COLS]
    if unknown:
        raise RecordingError(src, "columns", f"unknown channels {unknown}", "acc_*, gyr_*, mag_* with x/y/z")
    if len(df) == 0:
        raise RecordingError(src, "data", "no samples", "at least one sample")
    idx = df.index.to_numpy()
    if not np.issubdtype(idx.dtype, np.integer):
        raise RecordingError(src, "sample_index", f"index of dtype {idx.dtype}", "integer sample indices")
    bad = np.flatnonzero(np.diff(idx) <= 0)
    if len(bad):
        raise RecordingError(
            src, f"row {bad[0] + 1}", f"time does not increase (sample {idx[bad[0]]} is followed by {idx[bad[0] + 1]})",
            "strictly increasing time",
        )
    if idx[0] < 0:
        raise RecordingError(src, "sample_index", f"the first sample is {idx[0]}, before the recording's start",
                             "sample indices from 0 (times in seconds from the start)")
    if (idx[-1] - idx[0]) / fs > MAX_RECORDING_SPAN_S:
        k = int(np.argmax(np.diff(idx))) if len(idx) > 1 else 0
        raise RecordingError(
            src, f"row {k + 1}", f"time jumps from sample {idx[k]} to {idx[k + 1]} ({(idx[k + 1] - idx[k]) / fs / 86400:.3g} "
            f"days at {fs:g} Hz): the recording would span {(idx[-1] - idx[0]) / fs / 86400:.3g} days",
            f"at most {MAX_RECORDING_SPAN_S / 86400:g} days from the first sample to the last; a corrupt time or counter?")
    for c in df.columns:
        col = df[c].to_numpy(dtype=np.float64)
        nan = np.flatnonzero(~np.isfinite(col))
        if len(nan):
            run_end = nan[0]
            while run_end + 1 < len(col) and not np.isfinite(col[run_end + 1]):
                run_end += 1
            what = "missing (NaN)" if np.isnan(col[nan]).all() else "non-finite (NaN or infinite)"
            raise RecordingError(
                src, f"column {c}, rows {nan[0]}-{run_end}",
                f"{len(nan)} {what} values",
                "finite numbers (a file's row missing in every channel is read as a lost sample; a row missing "
                "only some channels is not)",
            )
        limit = MAX_ABS_SI[c[:3]]
        over = np.flatnonzero(np.abs(col) > limit)
        if len(over):
            raise RecordingError(
                src, f"column {c}, row {over[0]}",
                f"value {col[over[0]]:g} {SI_UNITS[c[:3]]} is beyond anything a body-worn sensor measures",
                f"|value| ≤ {limit:g} {SI_UNITS[c[:3]]}; is the unit right?",
            )


def from_arrays(
    acc_m_s2: np.ndarray,
    *,
    sampling_rate_hz: float,
    gyr_rad_s: np.ndarray | None = None,
    mag_ut: np.ndarray | None = None,
    sample_index: np.ndarray | None = None,
    start_utc: datetime | None = None,
    placement: str | None = None,
    sensor: SensorInfo | None = None,
    source: str | None = None,
) -> Recording:
    """Build a :class:`Recording` from (n, 3) arrays in SI units."""
    acc = np.asarray(acc_m_s2, dtype=np.float64)
    cols = {c: acc[:, i] for i, c in enumerate(ACC_COLS)}
    if gyr_rad_s is not None:
        cols.update({c: np.asarray(gyr_rad_s, np.float64)[:, i] for i, c in enumerate(GYR_COLS)})
    if mag_ut is not None:
        cols.update({c: np.asarray(mag_ut, np.float64)[:, i] for i, c in enumerate(MAG_COLS)})
    idx = np.arange(len(acc)) if sample_index is None else np.asarray(sample_index, dtype=np.int64)
    df = pd.DataFrame(cols, index=pd.Index(idx.astype(np.int64), name="sample_index"))
    return Recording(
        data=df,
        sampling_rate_hz=float(sampling_rate_hz),
        start_utc=start_utc,
        placement=placement,
        sensor=sensor or SensorInfo(),
        source=source,
    )


def metadata_object(raw: bytes, path, expected: str) -> dict:
    """A file's JSON metadata (``raw``): a JSON object, else a RecordingError naming the file and ``expected``."""
    try:
        meta = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordingError(path, "metadata", f"not valid JSON ({exc})", expected) from None
    if not isinstance(meta, dict):
        raise RecordingError(path, "metadata", f"a JSON {type(meta).__name__}", "a JSON object")
    return meta


def start_in_range(dt: datetime) -> bool:
    """Whether the analysis can count days from ``dt`` (:data:`analysis.constants.EARLIEST_START_YEAR` to
    ``LATEST_START_YEAR``)."""
    return EARLIEST_START_YEAR <= dt.year <= LATEST_START_YEAR


def utc(dt: datetime | str | None) -> datetime | None:
    """Parse/normalise an absolute time to timezone-aware UTC."""
    if dt is None:
        return None
    if isinstance(dt, str):
        dt = datetime.fromisoformat(dt.replace("Z", "+00:00"))
    if not isinstance(dt, datetime):
        raise ValueError(f"{dt!r} is not a date-time")
    if dt.tzinfo is None:
        raise ValueError(f"time {dt.isoformat()} has no time zone; give its UTC offset (…+01:00) or UTC (…Z)")
    return dt.astimezone(timezone.utc)
