"""Reading and writing recordings.

* Native: one Parquet file (``*.bsr.parquet`` or any ``.parquet``) with columns
  ``sample_index``, ``acc_*``, ``gyr_*``, ``mag_*`` in SI units and the metadata
  as JSON under the Parquet key ``backstride``.
* BIDS-Motion (BIDS 1.9+, "Motion"): :mod:`sensing.bids` (``read_bids``, ``write_bids``);
  :func:`open_recording` opens it by name.
* Plain CSV with a column and unit mapping given by the caller.

Every reader converts units once, here, at the edge; everything inside is SI.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.constants import GRAVITY_M_S2, MAX_SAMPLING_RATE_HZ, MIN_SAMPLING_RATE_HZ, RECORDING_SCHEMA, SENSOR_COLS
from sensing.recording import MAX_ABS_SI, Recording, RecordingError, SensorInfo, metadata_object, utc

# ---------------------------------------------------------------------------
# Units
#
# Unit strings are compared in a compact form (see _compact_unit): case, blanks, "*", ".", "^",
# "·" and the micro sign variants are dropped or unified, so "m/s^2", "m/s2", "m s-2", "m·s⁻²",
# "M/S^2" and "m.s^-2" are all one key.  The tables list the compact keys.
_UNIT_FACTORS = {
    "acc": {"m/s2": 1.0, "ms-2": 1.0, "m/s/s": 1.0, "mps2": 1.0,
            "g": GRAVITY_M_S2, "g0": GRAVITY_M_S2, "gn": GRAVITY_M_S2, "mg": GRAVITY_M_S2 / 1000.0},
    "gyr": {"rad/s": 1.0, "rads-1": 1.0,
            "deg/s": np.pi / 180, "degs-1": np.pi / 180, "dps": np.pi / 180, "mdeg/s": np.pi / 180e3, "mdps": np.pi / 180e3},
    "mag": {"ut": 1.0, "microtesla": 1.0, "mt": 1000.0, "millitesla": 1000.0, "nt": 0.001, "nanotesla": 0.001,
            "t": 1e6, "tesla": 1e6, "gauss": 100.0, "g": 100.0, "gs": 100.0, "mgauss": 0.1, "mg": 0.1},
}
#: How each kind's units may be written, for error messages (every spelling of these is accepted).
_UNIT_EXAMPLES = {
    "acc": "m/s^2 (m/s2, m s-2, m·s⁻²), g, mg",
    "gyr": "rad/s (rad s-1), deg/s (°/s, dps, deg s-1), mdeg/s",
    "mag": "uT (µT, μT), nT, mT, T, gauss (G), mG",
}


def _compact_unit(unit: str) -> str:
    s = str(unit).strip().replace("\u00b5", "u").replace("\u03bc", "u")  # micro sign, Greek mu
    s = s.replace("\u00b0", "deg").replace("\u00ba", "deg")  # degree sign; masculine ordinal, a common stand-in
    s = s.translate(str.maketrans({"\u207b": "-", "\u00b9": "1", "\u00b2": "2", "\u00b7": "", "\u22c5": ""}))  # ⁻ ¹ ² · ⋅
    s = re.sub(r"[\s*.^]", "", s.lower())
    for long, short in (("seconds", "s"), ("second", "s"), ("sec", "s"), ("degrees", "deg"), ("degree", "deg"),
                        ("radians", "rad"), ("radian", "rad"), ("meters", "m"), ("meter", "m"), ("metres", "m"), ("metre", "m")):
        s = s.replace(long, short)
    return s


def unit_factor(kind: str, unit: str, *, source=None, where: str = "units") -> float:
    """Factor that converts a value in ``unit`` to the SI unit of ``kind`` (acc/gyr/mag).

    Accepts the spellings seen in BIDS-Motion data sets and sensor exports: ``m/s^2``,
    ``m/s2``, ``m s-2``, ``g``; ``rad/s``, ``deg/s``, ``°/s``, ``dps``; ``uT``, ``µT``,
    ``mT``, ``T`` (the BIDS examples' Noraxon magnetometers), ``gauss``.  Anything else
    is a :class:`RecordingError` naming ``source`` and ``where``.
    """
    table = _UNIT_FACTORS[kind]
    key = _compact_unit(unit)
    if key in table:
        return table[key]
    raise RecordingError(source, where, f"unknown unit {unit!r} for {kind}", f"one of {_UNIT_EXAMPLES[kind]}")


# ---------------------------------------------------------------------------
# Native Parquet


#: The accelerometer units a file is likely to hold, for saying which one its values look like.
_ACC_UNITS_SHOWN = {"m/s²": 1.0, "g": GRAVITY_M_S2, "mg": GRAVITY_M_S2 / 1000.0}


def acc_unit_fitting(median_m_s2: float, declared: str | None) -> tuple[str, float] | None:
    """The usual unit (its name and factor to m/s²) other than the one ``declared`` in which the accelerometer's
    median magnitude is a body-worn sensor's (0.5-2.5 g: the shared recordings' medians are 0.98-2.1 g), or None.
    The usual units are ten times apart or more, so at most one fits."""
    if not declared:
        return None
    try:
        factor = unit_factor("acc", declared)
    except RecordingError:
        return None
    raw = median_m_s2 / factor  # the median in the file's own numbers
    for name, f in _ACC_UNITS_SHOWN.items():
        if not np.isclose(f, factor) and 0.5 * GRAVITY_M_S2 <= raw * f <= 2.5 * GRAVITY_M_S2:
            return name, f
    return None


def acc_unit_look(median_m_s2: float, declared: str | None) -> str:
    """"the values look like mg declared as g" (:func:`acc_unit_fitting`), or ""."""
    fits = acc_unit_fitting(median_m_s2, declared)
    return f"the values look like {fits[0]} declared as {declared}" if fits else ""


def write_parquet(rec: Recording, path: str | Path) -> Path:
    path = Path(path)
    table = pa.Table.from_pandas(rec.data.reset_index(), preserve_index=False)
    meta = {"schema": RECORDING_SCHEMA, **rec.metadata()}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"backstride": json.dumps(meta).encode()})
    float_cols = [c for c in rec.data.columns]
    pq.write_table(table, path, compression="zstd", use_byte_stream_split=float_cols, use_dictionary=False)
    return path


def read_parquet(path: str | Path) -> Recording:
    path = Path(path)
    try:
        table = pq.ParquetFile(path, pre_buffer=False).read()  # pre-buffering holds the whole file as well
    except FileNotFoundError:
        raise  # not wrapped below: a missing file is not a damaged one
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise RecordingError(path, "file", f"not a readable Parquet file ({exc})", "a backstride recording (.parquet)") from None
    raw = (table.schema.metadata or {}).get(b"backstride")
    if raw is None:
        raise RecordingError(path, "metadata", "no backstride metadata", f"a Parquet file written by backstride ({RECORDING_SCHEMA})")
    meta = parquet_meta(raw, path)
    if meta.get("schema") != RECORDING_SCHEMA:
        raise RecordingError(path, "metadata.schema", f"schema {meta.get('schema')!r}", RECORDING_SCHEMA)
    df = table.to_pandas()  # writable columns (split_blocks would share Arrow's read-only buffers)
    del table
    if "sample_index" not in df.columns:
        raise RecordingError(path, "columns", "no sample_index column", "sample_index, acc_x, acc_y, acc_z, ...")
    df = df.set_index("sample_index")
    raw_index = df.index.to_numpy()
    if not np.issubdtype(raw_index.dtype, np.integer):
        try:
            as_float = raw_index.astype(np.float64)
            whole = np.isfinite(as_float) & (as_float % 1 == 0)
        except (TypeError, ValueError):
            whole = np.zeros(len(raw_index), bool)
        if not whole.all():
            k = int(np.argmin(whole))
            raise RecordingError(path, f"sample_index, row {k}", f"{raw_index[k]} is not a whole sample number",
                                 "whole sample numbers (0, 1, 2, ...)")
    df.index = df.index.astype(np.int64)
    units = meta.get("units", {})
    for col in df.columns:
        if col in SENSOR_COLS and col in units:
            f = unit_factor(col[:3], units[col], source=path, where=f"metadata.units.{col}")
            if f != 1.0:
                df[col] = df[col] * f
    df, note = _lost_rows_as_gaps(df, path)
    return check_gravity(noted(_recording(df, meta, path), note), path, "metadata.units of acc_x/y/z", unit="m/s^2")


def noted(rec: Recording, note: str | None) -> Recording:
    """``rec`` with ``note`` (what its reader noticed, read anyway) added to its warnings."""
    if note:
        rec.extra.setdefault("warnings", []).append(note)
    return rec


def _lost_rows_as_gaps(df: pd.DataFrame, path, first_line: int | None = None) -> tuple[pd.DataFrame, str | None]:
    """Rows missing (NaN) in every channel are samples the recorder lost: dropped, so that their sample indices are
    gaps (as BIDS-Motion's all-n/a rows and as sample counters' losses); a row missing only some channels stays
    (validation names it).  The message names the first by its sample index, or by its file line when the
    first row's line ``first_line`` is given (a CSV)."""
    lost = df.isna().all(axis=1).to_numpy() if len(df.columns) else np.zeros(len(df), bool)
    if not lost.any():
        return df, None
    first = int(np.flatnonzero(lost)[0])
    where = f"sample {df.index[first]}" if first_line is None else f"row {first_line + first}"
    return df[~lost], (f"{path}: {int(lost.sum())} rows missing in every channel (first at {where}) read as lost "
                       "samples (gaps in the analysis, never interpolated into the recording)")


def parquet_meta(raw: bytes, path) -> dict:
    """A backstride Parquet file's metadata (its ``backstride`` key): a JSON object, else a RecordingError."""
    return metadata_object(raw, path, "the JSON object backstride writes")


def _text_or_none(v) -> str | None:
    """A metadata text field: None for a missing one (None, NaN), else its text."""
    return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else str(v)


def _recording(df: pd.DataFrame, meta: Mapping, path) -> Recording:
    try:
        fs = float(meta["sampling_rate_hz"])
    except (KeyError, TypeError, ValueError):
        raise RecordingError(path, "metadata.sampling_rate_hz", f"missing or not a number: {meta.get('sampling_rate_hz')!r}", "a sampling rate in Hz") from None
    try:
        start = utc(meta.get("start_utc"))
    except (ValueError, OverflowError) as exc:
        raise RecordingError(path, "metadata.start_utc", str(exc), "an ISO 8601 time with its UTC offset") from None
    sensor, extra = meta.get("sensor") or {}, meta.get("extra") or {}
    for name, value in (("sensor", sensor), ("extra", extra)):
        if not isinstance(value, dict):
            raise RecordingError(path, f"metadata.{name}", f"a JSON {type(value).__name__} ({value!r:.60})", "a JSON object")
    try:
        link_drops = int(meta.get("link_drops") or 0)
    except (TypeError, ValueError):
        raise RecordingError(path, "metadata.link_drops", f"{meta.get('link_drops')!r}", "a whole number") from None
    extra = dict(extra)
    if "warnings" in extra and not isinstance(extra["warnings"], list):  # one text: one warning, not its letters
        extra["warnings"] = [str(extra["warnings"])]
    if "time_zone" in extra and not isinstance(extra["time_zone"], str):
        raise RecordingError(path, "metadata.extra.time_zone", f"{extra['time_zone']!r}", "an IANA time zone name")
    return Recording(
        data=df, sampling_rate_hz=fs, start_utc=start, placement=meta.get("placement"),
        sensor=SensorInfo(**{k: _text_or_none(v) for k, v in sensor.items() if k in SensorInfo.__dataclass_fields__}),
        source=str(path), link_drops=link_drops, extra=extra,
    )


# ---------------------------------------------------------------------------
# CSV with a mapping


def _drop_incomplete_last_row(df: pd.DataFrame, path: Path, first_line: int) -> pd.DataFrame:
    """A truncated file ends in a partial row (cut after some of its fields, or after its time alone): reject it
    with its line number (``df``'s first row is line ``first_line``), unless other rows miss values too (lost
    samples)."""
    if len(df) > 1 and df.iloc[-1].isna().any():
        if not df.iloc[:-1].isna().any(axis=None):
            raise RecordingError(path, f"row {len(df) - 1 + first_line}", "last row is incomplete; the file looks truncated",
                                 "a complete row; re-export or cut the last line")
    return df



#: A CSV time column's units and their seconds.
TIME_UNITS_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def check_range(df: pd.DataFrame, path: Path, columns: Mapping, *, first_line: int) -> None:
    """Refuse a value no body-worn sensor reads (:data:`sensing.recording.MAX_ABS_SI`), named by its file line (the
    first such row in any column), its column and the unit the caller declared (row i of ``df`` is line
    ``first_line + i`` of the file), with what the values look like when a unit confused explains them."""
    over = {c: np.flatnonzero(np.abs(df[c].to_numpy(np.float64)) > MAX_ABS_SI[c[:3]]) for c in df.columns}
    over = {c: rows[0] for c, rows in over.items() if len(rows)}
    if not over:
        return
    ours = min(over, key=lambda c: (over[c], list(df.columns).index(c)))
    row = over[ours]
    limit = MAX_ABS_SI[ours[:3]]
    src, unit = columns[ours]
    factor = unit_factor(ours[:3], unit)
    value = float(df[ours].iloc[row]) / factor
    hint = ""
    if ours[:3] == "acc" and all(c in df.columns for c in ("acc_x", "acc_y", "acc_z")):
        hint = acc_unit_look(float(np.nanmedian(np.linalg.norm(df[["acc_x", "acc_y", "acc_z"]].to_numpy(np.float64),
                                                               axis=1))), unit)
    elif ours[:3] == "gyr" and factor == 1.0 and abs(value) * np.pi / 180 <= limit:
        hint = "the values look like deg/s declared as rad/s"
    raise RecordingError(path, f"row {row + first_line}, column {src}",
                         f"{value:g} {unit} is beyond anything a body-worn sensor measures",
                         f"|value| ≤ {limit / factor:.4g} {unit}; {hint or 'is the unit right?'}")


def is_number_text(text: str, *, decimal_comma: bool = True) -> bool:
    """Whether ``text`` is a number (with a decimal comma too, as a spreadsheet's export may write it)."""
    try:
        float(text.replace(",", ".") if decimal_comma else text)
        return True
    except ValueError:
        return False


def _undecodable_at(path: Path, encoding: str, exc: UnicodeDecodeError) -> str:
    """"byte B (line L)" of the first byte of ``path`` not in ``encoding`` (pandas' error counts from its own read
    buffer, not the file)."""
    data = path.read_bytes()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as whole:
        line = data.count(b"\n", 0, whole.start) + 1
        return f"byte {whole.start} (line {line})"
    return f"byte {exc.start}"


def csv_encoding(path: Path) -> str:
    """The encoding to read a CSV in: UTF-16 or UTF-8 with a byte-order mark by its first bytes, else UTF-8 (a
    spreadsheet's "Unicode text" export is UTF-16 with a byte-order mark)."""
    with open(path, "rb") as f:
        return bom_encoding(f.read(4)) or "utf-8"


def bom_encoding(head: bytes) -> str | None:
    """The encoding a text file's first bytes name by their byte-order mark: "utf-16", "utf-8-sig", or None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    return None


def read_csv(
    path: str | Path,
    columns: Mapping[str, tuple[str, str]],
    *,
    sampling_rate_hz: float | None = None,
    time_column: tuple[str, str] | None = None,
    placement: str | None = None,
    start_utc=None,
    resample_hz: float | None = None,
    channel_files: Mapping[str, str | Path] | None = None,
    header: bool = True,
    time_zone: str | None = None,
    time_format: str | None = None,
    **read_kwargs,
) -> Recording:
    """Read a CSV whose columns are mapped to our channels.

    Parameters
    ----------
    columns
        ``{"acc_x": ("AccX", "g"), ..., "gyr_z": ("GyrZ", "deg/s")}``: our channel
        name → (column in the file, its unit).
    sampling_rate_hz
        The sensor's rate; required unless ``time_column`` gives times, in which
        case the rate is derived from them and checked for regularity.
    time_column
        (column, unit) with unit ``s``, ``ms``, ``us`` or ``ns``; times are used to place samples
        on the sensor's clock and to find lost samples.  A column of dates and times as text is read as ISO 8601
        (``2026-03-01 07:00:00.010``), or in ``time_format`` (:func:`_clock_times`); its unit is then not used.
    time_zone
        The IANA zone of a time column's clock times written without a UTC offset.
    time_format
        A time column's dates and times as text, in :meth:`datetime.strptime`'s format (``%d-%b-%Y %H:%M:%S.%f``
        for MATLAB's 01-Mar-2026 07:00:00.007).  Dates and times give the start, unless ``start_utc`` is given
        (used and said when they differ by more than a second); clock times without a date need ``start_utc``.
    resample_hz
        With ``time_column``: irregular times (a phone's sensors) interpolated linearly onto a regular grid
        at this rate, pauses longer than :data:`RESAMPLE_GAP_INTERVALS` median intervals kept as gaps; said in
        the recording's warnings.  Without it, times off a regular grid are refused.
    channel_files
        ``{"gyr": "Gyroscope.csv"}``: a channel group (``gyr``, ``mag``) exported to a file of its own with its own
        times, as phone apps (phyphox, Sensor Logger) and MetaWear's MetaBase write them.  Its ``columns`` name that
        file's columns; its times are read from the column ``time_column`` names, in the same unit and on the same
        clock (the apps write one time base for all their files).  Its values are interpolated linearly at the
        recording's sample times (:func:`_joined`); the recording is cut to where every file has samples.
    header
        False for a file without a header row (Axivity's OMGUI export): its columns are named by their number,
        "1", "2", ... from the left.  A first line ``sep=;`` (Excel's) names the separator and is skipped.
    """
    path = Path(path)
    read_kwargs.setdefault("encoding", csv_encoding(path))
    channel_files = {kind: Path(f) for kind, f in (channel_files or {}).items()}
    if channel_files and time_column is None:
        raise RecordingError(path, "time column", f"none given, and the {', '.join(channel_files)} channels come from "
                             f"{', '.join(str(f) for f in channel_files.values())}",
                             "a column of times in every file, to put their samples side by side")
    own = {ours: col for ours, col in columns.items() if ours[:3] not in channel_files}
    raw, first_line = read_table(path, read_kwargs, header=header)
    df = _mapped_channels(raw, path, own, first_line)
    gravity_where = (f"unit of {columns['acc_x'][0]} ({columns['acc_x'][1]})" if "acc_x" in columns
                     else "accelerometer unit")
    if time_column is not None:
        tcol, tunit = time_column
        times = _time_values(raw, path, tcol, tunit, first_line, time_format=time_format, time_zone=time_zone,
                             start_utc=start_utc)
        t_file, tunit = times.values, times.unit
        scale = TIME_UNITS_S[tunit]
        start_utc, start_note = _start_of_times(path, tcol, times, start_utc)
        if len(t_file) < 2 and resample_hz is None and sampling_rate_hz is None:
            raise RecordingError(path, "rows", f"{len(t_file)} sample", "at least two rows to find the rate from their times")
        # the times' resolution: the smallest difference between the usual steps (whole ms: 9 and 10 ms at 104 Hz)
        dt = np.diff(t_file)
        dt = dt[np.isfinite(dt) & (dt > 0)]
        steps = np.unique(dt[dt <= 2 * np.median(dt)]) if len(dt) else dt
        resolution_s = float(np.min(np.diff(steps))) * scale if len(steps) > 1 else 0.0
        # from the first row, in the file's unit first: Unix times in ms are whole numbers there (exact), while
        # 1.7e9 s in float64 keeps only 0.2 µs, enough to skew a rate taken from the intervals
        t = (t_file - t_file[0]) * scale
        parts = {kind: _channel_file(kind, f, columns, time_column, times, read_kwargs, header=header,
                                     time_format=time_format, time_zone=time_zone, start_utc=start_utc)
                 for kind, f in channel_files.items()}
        fs = sampling_rate_hz or _rate_from_times(t, resolution_s)
        if not MIN_SAMPLING_RATE_HZ <= fs <= MAX_SAMPLING_RATE_HZ and sampling_rate_hz is None:
            # (resampled too: ms read as s made 53 h of "sitting" from 3 min, s read as ms 20 samples)
            fits = [u for u, sc in TIME_UNITS_S.items() if MIN_SAMPLING_RATE_HZ <= fs * scale / sc <= MAX_SAMPLING_RATE_HZ]
            raise RecordingError(path, f"column {tcol}", f"times {1 / fs / scale:.4g} {tunit} apart on average: "
                                 f"a rate of {fs:.4g} Hz", f"{MIN_SAMPLING_RATE_HZ:g} to {MAX_SAMPLING_RATE_HZ:g} Hz"
                                 + (f"; are the times in {fits[0]}? (convert: --time-unit {fits[0]})" if fits else ""))
        if resample_hz is not None:
            rec = _resampled(df, t, float(resample_hz), path, tcol, placement=placement, start_utc=start_utc,
                             first_line=first_line)
            return _checked_units(_joined(noted(rec, start_note), parts, path), path, columns, gravity_where,
                                  channel_files)
        idx = _indices_from_times(t, sampling_rate_hz, path, tcol, resolution_s=resolution_s, first_line=first_line)
    else:
        if sampling_rate_hz is None:
            raise RecordingError(path, "sampling rate", "neither a sampling rate nor a time column given",
                                 "sampling_rate_hz= or time_column=")
        idx = np.arange(len(df))
        fs = sampling_rate_hz
        parts, start_note = {}, None
    df.index = pd.Index(idx.astype(np.int64), name="sample_index")
    df, note = _lost_rows_as_gaps(df, path, first_line=first_line)
    rec = Recording(data=df, sampling_rate_hz=float(fs), start_utc=utc(start_utc), placement=placement, source=str(path))
    rec = noted(noted(rec, start_note), note)
    return _checked_units(_joined(rec, parts, path), path, columns, gravity_where, channel_files)


_SEP_LINE = re.compile(r'\s*"?sep=(.)"?\s*')
#: A number written with a decimal comma (0,010), which pandas reads as text with "." as the mark.
_DECIMAL_COMMA = re.compile(r"\s*[-+]?\d*,\d+\s*")


def read_table(path: Path, read_kwargs: Mapping, *, header: bool = True) -> tuple[pd.DataFrame, int]:
    """A CSV file as pandas reads it and the file line of its first row of values; or a RecordingError naming the
    problem.  Columns by the header's names, or by their number from 1 without a header row; an Excel ``sep=;``
    first line names the separator and is skipped."""
    # columns by the header's names: rows ending in a separator (one field more than the header) would otherwise
    # make pandas take the first column as an index and shift every column by one
    read_kwargs = {"index_col": False, **read_kwargs}
    first_line = 2 if header else 1
    try:
        with open(path, encoding=read_kwargs.get("encoding", "utf-8"), errors="replace") as f:
            sep_line = _SEP_LINE.fullmatch(f.readline())
    except OSError:
        sep_line = None  # pandas names it below
    if sep_line:
        read_kwargs.update(skiprows=1, sep=sep_line.group(1))
        first_line += 1
    if not header:
        read_kwargs["header"] = None
    try:
        with warnings.catch_warnings():  # pandas' engine fallback notes: the errors below say what matters
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            raw = pd.read_csv(path, **read_kwargs)
    except UnicodeDecodeError as exc:
        raise RecordingError(path, _undecodable_at(path, read_kwargs["encoding"], exc),
                             f"not {read_kwargs['encoding']} text ({exc.reason})",
                             "a CSV saved as UTF-8 (or UTF-16 with a byte-order mark)") from None
    except pd.errors.EmptyDataError:
        raise RecordingError(path, "file", "empty", "a header row and one row per sample") from None
    except pd.errors.ParserError as exc:
        raise RecordingError(path, "file", f"not readable as CSV ({exc})") from None
    if not header:
        raw.columns = [str(i + 1) for i in range(len(raw.columns))]
    return raw, first_line


def _mapped_channels(raw: pd.DataFrame, path: Path, columns: Mapping[str, tuple[str, str]], first_line: int
                     ) -> pd.DataFrame:
    """``raw``'s mapped columns as our channels in SI units, one row per file row (NaN where a row is empty); every
    value a number a body-worn sensor reads, every row complete or empty (a lost sample), the last row not cut off —
    else a RecordingError naming the file's line (``raw``'s first row is line ``first_line``) and column."""
    missing = [src for src, _ in columns.values() if src not in raw.columns]
    if missing:
        seps = [c for c in (";", "\t", "|", ",") if len(raw.columns) == 1 and c in str(raw.columns[0])]
        if seps:  # "t;ax;ay;az" read with ","
            raise RecordingError(path, "header", f"no column(s) {missing}: the header reads as one column "
                                 f"{raw.columns[0]!r}", f"columns separated by {seps[0]!r} given as the separator "
                                 f"(convert: --sep {'tab' if seps[0] == chr(9) else repr(seps[0])})")
        numbers = sum(is_number_text(str(c)) for c in raw.columns)
        if numbers and numbers >= len(raw.columns) / 2:  # an export without a header row (Axivity OMGUI's)
            raise RecordingError(path, "line 1", f"no column(s) {missing}: the first line holds numbers "
                                 f"({', '.join(map(str, list(raw.columns)[:4]))}, ...), so the file has no header row",
                                 "a first line naming the columns (e.g. time,ax,ay,az,gx,gy,gz): add it and give "
                                 "those names")
        own_file = ("; is it in a file of its own? (convert: --gyr-file, --mag-file)"
                    if all(ours[:3] in ("gyr", "mag") for ours, (src, _) in columns.items() if src in missing) else "")
        raise RecordingError(path, "header", f"no column(s) {missing}",
                             f"columns {list(raw.columns)[:12]} hold none of them{own_file}")
    cols = {}
    for ours, (src, unit) in columns.items():
        if ours not in SENSOR_COLS:
            raise RecordingError(path, f"mapping {ours!r}", "not a channel name", ", ".join(SENSOR_COLS))
        vals = pd.to_numeric(raw[src], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(pd.isna(vals) & raw[src].notna().to_numpy())
        if len(bad):
            value = raw[src].iloc[bad[0]]
            comma = bool(_DECIMAL_COMMA.fullmatch(str(value)))
            raise RecordingError(path, f"row {bad[0] + first_line}, column {src}", f"not a number: {value!r}",
                                 "a number" + ("; the file writes a decimal comma (convert: --decimal ,)" if comma else ""))
        cols[ours] = vals * unit_factor(ours[:3], unit, source=path, where=f"unit of {src}")
    df = pd.DataFrame(cols)
    if not len(df):
        raise RecordingError(path, "rows", "no samples after the header", "one row per sample")
    df = _drop_incomplete_last_row(df, path, first_line)
    # a row missing some channels but not all (all: a lost sample) is named here, by its line and column
    partial = np.flatnonzero(df.isna().any(axis=1).to_numpy() & ~df.isna().all(axis=1).to_numpy())
    if len(partial):
        ours = df.columns[df.iloc[partial[0]].isna().to_numpy()][0]
        raise RecordingError(path, f"row {partial[0] + first_line}, column {columns[ours][0]}", "missing value",
                             "a number in every channel (a row empty in all of them is read as a lost sample)")
    check_range(df, path, columns, first_line=first_line)
    return df


@dataclass
class _Times:
    """A CSV's time column read: ``values`` in ``unit`` (numbers as written; for dates and times as text, ns since
    the first row, exact), and for text the first row's time (``first``: UTC, or naive for clock times without a
    date, which give no start)."""

    values: np.ndarray
    unit: str
    first: pd.Timestamp | None = None
    dated: bool = False

    @property
    def start_utc(self):
        return self.first.to_pydatetime() if self.dated else None

    def seconds_from(self, main: "_Times", path: Path, tcol: str) -> np.ndarray:
        """These times in seconds from the first row of ``main`` (another file's times on the same clock)."""
        if (self.first is None) != (main.first is None):
            raise RecordingError(path, f"column {tcol}", "dates and times in one file and numbers in the other",
                                 "the same kind of times in every file")
        if self.first is None:
            return (self.values - main.values[0]) * TIME_UNITS_S[self.unit]
        return (self.values + (self.first - main.first).value) * 1e-9


def _time_values(raw: pd.DataFrame, path: Path, tcol: str, tunit: str, first_line: int, *,
                 time_format: str | None = None, time_zone: str | None = None, start_utc=None) -> _Times:
    """The column ``tcol`` of ``raw``: numbers in ``tunit`` (NaN where a row has no time), or dates and times as text
    (from the first row, or with ``time_format``: :func:`_clock_times`); clock times without a date are placed on
    ``start_utc``'s day in ``time_zone`` when both are given (:func:`_on_the_start_day`)."""
    if tcol not in raw.columns:
        raise RecordingError(path, "header", f"no time column {tcol!r}")
    if tunit not in TIME_UNITS_S:
        raise RecordingError(path, f"unit of {tcol}", f"unknown time unit {tunit!r}", "s, ms, us or ns")
    t = pd.to_numeric(raw[tcol], errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(np.isnan(t) & raw[tcol].notna().to_numpy())
    if len(bad) and _DECIMAL_COMMA.fullmatch(str(raw[tcol].iloc[bad[0]])):
        raise RecordingError(path, f"row {bad[0] + first_line}, column {tcol}",
                             f"not a number: {raw[tcol].iloc[bad[0]]!r}",
                             f"a time in {tunit}; the file writes a decimal comma (convert: --decimal ,)")
    if time_format is not None or (len(bad) and bad[0] == 0):  # text from the first row: dates and times
        times = _clock_times(raw[tcol], path, tcol, first_line, time_format, time_zone)
        if not times.dated and time_zone and start_utc is not None:
            times = _on_the_start_day(times, start_utc, time_zone, path, tcol)
        return times
    if len(bad):
        raise RecordingError(path, f"row {bad[0] + first_line}, column {tcol}", f"not a number: {raw[tcol].iloc[bad[0]]!r}",
                             f"a time in {tunit}")
    return _Times(t, tunit)


#: strptime directives that put a clock time on a date
_DATE_DIRECTIVES = re.compile(r"%[YyjdmbBFDcxGUVWaAu]")


def _clock_times(col: pd.Series, path: Path, tcol: str, first_line: int, time_format: str | None,
                 time_zone: str | None) -> _Times:
    """A time column of dates and times as text (Axivity's OMGUI, MATLAB Mobile, SensorLog): ISO 8601 unless
    ``time_format`` (strptime's) is given; times with a UTC offset are exact, those without are the clock of
    ``time_zone`` (required; summer time applied).  Clock times without a date (``%H:%M:%S:%f``) give times from the
    first row but no start."""
    fmt = time_format or "ISO8601"
    text = col.astype("string").str.strip()
    try:
        try:
            when = pd.to_datetime(text, format=fmt)
        except ValueError as exc:  # offsets that change inside the file (summer time): exact in UTC
            if "Mixed timezones" not in str(exc):
                raise
            when = pd.to_datetime(text, format=fmt, utc=True)
    except (ValueError, TypeError) as exc:
        row = _first_unparsed(text, fmt)
        example = str(text.iloc[row]) if row is not None else str(text.iloc[0])
        guess = None if time_format else _guessed_format(example)
        raise RecordingError(path, f"row {(row or 0) + first_line}, column {tcol}",
                             f"{example!r} is not " + (f"a time in the format {time_format!r}" if time_format else
                                                       "a number or an ISO 8601 date and time"),
                             ("its format, as strptime writes it: convert --time-format "
                              + (f"'{guess}'" if guess else "'%d-%b-%Y %H:%M:%S.%f' (for 01-Mar-2026 07:00:00.007)"))
                             if not time_format else f"every row in {time_format!r} ({exc})") from None
    missing = np.flatnonzero(when.isna().to_numpy())
    if len(missing):
        raise RecordingError(path, f"row {missing[0] + first_line}, column {tcol}", "missing time", "a date and time")
    dated = time_format is None or bool(_DATE_DIRECTIVES.search(time_format))
    written_in = _offset_in_name(tcol)
    if when.dt.tz is None and dated and written_in is not None:  # MetaBase's "timestamp (+0000)": UTC, whatever
        when = when.dt.tz_localize(written_in)                     # --timezone says of the days
    if when.dt.tz is None and dated:
        if time_zone is None:
            raise RecordingError(path, f"column {tcol}", f"dates and times without a UTC offset ({text.iloc[0]!r})",
                                 "the zone of the clock that wrote them: convert --timezone (Europe/Amsterdam, or "
                                 "UTC if it was UTC)")
        when = _localized(when, time_zone, path, tcol)
    ns = _utc_ns(when)
    if not dated:  # clock times alone: a time earlier than the one before by over 12 h is the next day's
        back = np.diff(ns) < -12 * 3600 * 10**9
        if back.any():
            ns = ns + np.concatenate([[0], np.cumsum(back)]) * 86400 * 10**9
        return _Times((ns - ns[0]).astype(np.float64), "ns", when.iloc[0], dated)
    first = when.iloc[0]
    return _Times((ns - ns[0]).astype(np.float64), "ns", first if first.tz is None else first.tz_convert("UTC"), dated)


def _localized(wall: pd.Series, time_zone: str, path: Path, tcol: str) -> pd.Series:
    """Clock times ``wall`` (naive) as the clock of ``time_zone`` showed them, summer time applied; a time the zone
    cannot place (an hour the clocks skipped, or the repeated hour with nothing to tell its passes) is a
    RecordingError naming the fixed-offset zones that read it."""
    try:
        return wall.dt.tz_localize(time_zone, ambiguous="infer", nonexistent="raise")
    except Exception as exc:  # pandas raises its own kinds for both
        raise RecordingError(path, f"column {tcol}", f"clock times that cannot be placed in {time_zone} ({exc})",
                             _fixed_offset_hint(wall.iloc[0], time_zone)) from None


def _utc_ns(when: pd.Series) -> np.ndarray:
    """Times as int64 ns since 1970 UTC (aware ones converted; naive ones as they are)."""
    if when.dt.tz is not None:
        when = when.dt.tz_convert("UTC").dt.tz_localize(None)
    return when.astype("datetime64[ns]").to_numpy().astype(np.int64)


def _on_the_start_day(times: _Times, start_utc, time_zone: str, path: Path, tcol: str) -> _Times:
    """Clock times without a date (``times``: ns from the first row as the clock showed them) placed on the start's
    day in ``time_zone``, so that a change of summer time inside them is the clock's, not an hour of the recording."""
    from datetime import datetime as _dt
    from zoneinfo import ZoneInfo

    day = utc(start_utc).astimezone(ZoneInfo(time_zone)).date()
    wall = pd.Series(pd.Timestamp(_dt.combine(day, times.first.to_pydatetime().time()))
                     + pd.to_timedelta(times.values.astype(np.int64), unit="ns"))
    ns = _utc_ns(_localized(wall, time_zone, path, tcol))
    return _Times((ns - ns[0]).astype(np.float64), "ns", times.first, False)


def _offset_in_name(tcol: str):
    """The UTC offset a time column's name gives its times (MetaBase's ``timestamp (+0000)``, ``time (UTC)``), as a
    ``datetime.timezone``; None when it names none."""
    from datetime import timedelta, timezone

    m = re.search(r"\((?:UTC|GMT)?\s*([+-])(\d{2}):?(\d{2})\)", str(tcol))
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        return timezone(timedelta(minutes=minutes if m.group(1) == "+" else -minutes))
    return timezone.utc if re.search(r"\((UTC|GMT|Z)\)", str(tcol)) else None


def _fixed_offset_hint(first: pd.Timestamp, time_zone: str) -> str:
    """How to read clock times a zone cannot place (the hour the clocks went back, with no later time to tell
    which pass it was): as a fixed UTC offset, the zone's two offsets of that day named as IANA zones."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(time_zone)
    offsets = []
    for fold in (0, 1):
        off = first.to_pydatetime().replace(tzinfo=zone, fold=fold).utcoffset()
        if off is not None and off not in offsets:
            offsets.append(off)
    names = []
    for off in offsets:
        h = off.total_seconds() / 3600
        if h == int(h):  # Etc/GMT-2 is UTC+2 (the IANA names count the other way)
            names.append(f"--timezone Etc/GMT{-int(h):+d} for UTC{int(h):+d}".replace("GMT+0", "GMT"))
    return ("times of one clock that the zone can place; for times in the hour the clocks went back, give the zone "
            "as a fixed offset: " + (" or ".join(names) if names else "a zone without summer time"))


def _first_unparsed(text: pd.Series, fmt: str) -> int | None:
    """The first row of ``text`` that ``fmt`` does not read (None if each reads)."""
    try:
        when = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    except (ValueError, TypeError):
        return None
    bad = np.flatnonzero(when.isna().to_numpy() & text.notna().to_numpy())
    return int(bad[0]) if len(bad) else None


#: Time formats of sensor apps' exports that pandas does not guess, tried on an example in this order:
#: MetaWear's MetaBase (2026-03-01T06.00.00.000), Physics Toolbox (07:00:00:011), dates written day first.
APP_TIME_FORMATS = ("%Y-%m-%dT%H.%M.%S.%f", "%H:%M:%S:%f", "%d.%m.%Y %H:%M:%S.%f", "%d/%m/%Y %H:%M:%S.%f")


def _guessed_format(example: str) -> str | None:
    """strptime's format for a date and time like ``example``: as pandas guesses it, else the first of
    :data:`APP_TIME_FORMATS` that reads it; None when none does."""
    from datetime import datetime as _dt

    try:
        from pandas.tseries.api import guess_datetime_format

        guess = guess_datetime_format(example)
    except Exception:  # guessing is a courtesy
        guess = None
    if guess:
        return guess
    for fmt in APP_TIME_FORMATS:
        try:
            _dt.strptime(example.strip(), fmt)
            return fmt
        except ValueError:
            continue
    return None


def _start_of_times(path: Path, tcol: str, times: _Times, start_utc) -> tuple[object, str | None]:
    """The recording's start and what to say of it: ``start_utc`` if given, else the first row's date and time; a
    given start that differs from the file's dates and times by more than a second is used and said."""
    clock_start = times.start_utc
    if clock_start is None or start_utc is None:
        return start_utc or clock_start, None
    given = utc(start_utc)
    differ_s = (given - clock_start).total_seconds()
    if abs(differ_s) <= 1.0:
        return given, None
    return given, (f"{path}: start {given:%Y-%m-%d %H:%M:%S} UTC used; column {tcol}'s dates and times start at "
                   f"{clock_start:%Y-%m-%d %H:%M:%S} UTC ({abs(differ_s):.0f} s "
                   f"{'later' if differ_s < 0 else 'earlier'})")


@dataclass
class _ChannelFile:
    """A channel group read from a file of its own (:func:`read_csv`'s ``channel_files``): its samples, at its times
    in seconds from the main file's first time, with its lost rows left out."""

    kind: str
    path: Path
    data: pd.DataFrame
    t_s: np.ndarray
    note: str = ""  # what was made of its rows (repeated times averaged)


def _channel_file(kind: str, path: Path, columns: Mapping, time_column: tuple[str, str], main_times: _Times,
                  read_kwargs: Mapping, *, header: bool, time_format: str | None, time_zone: str | None,
                  start_utc=None) -> _ChannelFile:
    if kind not in ("gyr", "mag"):
        raise RecordingError(path, f"channel file {kind!r}", "not a channel group kept in a file of its own",
                             "gyr or mag (the accelerometer's file is the main one)")
    mine = {ours: col for ours, col in columns.items() if ours[:3] == kind}
    if len(mine) != 3:
        raise RecordingError(path, f"columns of {kind}", f"{len(mine)} mapped", f"{kind}_x, {kind}_y and {kind}_z")
    tcol, tunit = time_column
    raw, first_line = read_table(path, {**read_kwargs, "encoding": csv_encoding(path)}, header=header)
    df = _mapped_channels(raw, path, mine, first_line)
    times = _time_values(raw, path, tcol, tunit, first_line, time_format=time_format, time_zone=time_zone,
                         start_utc=start_utc)
    t = times.seconds_from(main_times, path, tcol)
    _check_times(t - t[0], path, tcol, first_line=first_line, repeats=True)  # file rows, before any is left out
    lost = df.isna().all(axis=1).to_numpy()
    if (~lost).sum() < 2:
        raise RecordingError(path, "rows", f"{int((~lost).sum())} sample(s)", "at least two samples to interpolate from")
    t, data, merged = _merged_repeats(t[~lost], df[~lost])
    if len(t) < 2:
        raise RecordingError(path, "rows", "one time for all its samples", "at least two times to interpolate from")
    return _ChannelFile(kind, path, data, t, merged)


_KIND_NAMES = {"gyr": "gyroscope", "mag": "magnetometer"}
#: A phone app starts and stops its sensors within a second or two of each other: a channel file running this much
#: longer than the main file at either end is said (the file of another recording?).
CHANNEL_FILE_SLACK_S = 5.0


def _joined(rec: Recording, parts: Mapping[str, _ChannelFile], main_path: Path) -> Recording:
    """``rec`` (the main file's samples, at ``index / rate`` seconds from its first time) with the channel groups of
    ``parts`` interpolated linearly at its sample times; samples inside a pause of a part (as in :func:`_resampled`)
    are lost samples, and the recording is cut to the span every part covers (its start moved with it), said in
    its warnings.  Parts that do not overlap the main file are refused, naming both spans."""
    if not parts:
        return rec
    fs = rec.sampling_rate_hz
    df = rec.data
    t = df.index.to_numpy(np.int64) / fs
    keep = np.ones(len(t), bool)
    lost = np.zeros(len(t), bool)
    notes = []
    for kind, part in parts.items():
        tk = part.t_s
        name = _KIND_NAMES[kind]
        if tk[-1] < t[0] or tk[0] > t[-1]:
            raise RecordingError(part.path, "times", f"its {name} samples lie {tk[0]:.3f} to {tk[-1]:.3f} s after "
                                 f"the first time of {main_path}, whose samples lie 0 to {t[-1]:.3f} s: the two do "
                                 "not overlap", "files of the same recording, with their times on one clock")
        keep &= (t >= tk[0] - 1e-9) & (t <= tk[-1] + 1e-9)
        before_s, after_s = t[0] - tk[0], tk[-1] - t[-1]
        if max(before_s, after_s) > CHANNEL_FILE_SLACK_S:  # the other recording's file, picked by mistake?
            notes.append(f"the {name} file {part.path} runs {max(before_s, 0):.0f} s before and {max(after_s, 0):.0f} "
                         f"s after the samples of {main_path}: are both files of the same recording?")
        dt = np.diff(tk)
        median_s, gap_s = _pause_length_s(dt, fs)
        j = np.clip(np.searchsorted(tk, t, side="right"), 1, len(tk) - 1)
        pause = (tk[j] - tk[j - 1] > gap_s) & (t > tk[j - 1] + 1e-12) & (t < tk[j] - 1e-12)
        lost |= pause
        for c in part.data.columns:
            df[c] = np.interp(t, tk, part.data[c].to_numpy(np.float64))
        pauses = int(np.sum(dt > gap_s))
        notes.append(f"{name} from {part.path} ({len(tk)} samples, median interval {median_s * 1000:.2f} ms) "
                     f"interpolated linearly at the {fs:g} Hz sample times of {main_path}"
                     + (f"; {int((pause & keep).sum())} samples inside {pauses} pause(s) of the {name} over "
                        f"{gap_s * 1000:.0f} ms left out as lost" if pauses else "") + part.note)
    if not keep.any():
        raise RecordingError(main_path, "times", "no sample time that every file covers",
                             "files of the same recording, their times on one clock")
    first, last = np.flatnonzero(keep)[[0, -1]]
    cut_start_s, cut_end_s = t[first] - t[0], t[-1] - t[last]
    if cut_start_s + cut_end_s >= 1.0:
        notes.append(f"cut to the {t[last] - t[first]:.1f} s every file covers ({cut_start_s:.1f} s left out at the "
                     f"start, {cut_end_s:.1f} s at the end)")
    df = df[keep & ~lost]
    if not len(df):
        raise RecordingError(main_path, "times", "no sample left where every file has samples",
                             "files of the same recording")
    shift = int(df.index[0])
    df.index = pd.Index(df.index.to_numpy(np.int64) - shift, name="sample_index")
    start = rec.start_utc + pd.Timedelta(seconds=shift / fs).to_pytimedelta() if rec.start_utc is not None else None
    out = Recording(data=df, sampling_rate_hz=fs, start_utc=start, placement=rec.placement, source=rec.source,
                    extra=dict(rec.extra))
    for n in notes:
        noted(out, f"{main_path}: {n}")
    return out


def _checked_units(rec: Recording, path: Path, columns: Mapping, gravity_where: str,
                   channel_files: Mapping[str, Path] | None = None) -> Recording:
    """A CSV's recording whose declared units hold up (gravity about 1 g, the gyroscope turning as a body's),
    else a RecordingError naming the file, column and unit: the caller typed the units and can fix them."""
    rec = check_gravity(rec, path, gravity_where, unit=columns["acc_x"][1] if "acc_x" in columns else None,
                        refuse_without=True)
    problem = gyroscope_unit_problem(rec)
    if problem:
        src, unit = columns["gyr_x"]
        raise RecordingError((channel_files or {}).get("gyr", path), f"unit of {src} ({unit})", problem,
                             "the unit the sensor's software wrote")
    return rec


#: A body-worn accelerometer reads gravity's specific force most of the time, so the median magnitude of its samples
#: lies near 1 g (the shared recordings: 0.98-1.14 g on the trunk and on walking feet; a running shoe 2.0 g on
#: adept_running, 2.1 g on the simulated one, its swing adding to it).  Above GRAVITY_MEDIAN_MAX_G the declared unit
#: is wrong (m/s² declared as g reads 9.8 g); below GRAVITY_MEDIAN_MIN_G
#: gravity is missing (a "free acceleration" export, or g declared as m/s²), which the analysis cannot work without.
GRAVITY_MEDIAN_MAX_G = 5.0
GRAVITY_MEDIAN_MIN_G = 0.5


def check_gravity(rec: Recording, path, where: str, *, unit: str | None = None, refuse_without: bool = False
                  ) -> Recording:
    """Refuse a recording whose accelerometer, in the ``unit`` its file declares (``where``: the field that declares
    it), cannot be a body-worn sensor's; note one that lacks gravity (see GRAVITY_MEDIAN_MAX_G), or refuse it too
    with ``refuse_without`` (a CSV whose units the user has just typed: nothing is written, the unit can be fixed)."""
    acc = rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy(np.float64)
    if not len(acc):
        return rec
    med_m_s2 = float(np.median(np.linalg.norm(acc, axis=1)))
    med_g = med_m_s2 / GRAVITY_M_S2
    reads = f"the accelerometer reads a median magnitude of {med_m_s2:.3g} m/s² ({med_g:.3g} g)"
    if med_g > GRAVITY_MEDIAN_MAX_G:
        raise RecordingError(path, where, f"{reads} in the unit declared",
                             "about 9.8 m/s² (1 g, gravity) for a body-worn sensor"
                             + (f"; {look}" if (look := acc_unit_look(med_m_s2, unit)) else ""))
    if med_g >= GRAVITY_MEDIAN_MIN_G:
        share = gravity_share(acc, rec.sampling_rate_hz)
        if not share < GRAVITY_MEAN_SHARE_MIN:
            return rec
        # moving hard enough to read about 1 g, but with no gravity in the values' 2-s means
        reads = (f"the accelerometer's {GRAVITY_MEAN_WINDOW_S:g}-s means have {share:.2f} of its median magnitude "
                 f"({med_g:.3g} g), where gravity keeps them at 0.86-1.2 of it on the shared and sample recordings: "
                 "gravity removed (a linear or user acceleration export, such as phyphox 'Linear Acceleration' or "
                 "Sensor Logger's Accelerometer.csv)")
        fix = "the acceleration with g (phyphox 'Acceleration with g', Sensor Logger's TotalAcceleration.csv)"
        if refuse_without:
            raise RecordingError(path, "accelerometer columns", reads, fix)
        return noted(rec, f"{path}: {reads}; orientation, steps and posture need {fix}")
    look = acc_unit_look(med_m_s2, unit)
    cause = (f"{look}, or gravity removed (a free-acceleration export)" if look else
             "gravity removed (a free-acceleration export) or values in g declared as m/s²")
    if refuse_without:
        raise RecordingError(path, where, f"{reads} in the unit declared: {cause}",
                             "about 9.8 m/s² (1 g, gravity) for a body-worn sensor: the analysis needs the "
                             "accelerometer's reading with gravity")
    return noted(rec, f"{path}: {where}: {reads}, where a body-worn sensor reads about 1 g (gravity): {cause}; "
                       "orientation, steps and posture need the accelerometer's reading with gravity")


#: A body-worn gyroscope turns whenever its wearer moves.  While the accelerometer shows movement (the 99th
#: percentile of its magnitude's departure from the median at least GYR_CHECK_MOVING_G), the 99th percentile of the
#: gyroscope's magnitude is 0.52-16.5 rad/s and 0.043-0.77 rad/s per m/s² of that departure on the 170 shared and
#: sample recordings with a gyroscope (bench/gyro_units.py; the simulated belt run is the lowest on both).  deg/s and
#: rad/s confused moves both by 57.3, past these bounds (at least 2 times from the real values, mostly 4-6):
GYR_CHECK_MOVING_G = 0.2
GYR_P99_MIN_RAD_S, GYR_P99_MAX_RAD_S = 0.1, 35.0
GYR_PER_ACC_MIN_S_M, GYR_PER_ACC_MAX_S_M = 0.01, 5.0


def movement_and_turning(rec: Recording) -> tuple[float, float] | None:
    """(movement in m/s², turning in rad/s) over the samples where both sensors read: the 99th percentile of the
    accelerometer magnitude's departure from its median, and of the gyroscope's magnitude; None without a
    gyroscope or with under 2 s of such samples."""
    if not rec.has_gyr:
        return None
    return _movement_and_turning(rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy(np.float64),
                                 rec.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy(np.float64), rec.sampling_rate_hz)


def _movement_and_turning(acc: np.ndarray, gyr: np.ndarray, sampling_rate_hz: float) -> tuple[float, float] | None:
    ok = np.isfinite(acc).all(axis=1) & np.isfinite(gyr).all(axis=1)
    if ok.sum() < 2 * sampling_rate_hz:
        return None
    a = np.linalg.norm(acc[ok], axis=1)
    return (float(np.percentile(np.abs(a - np.median(a)), 99)),
            float(np.percentile(np.linalg.norm(gyr[ok], axis=1), 99)))


def _turning_verdict(figures: tuple[float, float] | None) -> str | None:
    """"none" (a gyroscope that reads 0 throughout), "too little" or "too much" turning for a body-worn sensor in
    rad/s while the accelerometer shows movement (:func:`movement_and_turning`'s ``figures``); None when plausible or
    when there is too little movement to tell."""
    if figures is None:
        return None
    moving_m_s2, turning_rad_s = figures
    if moving_m_s2 < GYR_CHECK_MOVING_G * GRAVITY_M_S2:
        return None
    if turning_rad_s == 0.0:
        return "none"
    per_acc = turning_rad_s / moving_m_s2
    if turning_rad_s < GYR_P99_MIN_RAD_S or per_acc < GYR_PER_ACC_MIN_S_M:
        return "too little"
    if turning_rad_s > GYR_P99_MAX_RAD_S or per_acc > GYR_PER_ACC_MAX_S_M:
        return "too much"
    return None


#: The unit a gyroscope's values look like when they read too little or too much turning in rad/s.
_GYR_LOOKS = {"too little": "rad/s declared as deg/s", "too much": "deg/s declared as rad/s"}


def gyroscope_unit_problem(rec: Recording) -> str | None:
    """Why the gyroscope's values cannot be a body-worn sensor's rates in rad/s (a unit off by 57.3: rad/s
    declared as deg/s, or deg/s as rad/s), or None (no gyroscope, too little movement to tell, or plausible)."""
    figures = movement_and_turning(rec)
    verdict = _turning_verdict(figures)
    if verdict is None:
        return None
    moving_m_s2, turning_rad_s = figures
    if verdict == "none":  # a device without a gyroscope that writes its columns anyway
        return ("the gyroscope reads 0 throughout while the accelerometer shows movement of "
                f"{moving_m_s2 / GRAVITY_M_S2:.2g} g: it was not recorded (leave its columns out)")
    reads = (f"the gyroscope's 99th-percentile rate is {turning_rad_s:.3g} rad/s ({np.degrees(turning_rad_s):.3g} °/s) "
             f"while the accelerometer shows movement of {moving_m_s2 / GRAVITY_M_S2:.2g} g")
    return f"{reads}: far {verdict} turning for a body-worn sensor; the values look like {_GYR_LOOKS[verdict]}"


#: Gravity is in an accelerometer's values when the median magnitude of their GRAVITY_MEAN_WINDOW_S means is at
#: least GRAVITY_MEAN_SHARE_MIN of the median magnitude of the samples: 0.86-1.2 on the shared and sample recordings
#: (a shoe's frame turns, so its means can exceed 1 g), at most 0.36 with gravity filtered out of them (a 0.3 Hz
#: high-pass: a free-acceleration export's values average out).
GRAVITY_MEAN_WINDOW_S = 2.0
GRAVITY_MEAN_SHARE_MIN = 0.6


def gravity_share(acc: np.ndarray, sampling_rate_hz: float) -> float:
    """Median magnitude of the accelerometer's GRAVITY_MEAN_WINDOW_S means over the median magnitude of its samples
    (rows with a missing value left out); NaN with under two windows."""
    acc = acc[np.isfinite(acc).all(axis=1)]
    n = max(1, int(round(GRAVITY_MEAN_WINDOW_S * sampling_rate_hz)))
    m = len(acc) // n
    if m < 2:
        return float("nan")
    means = acc[:m * n].reshape(m, n, 3).mean(axis=1)
    return float(np.median(np.linalg.norm(means, axis=1)) / np.median(np.linalg.norm(acc, axis=1)))


def evident_units(acc: np.ndarray, gyr: np.ndarray | None, declared: Mapping[str, str | None],
                  sampling_rate_hz: float) -> dict[str, tuple[str, float, str]]:
    """For a file someone else wrote (BIDS-Motion): the kinds whose ``declared`` unit (``{"acc": ..., "gyr": ...}``)
    cannot be a body-worn sensor's while another usual unit evidently is, each as ``kind: (unit, factor, why)``:
    multiply that kind's SI values (read in the declared unit) by ``factor`` to read them in ``unit``.

    The accelerometer: its median magnitude, as declared, is outside GRAVITY_MEDIAN_MIN_G-GRAVITY_MEDIAN_MAX_G, is
    a body-worn sensor's in another usual unit (:func:`acc_unit_fitting`), and gravity is in the values
    (:func:`gravity_share`: a free-acceleration export, whose median is low too, stays as declared).  The gyroscope
    (rad/s or deg/s declared): far too little or too much turning for the movement (:func:`gyroscope_unit_problem`'s
    bounds) or rates beyond any gyroscope's range, and plausible in the other of the two."""
    out: dict[str, tuple[str, float, str]] = {}
    finite = acc[np.isfinite(acc).all(axis=1)]
    if not len(finite):
        return out
    med = float(np.median(np.linalg.norm(finite, axis=1)))
    if not GRAVITY_MEDIAN_MIN_G <= med / GRAVITY_M_S2 <= GRAVITY_MEDIAN_MAX_G:
        fits = acc_unit_fitting(med, declared.get("acc"))
        share = gravity_share(acc, sampling_rate_hz)
        if fits is not None and share >= GRAVITY_MEAN_SHARE_MIN:
            factor = fits[1] / unit_factor("acc", declared["acc"])
            out["acc"] = (fits[0], factor, f"a median magnitude of {med / unit_factor('acc', declared['acc']):.3g} "
                          f"{declared['acc']} ({med / GRAVITY_M_S2:.3g} g) cannot be a body-worn sensor's; as "
                          f"{fits[0]} it is {med * factor / GRAVITY_M_S2:.3g} g, with gravity in the values")
            acc = acc * factor
    if gyr is not None and declared.get("gyr"):
        try:
            own = unit_factor("gyr", declared["gyr"])
        except RecordingError:
            return out
        other = {1.0: ("deg/s", np.pi / 180)}.get(own) or (("rad/s", 1.0) if np.isclose(own, np.pi / 180) else None)
        verdict = _turning_verdict(_movement_and_turning(acc, gyr, sampling_rate_hz))
        finite = gyr[np.isfinite(gyr).all(axis=1)]
        if verdict is None and len(finite) and np.abs(finite).max() > MAX_ABS_SI["gyr"]:
            verdict = "too much"  # beyond any gyroscope's range (a slow turner's °/s can pass the bounds)
        if other is not None and verdict in _GYR_LOOKS and _GYR_LOOKS[verdict].startswith(other[0]):
            factor = other[1] / own
            if _turning_verdict(_movement_and_turning(acc, gyr * factor, sampling_rate_hz)) is None:
                out["gyr"] = (other[0], factor, f"far {verdict} turning in {declared['gyr']} for the movement the "
                              f"accelerometer shows; plausible in {other[0]}")
    return out


def _rate_from_times(t: np.ndarray, resolution_s: float = 0.0) -> float:
    """The rate of a column of sample times: one over the mean interval, lost samples (intervals over 1.5 × the
    median, and over the median plus the times' ``resolution_s``) left out.  The mean, not the median: times
    written in whole ms at 104 Hz step 9, 10, 10, 9, ... ms, and at 833 Hz 1, 1, 1, 1, 2 ms."""
    dt = np.diff(t)
    dt = dt[np.isfinite(dt) & (dt > 0)]
    if not len(dt):
        return float("nan")
    med = np.median(dt)
    return float(1.0 / np.mean(dt[dt <= max(1.5 * med, med + resolution_s * (1 + 1e-9))]))


def _check_times(t: np.ndarray, path, tcol: str, *, first_line: int, repeats: bool = False) -> None:
    """Times ``t`` (s from the first row, which is file line ``first_line``) all there and strictly increasing (or
    never decreasing, with ``repeats``)."""
    nan = np.flatnonzero(~np.isfinite(t))
    if len(nan):
        raise RecordingError(path, f"row {nan[0] + first_line}, column {tcol}", "missing time", "a number")
    back = np.flatnonzero(np.diff(t) < 0 if repeats else np.diff(t) <= 0)
    if len(back):
        i = back[0]
        raise RecordingError(path, f"row {i + 1 + first_line}, column {tcol}",
                             f"time goes from {t[i]:.15g} to {t[i + 1]:.15g} s after the first row",
                             "strictly increasing time" + ("; two rows under one time (a phone's whole-ms stamps) are "
                                                           "averaged by convert --resample-hz" if t[i] == t[i + 1] else ""))


#: Resampling a CSV's irregular times: an interval longer than this many median intervals (and than two grid
#: steps) is a pause of the recorder, whose grid samples are left out as lost, never interpolated over.
RESAMPLE_GAP_INTERVALS = 3.0


def _pause_length_s(dt: np.ndarray, fs: float) -> tuple[float, float]:
    """(median interval, shortest pause) of irregular sample intervals ``dt`` read onto times at ``fs``: a pause is
    an interval over :data:`RESAMPLE_GAP_INTERVALS` median intervals and over two steps at ``fs``."""
    median_s = float(np.median(dt))
    return median_s, max(RESAMPLE_GAP_INTERVALS * median_s, 2.0 / fs)


def _merged_repeats(t: np.ndarray, df: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, str]:
    """Rows under the time of the row before (two samples under one whole-ms stamp of a phone) as one, their mean;
    and what to say of it ("" when none).  ``t`` never decreases."""
    repeated = np.flatnonzero(np.diff(t) == 0)
    if not len(repeated):
        return t, df, ""
    new = np.concatenate([[True], np.diff(t) != 0])
    note = f"; {len(repeated)} rows repeat the time of the row before (first at {t[repeated[0]]:.6g} s): averaged"
    return t[new], df.groupby(np.cumsum(new) - 1).mean(), note


def _resampled(df: pd.DataFrame, t: np.ndarray, fs: float, path, tcol: str, *, placement, start_utc,
               first_line: int) -> Recording:
    """``df`` sampled at the irregular times ``t`` (s from the first row), linearly interpolated onto a grid at
    ``fs`` from the first row's time; grid samples inside pauses are left out (gaps)."""
    if not MIN_SAMPLING_RATE_HZ <= fs <= MAX_SAMPLING_RATE_HZ:
        raise RecordingError(path, "resample rate", f"{fs:g} Hz", f"{MIN_SAMPLING_RATE_HZ:g} to {MAX_SAMPLING_RATE_HZ:g} Hz")
    lost = df.isna().all(axis=1).to_numpy()  # (a row missing only some channels: refused by read_csv)
    _check_times(t, path, tcol, first_line=first_line, repeats=True)  # file rows, before any row is left out
    t, df = t[~lost], df[~lost]
    t, df, merged = _merged_repeats(t, df)
    if len(t) < 2:
        raise RecordingError(path, "rows", f"{len(t)} sample(s)", "at least two samples to resample")
    dt = np.diff(t)
    median_s, gap_s = _pause_length_s(dt, fs)
    grid = np.arange(int(np.floor(t[-1] * fs + 1e-9)) + 1) / fs
    j = np.clip(np.searchsorted(t, grid, side="right"), 1, len(t) - 1)  # t[j-1] <= grid < t[j]
    inside_pause = (t[j] - t[j - 1] > gap_s) & (grid > t[j - 1] + 1e-12)
    keep = ~inside_pause
    out = pd.DataFrame({c: np.interp(grid[keep], t, df[c].to_numpy(np.float64)) for c in df.columns},
                       index=pd.Index(np.flatnonzero(keep).astype(np.int64), name="sample_index"))
    pauses = int(np.sum(dt > gap_s))
    note = (f"{path}: irregular times in column {tcol} (median interval {median_s * 1000:.2f} ms, 1 % over "
            f"{np.percentile(dt, 99) * 1000:.2f} ms) resampled to {fs:g} Hz by linear interpolation"
            + (f"; {int(inside_pause.sum())} grid samples inside {pauses} pause(s) over {gap_s * 1000:.0f} ms left "
               "out as lost" if pauses else "") + merged)
    rec = Recording(data=out, sampling_rate_hz=fs, start_utc=utc(start_utc), placement=placement, source=str(path))
    return noted(rec, note)


def _indices_from_times(t: np.ndarray, fs: float | None, path, tcol: str, *, resolution_s: float = 0.0,
                        first_line: int) -> np.ndarray:
    """Sample indices of the times ``t``: each within 0.35 samples of the grid, or within the rounding of times
    written at ``resolution_s`` (whole ms at 833 Hz are off by up to 0.42 samples) while that stays under 0.5."""
    _check_times(t, path, tcol, first_line=first_line)
    fs = fs or _rate_from_times(t, resolution_s)
    pos = (t - t[0]) * fs
    idx = np.round(pos).astype(np.int64)
    jitter = np.abs(pos - idx)
    bad = np.flatnonzero(jitter > max(0.35, min(0.49, 0.5 * resolution_s * fs + 0.05)))
    if len(bad):
        raise RecordingError(path, f"row {bad[0] + first_line}, column {tcol}",
                             f"time {t[bad[0]]:.15g} s after the first row is off the {fs:g} Hz sample grid by "
                             f"{jitter[bad[0]]:.2f} samples",
                             "regular sampling; irregular times (a phone's: here a median interval of "
                             f"{np.median(np.diff(t)) * 1000:.3g} ms) can be resampled onto a regular grid: "
                             "convert --resample-hz 100")
    return idx


# ---------------------------------------------------------------------------


def open_recording(path: str | Path, placement: str | None = None, *, nan_as_gap: bool = True) -> Recording:
    """Open any recording backstride understands, by its name.

    ``placement`` overrides what the file says (and picks the tracked point in a
    multi-sensor BIDS file).  ``nan_as_gap``: a BIDS-Motion row that is ``n/a`` in
    every channel is a lost sample (False: an error; see :func:`sensing.bids.read_bids`).
    """
    path = Path(path)
    if not path.exists():
        raise RecordingError(path, "file", "does not exist")
    name = path.name.lower()
    from sensing import chunked  # live recordings (backstride record): a folder or a .arrows stream

    from sensing.bids import is_bids_path, read_bids

    if chunked.is_live(path):
        rec = chunked.read_live(path, placement=placement)
    elif is_bids_path(path):
        rec = read_bids(path, placement=placement, nan_as_gap=nan_as_gap)
    elif name.endswith(".parquet"):
        rec = read_parquet(path)
    else:
        with open(path, "rb") as fh:
            head = fh.read(4)
        if head == b"PAR1":
            rec = read_parquet(path)
        else:
            raise RecordingError(path, "file", "not a recording backstride can read",
                                 "a backstride .parquet recording or a BIDS-Motion *_motion.tsv; "
                                 "for a CSV, `backstride convert` with its columns and units first")
    if placement is not None:
        if rec.placement is not None and rec.placement != placement:  # (BIDS says so itself, by its tracked point)
            rec = noted(rec, f"{path}: metadata.placement: the file says {rec.placement}; read as {placement} as asked")
        rec = rec.with_placement(placement)
    return rec

