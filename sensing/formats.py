"""Reading and writing recordings.

* Native: one Parquet file (``*.bsr.parquet`` or any ``.parquet``) with columns
  ``sample_index``, ``acc_*``, ``gyr_*``, ``mag_*`` in SI units and the metadata
  as JSON under the Parquet key ``backstride``.
* BIDS-Motion (BEP029): ``*_motion.tsv`` (no header), ``*_channels.tsv``
  (units taken from here) and ``*_motion.json`` (``SamplingFrequency``).
* Plain CSV with a column and unit mapping given by the caller.

Every reader converts units once, here, at the edge; everything inside is SI.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.constants import GRAVITY_M_S2, PLACEMENTS, RECORDING_SCHEMA, SENSOR_COLS
from sensing.recording import Recording, RecordingError, SensorInfo, utc

# ---------------------------------------------------------------------------
# Units
_UNIT_FACTORS = {
    "acc": {
        "m/s^2": 1.0, "m/s2": 1.0, "m/s²": 1.0, "m s-2": 1.0, "m*s^-2": 1.0, "ms^-2": 1.0, "m.s-2": 1.0,
        "g": GRAVITY_M_S2, "g0": GRAVITY_M_S2, "gn": GRAVITY_M_S2, "mg": GRAVITY_M_S2 / 1000.0,
    },
    "gyr": {
        "rad/s": 1.0, "rad s-1": 1.0, "rad*s^-1": 1.0, "rad.s-1": 1.0, "rads^-1": 1.0,
        "deg/s": np.pi / 180, "°/s": np.pi / 180, "dps": np.pi / 180, "deg s-1": np.pi / 180, "deg.s-1": np.pi / 180,
    },
    "mag": {"ut": 1.0, "µt": 1.0, "μt": 1.0, "microtesla": 1.0, "mt": 1000.0, "nt": 0.001, "t": 1e6, "gauss": 100.0, "g": 100.0},
}


def unit_factor(kind: str, unit: str, *, source=None, where: str = "units") -> float:
    """Factor that converts a value in ``unit`` to the SI unit of ``kind`` (acc/gyr/mag)."""
    key = str(unit).strip()
    table = _UNIT_FACTORS[kind]
    for cand in (key, key.lower(), key.replace(" ", "")):
        if cand in table:
            return table[cand]
    raise RecordingError(source, where, f"unknown unit {unit!r} for {kind}", f"one of {', '.join(sorted(table))}")


# ---------------------------------------------------------------------------
# Native Parquet


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
        table = pq.ParquetFile(path).read()
    except FileNotFoundError:
        raise  # not wrapped below: a missing file is not a damaged one
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise RecordingError(path, "file", f"not a readable Parquet file ({exc})", "a backstride recording (.parquet)") from None
    raw = (table.schema.metadata or {}).get(b"backstride")
    if raw is None:
        raise RecordingError(path, "metadata", "no backstride metadata", f"a Parquet file written by backstride ({RECORDING_SCHEMA})")
    meta = json.loads(raw)
    if meta.get("schema") != RECORDING_SCHEMA:
        raise RecordingError(path, "metadata.schema", f"schema {meta.get('schema')!r}", RECORDING_SCHEMA)
    df = table.to_pandas()
    if "sample_index" not in df.columns:
        raise RecordingError(path, "columns", "no sample_index column", "sample_index, acc_x, acc_y, acc_z, ...")
    df = df.set_index("sample_index")
    df.index = df.index.astype(np.int64)
    units = meta.get("units", {})
    for col in df.columns:
        if col in SENSOR_COLS and col in units:
            f = unit_factor(col[:3], units[col], source=path, where=f"metadata.units.{col}")
            if f != 1.0:
                df[col] = df[col] * f
    return _recording(df, meta, path)


def _recording(df: pd.DataFrame, meta: Mapping, path) -> Recording:
    try:
        fs = float(meta["sampling_rate_hz"])
    except (KeyError, TypeError, ValueError):
        raise RecordingError(path, "metadata.sampling_rate_hz", f"missing or not a number: {meta.get('sampling_rate_hz')!r}", "a sampling rate in Hz") from None
    try:
        start = utc(meta.get("start_utc"))
    except ValueError as exc:
        raise RecordingError(path, "metadata.start_utc", str(exc)) from None
    sensor = SensorInfo(**{k: v for k, v in (meta.get("sensor") or {}).items() if k in SensorInfo.__dataclass_fields__})
    return Recording(
        data=df, sampling_rate_hz=fs, start_utc=start, placement=meta.get("placement"), sensor=sensor,
        source=str(path), link_drops=int(meta.get("link_drops") or 0), extra=dict(meta.get("extra") or {}),
    )


# ---------------------------------------------------------------------------
# BIDS-Motion

_BIDS_TYPES = {"ACCEL": "acc", "GYRO": "gyr", "MAGN": "mag"}

#: tracked_point spellings seen in BIDS-Motion data sets → our placements.
_TRACKED_POINT_PATTERNS = [
    (r"(lower.?back|low.?back|lumbar|\bl[3-5]\b|^l[3-5]$|sacrum|pelvis|waist|belt|hip$|lowerback)", "lower-back"),
    (r"(left.?(foot|shoe|ankle)|(foot|shoe|ankle).?left|^l.?foot$|^lf$)", "foot-left"),
    (r"(right.?(foot|shoe|ankle)|(foot|shoe|ankle).?right|^r.?foot$|^rf$)", "foot-right"),
    (r"(left.?thigh|thigh.?left|^lt$)", "thigh-left"),
    (r"(right.?thigh|thigh.?right|^rt$)", "thigh-right"),
    (r"(chest|sternum|trunk|torso)", "chest"),
]


def placement_from_name(name: str) -> str | None:
    """Guess a placement from a tracked-point or file name (None when unsure)."""
    s = name.strip().lower().replace("_", " ").replace("-", " ")
    s = re.sub(r"\s+", " ", s)
    if s in PLACEMENTS:
        return s
    for pattern, placement in _TRACKED_POINT_PATTERNS:
        if re.search(pattern, s.replace(" ", "")) or re.search(pattern, s):
            return placement
    return None


def _bids_paths(path: Path) -> tuple[Path, Path, Path]:
    if path.is_dir():
        found = sorted(path.rglob("*_motion.tsv"))
        if len(found) != 1:
            raise RecordingError(path, "folder", f"{len(found)} *_motion.tsv files", "exactly one; name the file instead")
        path = found[0]
    name = path.name
    for suffix in ("_motion.tsv", "_motion.json", "_channels.tsv"):
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            break
    else:
        raise RecordingError(path, "file name", "not a BIDS-Motion file", "…_motion.tsv, …_motion.json or …_channels.tsv")
    d = path.parent
    motion = d / f"{stem}_motion.tsv"
    sidecar = d / f"{stem}_motion.json"
    channels = d / f"{stem}_channels.tsv"
    if not channels.exists():
        # BIDS inheritance: channels.tsv may drop the tracksys/run entities.
        cands = sorted(d.glob("*_channels.tsv"))
        channels = cands[0] if len(cands) == 1 else channels
    for p, what in ((motion, "motion data"), (sidecar, "sidecar"), (channels, "channels table")):
        if not p.exists():
            raise RecordingError(p, "file", f"missing BIDS {what}", f"{p.name} beside {path.name}")
    return motion, sidecar, channels


def read_bids(path: str | Path, placement: str | None = None, *, nan_as_gap: bool = False) -> Recording:
    """Read one BIDS-Motion recording.

    When the file holds several tracked points (a lower-back and two foot
    sensors, say), ``placement`` chooses which one; otherwise the only one is
    taken.  Rows that are ``n/a`` in every channel are an error unless
    ``nan_as_gap`` is set, in which case they become lost samples (a gap).
    """
    motion, sidecar, channels_path = _bids_paths(Path(path))
    try:
        side = json.loads(sidecar.read_text())
    except json.JSONDecodeError as exc:
        raise RecordingError(sidecar, f"line {exc.lineno}", f"not valid JSON ({exc.msg})") from None
    fs = side.get("SamplingFrequency")
    if not isinstance(fs, (int, float)):
        raise RecordingError(sidecar, "SamplingFrequency", f"missing or not a number: {fs!r}", "the sampling rate in Hz")
    ch = pd.read_csv(channels_path, sep="\t", dtype=str, keep_default_na=False)
    for col in ("name", "type", "units"):
        if col not in ch.columns:
            raise RecordingError(channels_path, "header", f"no column {col!r}", "name, component, type, tracked_point, units")
    if "component" not in ch.columns:
        ch["component"] = ch["name"].str.extract(r"([xyzXYZ])$", expand=False).fillna("n/a")
    if "tracked_point" not in ch.columns:
        ch["tracked_point"] = "n/a"
    ch["kind"] = ch["type"].str.upper().map(_BIDS_TYPES)
    ch["column"] = np.arange(len(ch))
    imu = ch[ch["kind"].notna() & ch["component"].str.lower().isin(["x", "y", "z"])]
    points = list(dict.fromkeys(imu["tracked_point"]))
    if not points:
        raise RecordingError(channels_path, "type", "no ACCEL/GYRO/MAGN channels with x/y/z components", "ACCEL x, y, z at least")
    chosen_point = points[0]
    if len(points) > 1:
        mapping = {p: placement_from_name(p) for p in points}
        if placement is None:
            raise RecordingError(
                channels_path, "tracked_point", f"several tracked points {points}",
                "--placement to choose one (" + ", ".join(f"{p}→{m}" for p, m in mapping.items() if m) + ")",
            )
        matches = [p for p, m in mapping.items() if m == placement]
        if len(matches) != 1:
            raise RecordingError(channels_path, "tracked_point", f"no single tracked point for placement {placement!r} among {points}",
                                 "a tracked_point name such as LowerBack, LeftFoot, RightFoot")
        chosen_point = matches[0]
    sel = imu[imu["tracked_point"] == chosen_point]
    try:
        raw = pd.read_csv(motion, sep="\t", header=None, na_values=["n/a"], dtype=np.float64)
    except ValueError as exc:
        raise RecordingError(motion, "values", f"not numeric ({exc})", "tab-separated numbers, no header row") from None
    except pd.errors.EmptyDataError:
        raise RecordingError(motion, "file", "empty", "one row per sample") from None
    raw = _drop_incomplete_last_row(raw, motion)
    if raw.shape[1] != len(ch):
        raise RecordingError(motion, "row 1", f"{raw.shape[1]} columns", f"{len(ch)} columns, one per row of {channels_path.name}")
    cols = {}
    for _, row in sel.iterrows():
        name = f"{row['kind']}_{row['component'].lower()}"
        factor = unit_factor(row["kind"], row["units"], source=channels_path, where=f"units of channel {row['name']}")
        cols[name] = raw.iloc[:, row["column"]].to_numpy() * factor
    df = pd.DataFrame(cols)
    df.index = pd.Index(np.arange(len(df), dtype=np.int64), name="sample_index")
    if nan_as_gap:
        df = df[~df.isna().all(axis=1)]
    start = None
    scans = _find_scans_acq_time(motion)
    if scans is not None:
        start = scans
    place = placement or placement_from_name(chosen_point) or placement_from_name(motion.name)
    return Recording(
        data=df, sampling_rate_hz=float(fs), start_utc=start, placement=place,
        sensor=SensorInfo(make=side.get("Manufacturer"), model=side.get("ManufacturersModelName"),
                          firmware=side.get("SoftwareVersions"), serial=side.get("DeviceSerialNumber")),
        source=str(motion), extra={"tracked_point": chosen_point, "task": side.get("TaskName")},
    )


def _drop_incomplete_last_row(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A truncated file ends in a partial row: reject it with its row number."""
    if len(df) > 1 and df.iloc[-1].isna().any() and not df.iloc[-1].isna().all():
        if not df.iloc[:-1].isna().any(axis=None):
            raise RecordingError(path, f"row {len(df)}", "last row is incomplete; the file looks truncated",
                                 "a complete row; re-export or cut the last line")
    return df


def _find_scans_acq_time(motion: Path):
    for d in (motion.parent, motion.parent.parent):
        for scans in d.glob("*_scans.tsv"):
            try:
                t = pd.read_csv(scans, sep="\t", dtype=str)
            except Exception:
                continue
            if "filename" in t.columns and "acq_time" in t.columns:
                for fn, at in zip(t["filename"], t["acq_time"]):
                    if fn.endswith(motion.name):
                        try:
                            return utc(at if ("+" in at or at.endswith("Z")) else at + "+00:00")
                        except ValueError:
                            return None
    return None


def write_bids(rec: Recording, folder: str | Path, *, subject: str, task: str, tracksys: str = "imu",
               tracked_point: str | None = None) -> Path:
    """Write ``rec`` as BIDS-Motion into ``folder`` (the subject's motion/ folder)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"sub-{subject}_task-{task}_tracksys-{tracksys}"
    point = tracked_point or {"lower-back": "LowerBack", "foot-left": "LeftFoot", "foot-right": "RightFoot",
                              "thigh-left": "LeftThigh", "thigh-right": "RightThigh", "chest": "Chest"}.get(rec.placement or "", "n/a")
    full = rec.data.reindex(pd.RangeIndex(rec.data.index[0], rec.data.index[-1] + 1))
    full.to_csv(folder / f"{stem}_motion.tsv", sep="\t", header=False, index=False, na_rep="n/a", float_format="%.6g")
    types = {"acc": "ACCEL", "gyr": "GYRO", "mag": "MAGN"}
    rows = [
        {"name": f"{point}_{c}", "component": c[-1], "type": types[c[:3]], "tracked_point": point,
         "units": rec.units[c], "sampling_frequency": rec.sampling_rate_hz}
        for c in rec.data.columns
    ]
    pd.DataFrame(rows).to_csv(folder / f"{stem}_channels.tsv", sep="\t", index=False)
    side = {
        "TaskName": task, "SamplingFrequency": rec.sampling_rate_hz, "TrackingSystemName": tracksys,
        "Manufacturer": rec.sensor.make or "n/a", "ManufacturersModelName": rec.sensor.model or "n/a",
        "RecordingDuration": rec.duration_s, "MissingValues": "n/a",
    }
    (folder / f"{stem}_motion.json").write_text(json.dumps(side, indent=2))
    if rec.start_utc is not None:
        pd.DataFrame({"filename": [f"motion/{stem}_motion.tsv"], "acq_time": [rec.start_utc.strftime("%Y-%m-%dT%H:%M:%S.%f")]}).to_csv(
            folder / f"sub-{subject}_scans.tsv", sep="\t", index=False)
    return folder / f"{stem}_motion.tsv"


# ---------------------------------------------------------------------------
# CSV with a mapping


def read_csv(
    path: str | Path,
    columns: Mapping[str, tuple[str, str]],
    *,
    sampling_rate_hz: float | None = None,
    time_column: tuple[str, str] | None = None,
    placement: str | None = None,
    start_utc=None,
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
        (column, unit) with unit ``s`` or ``ms``; times are used to place samples
        on the sensor's clock and to find lost samples.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, **read_kwargs)
    except pd.errors.EmptyDataError:
        raise RecordingError(path, "file", "empty", "a header row and one row per sample") from None
    except pd.errors.ParserError as exc:
        raise RecordingError(path, "file", f"not readable as CSV ({exc})") from None
    missing = [src for src, _ in columns.values() if src not in raw.columns]
    if missing:
        raise RecordingError(path, "header", f"no column(s) {missing}", f"columns {list(raw.columns)[:12]} hold none of them")
    cols = {}
    for ours, (src, unit) in columns.items():
        if ours not in SENSOR_COLS:
            raise RecordingError(path, f"mapping {ours!r}", "not a channel name", ", ".join(SENSOR_COLS))
        vals = pd.to_numeric(raw[src], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(pd.isna(vals) & raw[src].notna().to_numpy())
        if len(bad):
            raise RecordingError(path, f"row {bad[0] + 2}, column {src}", f"not a number: {raw[src].iloc[bad[0]]!r}", "a number")
        cols[ours] = vals * unit_factor(ours[:3], unit, source=path, where=f"unit of {src}")
    df = pd.DataFrame(cols)
    df = _drop_incomplete_last_row(df, path)
    if time_column is not None:
        tcol, tunit = time_column
        if tcol not in raw.columns:
            raise RecordingError(path, "header", f"no time column {tcol!r}")
        scale = {"s": 1.0, "ms": 1e-3, "us": 1e-6}.get(tunit)
        if scale is None:
            raise RecordingError(path, f"unit of {tcol}", f"unknown time unit {tunit!r}", "s, ms or us")
        t = pd.to_numeric(raw[tcol], errors="coerce").to_numpy(np.float64) * scale
        idx = _indices_from_times(t, sampling_rate_hz, path, tcol)
        fs = sampling_rate_hz or _rate_from_times(t)
    else:
        if sampling_rate_hz is None:
            raise RecordingError(path, "sampling rate", "neither a sampling rate nor a time column given",
                                 "sampling_rate_hz= or time_column=")
        idx = np.arange(len(df))
        fs = sampling_rate_hz
    df.index = pd.Index(idx.astype(np.int64), name="sample_index")
    return Recording(data=df, sampling_rate_hz=float(fs), start_utc=utc(start_utc), placement=placement, source=str(path))


def _rate_from_times(t: np.ndarray) -> float:
    dt = np.diff(t)
    dt = dt[np.isfinite(dt) & (dt > 0)]
    return float(1.0 / np.median(dt)) if len(dt) else float("nan")


def _indices_from_times(t: np.ndarray, fs: float | None, path, tcol: str) -> np.ndarray:
    nan = np.flatnonzero(~np.isfinite(t))
    if len(nan):
        raise RecordingError(path, f"row {nan[0] + 2}, column {tcol}", "missing time", "a number")
    back = np.flatnonzero(np.diff(t) <= 0)
    if len(back):
        i = back[0]
        raise RecordingError(path, f"row {i + 3}, column {tcol}", f"time goes from {t[i]:g} to {t[i + 1]:g} s",
                             "strictly increasing time")
    fs = fs or _rate_from_times(t)
    pos = (t - t[0]) * fs
    idx = np.round(pos).astype(np.int64)
    jitter = np.abs(pos - idx)
    bad = np.flatnonzero(jitter > 0.35)
    if len(bad):
        raise RecordingError(path, f"row {bad[0] + 2}, column {tcol}",
                             f"time {t[bad[0]]:g} s is off the {fs:g} Hz sample grid by {jitter[bad[0]]:.2f} samples",
                             "regular sampling (resample irregular data first)")
    return idx


# ---------------------------------------------------------------------------


def open_recording(path: str | Path, placement: str | None = None, *, nan_as_gap: bool = False) -> Recording:
    """Open any recording backstride understands, by its name.

    ``placement`` overrides what the file says (and picks the tracked point in a
    multi-sensor BIDS file).
    """
    path = Path(path)
    if not path.exists():
        raise RecordingError(path, "file", "does not exist")
    name = path.name.lower()
    from sensing import chunked  # live recordings (backstride record): a folder or a .arrows stream

    if chunked.is_live(path):
        return chunked.read_live(path, placement=placement)
    if path.is_dir() or name.endswith(("_motion.tsv", "_motion.json", "_channels.tsv")):
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
                                 "for a CSV use sensing.formats.read_csv with a column mapping")
    if placement is not None:
        rec = rec.with_placement(placement)
    return rec

