"""BIDS-Motion (BIDS 1.9+, "Motion"): read and write.

``*_motion.tsv`` (no header), ``*_channels.tsv`` (types, axes, tracked points and
units taken from here), ``*_motion.json`` (``SamplingFrequency``), optionally a
LATENCY channel and ``*_scans.tsv`` (start).  What the reader follows and
tolerates is listed below.  Units are converted once, here, with
:func:`sensing.formats.unit_factor`; everything inside is SI.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from analysis.constants import (EARLIEST_START_YEAR, LATEST_START_YEAR, MAX_SAMPLING_RATE_HZ, MIN_SAMPLING_RATE_HZ,
                                PLACEMENTS)
from sensing.formats import (bom_encoding, check_gravity, check_range, evident_units, gyroscope_unit_problem,
                             is_number_text, noted, unit_factor)
from sensing.recording import Recording, RecordingError, SensorInfo, start_in_range, utc


# BIDS-Motion
#
# What the reader follows (BIDS 1.9-1.11, "Motion" page and schema):
#
# * ``*_motion.tsv`` has no header row; its columns are the rows of ``*_channels.tsv`` in order.
#   ``*_channels.tsv`` columns name, component, type, tracked_point, units are required;
#   placement, reference_frame, sampling_frequency, status, status_description are optional.
# * Channel types are upper-case keywords.  backstride reads ACCEL, GYRO and MAGN and ignores the
#   others (ORNT, POS, VEL, ANGACCEL, JNTANG, MISC, LATENCY as data).  ANGVEL was in the spec only
#   between BEP029's merge (March 2023) and bids-specification #1478 (May 2023, "remove ANGVEL"),
#   never in a release; converters written against the draft used it for an IMU's angular rate.
#   It is read as the gyroscope only for a tracked point that also has ACCEL channels (an inertial
#   sensor) and no GYRO channels, with a warning; otherwise it is ignored (an optical system's
#   angular velocity is a derivative of its orientation, not a rate gyro).
# * ``SamplingFrequency`` (Hz) is required; a ``LATENCY`` channel (seconds from the recording's
#   onset) may give every sample's time, for systems with uneven sampling.  Latencies place the
#   samples on the sample grid (lost samples become gaps); when SamplingFrequency is ``n/a`` the
#   rate is derived from them if they are regular.
# * BIDS inheritance: ``*_motion.json`` and ``*_channels.tsv`` may sit in the session or subject
#   folder (or the data set's root) and leave out entities (``tracksys``, ``run``, ...).  The nearest
#   applicable table is used; JSON sidecars are merged, the more specific one winning.
# * ``*_scans.tsv`` ``acq_time`` gives the start.
#
# * Channels whose ``status`` is ``bad`` are not used (a bad ACCEL axis is an error, a bad GYRO or
#   MAGN axis drops that sensor).  ``MissingValues`` names the missing-value marker: a text one
#   is read as n/a, a number only when every channel read holds it in that row.
# * The rate is the nominal SamplingFrequency (what events.tsv onsets are computed from);
#   SamplingFrequencyEffective is kept in ``extra``.  A sampling_frequency column that
#   disagrees with it for a channel we read is an error (one Recording has one rate).
#
# Leniency: files that are off the spec in ways that leave no doubt (a BOM, UTF-16 or
# Windows-1252 text, Windows line endings, trailing tabs, a header row that repeats
# channels.tsv's names, lower-case or spelled-out types such as ACC/GYROSCOPE, component n/a or
# absent with the axis in the channel name, an unknown MAGN unit: the magnetometer is unused)
# are read with a :class:`BidsWarning`, also listed in ``Recording.extra["warnings"]``.
# Anything that leaves doubt is a RecordingError that names file, row or field.  Not checked:
# rows after the first with more fields than channels.tsv has rows (the extra fields are not read).

_BIDS_TYPES = {"ACCEL": "acc", "GYRO": "gyr", "MAGN": "mag"}
#: Channel types outside the spec that mean the same thing (read with a warning).
_NON_BIDS_TYPES = {"ACC": "acc", "ACCELEROMETER": "acc", "GYR": "gyr", "GYROSCOPE": "gyr",
                   "MAG": "mag", "MAGNETOMETER": "mag"}
_NA = ("n/a", "N/A", "NA", "na", "nan", "NaN", "NAN", "")
#: Relative difference tolerated between a channel's sampling_frequency and the sidecar's.
_RATE_REL_TOL = 1e-3
#: Samples may sit this far (in samples) off the grid their latencies imply.
_LATENCY_JITTER_SAMPLES = 0.35
#: A rate derived from latencies may differ this much from a numeric SamplingFrequency.
_LATENCY_RATE_REL_TOL = 0.05


class BidsWarning(UserWarning):
    """A BIDS-Motion file was off the specification but read without doubt; the message says what."""


#: tracked_point / placement spellings seen in BIDS-Motion data sets → our placements, with a rank:
#: 0 names the place itself, 1 a neighbour used for it (an ankle sensor for a foot, a waist belt for
#: the lower back).  Real tables hold both (bids-examples motion_systemvalidation: leftFoot and
#: leftAnkle), so a rank-0 point wins over a rank-1 one.  Tried on the lower-cased name with
#: separators removed ("LowerBack", "lower_back" → "lowerback") and with blanks ("L5" → "l5").
_TRACKED_POINT_PATTERNS = [
    (r"(lower.?(back|trunk)|low.?back|lumbar|\bl[3-5]\b|^l[1-5]$|sacrum|sacral|pelvis|^lb$)", "lower-back", 0),
    (r"(waist|belt|hips?$)", "lower-back", 1),
    (r"(left.?(foot|shoe)|(foot|shoe).?left|^l.?(foot|shoe)$|^(foot|shoe).?l$|^lf$)", "foot-left", 0),
    (r"(left.?ankle|ankle.?left|^l.?ankle$|^ankle.?l$)", "foot-left", 1),
    (r"(right.?(foot|shoe)|(foot|shoe).?right|^r.?(foot|shoe)$|^(foot|shoe).?r$|^rf$)", "foot-right", 0),
    (r"(right.?ankle|ankle.?right|^r.?ankle$|^ankle.?r$)", "foot-right", 1),
    (r"(left.?(thigh|upper.?leg)|thigh.?left|^l.?thigh$|^thigh.?l$|^lt$)", "thigh-left", 0),
    (r"(right.?(thigh|upper.?leg)|thigh.?right|^r.?thigh$|^thigh.?r$|^rt$)", "thigh-right", 0),
    (r"(chest|sternum)", "chest", 0),
    (r"(trunk|torso|thorax)", "chest", 1),
]


def placement_rank(name: str) -> tuple[str | None, int]:
    """The placement a tracked-point, placement or file name names, and its rank (0: the place itself, 1: a
    neighbour used for it, see ``_TRACKED_POINT_PATTERNS``); ``(None, 9)`` when unsure.  Our own names are rank 0."""
    s = re.sub(r"\s+", " ", str(name).strip().lower().replace("_", " ").replace("-", " ").replace(".", " "))
    if s.replace(" ", "-") in PLACEMENTS:
        return s.replace(" ", "-"), 0
    for pattern, placement, rank in _TRACKED_POINT_PATTERNS:
        if re.search(pattern, s.replace(" ", "")) or re.search(pattern, s):
            return placement, rank
    return None, 9


def placement_from_name(name: str) -> str | None:
    """Guess a placement from a tracked-point, placement or file name (None when unsure)."""
    return placement_rank(name)[0]


def _warn(warned: list, source, where: str, text: str) -> None:
    msg = f"{source}: {where}: {text}"
    warned.append(msg)
    warnings.warn(msg, BidsWarning, stacklevel=3)


# -- file names and inheritance ---------------------------------------------------


def _bids_entities(name: str) -> tuple[dict, str] | None:
    """``sub-1_task-run_tracksys-imu_motion.tsv`` → ({sub: 1, task: run, tracksys: imu}, "motion")."""
    stem = name.split(".", 1)[0]
    parts = stem.split("_")
    ents = {}
    for p in parts[:-1]:
        if "-" not in p:
            return None
        k, v = p.split("-", 1)
        ents[k] = v
    return ents, parts[-1]


def _bids_dirs(folder: Path) -> list[Path]:
    """The folders a file in ``folder`` inherits from: itself, then session, subject, root."""
    dirs = [folder]
    d = folder
    while d.name == "motion" or d.name.startswith(("ses-", "sub-")):
        if d.parent == d:
            break
        d = d.parent
        dirs.append(d)
    return dirs


def _inherited(motion: Path, suffix: str, ext: str) -> list[Path]:
    """Files ``*_<suffix><ext>`` that apply to ``motion`` by the inheritance principle.

    Ordered from the least to the most specific; a file applies when its entities are a
    subset of the motion file's (same values).  Two applicable files equally specific in one
    folder are ambiguous (the spec forbids it): an error.
    """
    parsed = _bids_entities(motion.name)
    mine = parsed[0] if parsed else {}
    found = []
    for level, d in enumerate(_bids_dirs(motion.parent)):
        try:
            cands = sorted(d.glob(f"*{suffix}{ext}"))
        except OSError:
            continue
        at_level: dict[int, Path] = {}
        for f in cands:
            if not f.is_file() or not (f.name == f"{suffix}{ext}" or f.name.endswith(f"_{suffix}{ext}")):
                continue
            p = _bids_entities(f.name) if f.name != f"{suffix}{ext}" else ({}, suffix)
            if p is None or p[1] != suffix or any(mine.get(k) != v for k, v in p[0].items()):
                continue
            n = len(p[0])
            if n in at_level:
                raise RecordingError(f, "file name", f"{f.name} and {at_level[n].name} both apply to {motion.name}",
                                     "one applicable file per folder and specificity (BIDS inheritance principle)")
            at_level[n] = f
        for n in sorted(at_level, reverse=True):
            found.append((level, -n, at_level[n]))
    found.sort()  # nearest folder first, then most entities
    out = [f for _, _, f in reversed(found)]
    sibling = motion.with_name(motion.name[: -len("_motion.tsv")] + f"_{suffix}{ext}")
    if sibling.is_file() and sibling not in out:  # a name that is not BIDS (no entities): its own sidecar still applies
        out.append(sibling)
    return out


#: The files of a BIDS-Motion recording; any of them names the recording.
BIDS_SUFFIXES = ("_motion.tsv", "_motion.json", "_channels.tsv")


def is_bids_path(path: str | Path) -> bool:
    """A BIDS-Motion file, or a folder (that may hold one): how :func:`read_bids`'s callers tell it by name."""
    p = Path(path)
    return p.is_dir() or p.name.lower().endswith(BIDS_SUFFIXES)


def _motion_file(path: Path) -> Path:
    name = path.name
    for suffix in BIDS_SUFFIXES:
        if name.endswith(suffix):
            return path.parent / f"{name[: -len(suffix)]}_motion.tsv"
    raise RecordingError(path, "file name", "not a BIDS-Motion file", "…_motion.tsv, …_motion.json or …_channels.tsv")


def _bids_paths(path: Path, placement: str | None = None) -> tuple[Path, list[Path], Path]:
    """(motion.tsv, its sidecars from least to most specific, its channels.tsv).

    ``path`` may be a folder: of its ``*_motion.tsv`` files (several tracking systems), the one
    with accelerometer channels is taken; among several such, the one with a tracked point
    that ``placement`` names.
    """
    if path.is_dir():
        found = sorted(path.rglob("*_motion.tsv"))
        if len(found) > 1:
            points = {f: _imu_points(f) for f in found}
            found = [f for f in found if points[f]]
            if len(found) > 1 and placement is not None:
                named = [f for f in found if placement in points[f].values()]
                found = named if named else found
        others = sorted(path.glob("*.parquet")) if not found else []
        if others:  # a folder of backstride recordings, not a BIDS one
            names = ", ".join(f.name for f in others[:4]) + (" …" if len(others) > 4 else "")
            raise RecordingError(path, "folder", f"no *_motion.tsv file (BIDS-Motion), but {len(others)} .parquet "
                                 f"recording(s): {names}", f"one recording's file (import takes several: "
                                 f"{path / '*.parquet'})")
        if len(found) != 1:
            names = ", ".join(f.name for f in found[:6]) + (" …" if len(found) > 6 else "")
            raise RecordingError(path, "folder", f"{len(found)} *_motion.tsv files with accelerometer channels"
                                 + (f" for {placement}" if placement else "") + (f" ({names})" if names else ""),
                                 "exactly one; name the file" + ("" if placement else " or give --placement"))
        path = found[0]
    motion = _motion_file(path)
    if not motion.exists():
        raise RecordingError(motion, "file", "missing BIDS motion data", f"{motion.name} beside {path.name}")
    sidecars = _inherited(motion, "motion", ".json")
    channels = _inherited(motion, "channels", ".tsv")
    stem = motion.name[: -len("_motion.tsv")]
    if not sidecars:
        raise RecordingError(motion.parent / f"{stem}_motion.json", "file", "missing BIDS sidecar",
                             f"{stem}_motion.json beside {motion.name} (or inherited from the session or subject folder)")
    if not channels:
        raise RecordingError(motion.parent / f"{stem}_channels.tsv", "file", "missing BIDS channels table",
                             f"{stem}_channels.tsv beside {motion.name} (or inherited from the session or subject folder)")
    return motion, sidecars, channels[-1]


def _imu_points(motion: Path) -> dict:
    """{tracked point: placement or None} of the points with ACCEL channels in ``motion``'s table ({} if none)."""
    try:
        with warnings.catch_warnings():  # only choosing the file: the one read says what was off the spec
            warnings.simplefilter("ignore", BidsWarning)
            ch = _channels_table(_inherited(motion, "channels", ".tsv")[-1], [])
    except (RecordingError, IndexError):
        return {}
    return {p: _point_placement(ch, p) for p in dict.fromkeys(ch.loc[ch["kind"] == "acc", "point"])}


# -- text files -------------------------------------------------------------------


def _bom_encoding(head: bytes, path: Path, warned: list) -> str:
    """The encoding a file's first bytes name: UTF-16 or UTF-8 by their byte-order mark (warned), else UTF-8."""
    encoding = bom_encoding(head)
    if encoding == "utf-16":
        _warn(warned, path, "encoding", "UTF-16 text; BIDS text files are UTF-8")
    elif encoding == "utf-8-sig":
        _warn(warned, path, "encoding", "starts with a byte-order mark; BIDS text files are UTF-8 without one")
    return encoding or "utf-8"


def _decode(path: Path, warned: list) -> str:
    """Text of a small file: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    raw = path.read_bytes()
    encoding = _bom_encoding(raw[:4], path, warned)
    if encoding != "utf-8":
        return raw.decode(encoding)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _warn(warned, path, f"byte {exc.start}", "not UTF-8; read as Windows-1252")
        return raw.decode("cp1252", errors="replace")


def _read_sidecars(sidecars: list[Path], warned: list) -> dict:
    side: dict = {}
    for p in sidecars:
        try:
            part = json.loads(_decode(p, warned))
        except json.JSONDecodeError as exc:
            raise RecordingError(p, f"line {exc.lineno}", f"not valid JSON ({exc.msg})") from None
        if not isinstance(part, dict):
            raise RecordingError(p, "file", f"a JSON {type(part).__name__}", "a JSON object")
        side.update(part)
    return side


def _channels_table(path: Path, warned: list) -> pd.DataFrame:
    """channels.tsv as strings, stripped, with ``kind`` (acc/gyr/mag/None), ``axis``, ``point``, ``line``."""
    text = _decode(path, warned)
    if not text.strip():
        raise RecordingError(path, "file", "empty", "a header row and one row per channel")
    try:
        ch = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False, index_col=False)
    except pd.errors.ParserError as exc:
        raise RecordingError(path, "file", f"not readable as a tab-separated table ({exc})") from None
    ch.columns = [str(c).strip().lower() for c in ch.columns]
    ch = ch.loc[:, [not (c == "" or c.startswith("unnamed:")) or (ch[c].str.strip() != "").any() for c in ch.columns]]
    ch = ch.apply(lambda s: s.fillna("").str.strip())
    for col in ("name", "type", "units"):
        if col not in ch.columns:
            raise RecordingError(path, "header", f"no column {col!r} (columns: {', '.join(ch.columns)})",
                                 "name, component, type, tracked_point, units")
    ch["line"] = np.arange(len(ch)) + 2
    ch["column"] = np.arange(len(ch))
    types = ch["type"].str.upper()
    lower = ch[(ch["type"] != types) & types.isin(list(_BIDS_TYPES) + ["LATENCY"])]
    if len(lower):
        _warn(warned, path, f"row {lower['line'].iloc[0]}, type", f"{lower['type'].iloc[0]!r} is not upper-case as BIDS requires")
    odd = ch[types.isin(list(_NON_BIDS_TYPES))]
    if len(odd):
        _warn(warned, path, f"row {odd['line'].iloc[0]}, type",
              f"{odd['type'].iloc[0]!r} is not a BIDS channel type; read as {_NON_BIDS_TYPES[types[odd.index[0]]]}")
    ch["type"] = types
    ch["kind"] = types.map({**_BIDS_TYPES, **_NON_BIDS_TYPES})
    comp = ch["component"].str.lower() if "component" in ch.columns else pd.Series("n/a", index=ch.index)
    axis = comp.where(comp.isin(["x", "y", "z"]), None)
    need = (ch["kind"].notna() | (types == "ANGVEL")) & axis.isna() & comp.isin(["", "n/a"])
    if need.any():
        axis[need] = ch.loc[need, "name"].map(_axis_from_name)
        if axis[need].notna().any():
            _warn(warned, path, "component", "no component for channel(s) "
                  + ", ".join(ch.loc[need & axis.notna(), "name"].head(3)) + "…; the axis is taken from the name")
    ch["axis"] = axis
    point = ch["tracked_point"] if "tracked_point" in ch.columns else pd.Series("", index=ch.index)
    point = point.where(~point.isin(_NA), "")
    if "placement" in ch.columns:  # the recommended placement column names the body part when tracked_point does not
        point = point.where(point != "", ch["placement"].where(~ch["placement"].isin(_NA), ""))
    ch["point"] = point
    return ch


def _axis_from_name(name: str) -> str | None:
    """The axis in a channel name: acc_x, ACC_X, LowerBack_ACC_X, accX, acc.x, x_acc, acc_x_raw."""
    for pattern in (r"(?:^|[^a-zA-Z])([xyzXYZ])$", r"[a-z]([XYZ])$", r"^([xyzXYZ])(?:[^a-zA-Z]|$)"):
        m = re.search(pattern, name)
        if m:
            return m.group(1).lower()
    inner = re.findall(r"(?:^|[_\-\s.])([xyzXYZ])(?=[_\-\s.(\[])", name)
    return inner[0].lower() if len(inner) == 1 else None


def _point_placement(ch: pd.DataFrame, point: str) -> str | None:
    return _point_rank(ch, point)[0]


def _point_rank(ch: pd.DataFrame, point: str) -> tuple[str | None, int]:
    """Placement (and rank) a tracked point names, by its tracked_point, else its placement column."""
    rows = ch[ch["point"] == point]
    cands = [point] + ([v for v in rows["placement"] if v not in _NA] if "placement" in ch.columns else [])
    for c in cands:
        p, rank = placement_rank(c)
        if p:
            return p, rank
    return None, 9


# -- reading ----------------------------------------------------------------------


def read_bids(path: str | Path, placement: str | None = None, *, nan_as_gap: bool = True) -> Recording:
    """Read one tracked point of a BIDS-Motion recording as a :class:`Recording` in SI units.

    When the file holds several tracked points (a lower-back and two foot sensors, say),
    ``placement`` chooses which one (by its ``tracked_point`` or ``placement`` name: LowerBack,
    pelvis, L5, sacrum → lower-back; LeftFoot, left_foot, LF, LeftAnkle → foot-left, ...);
    otherwise the only one is taken.  Rows that are ``n/a`` in every channel used are lost samples
    (a gap): ``n/a`` is BIDS's own mark of a missing value (``MissingValues``), and ``write_bids``
    writes a gap so; with ``nan_as_gap=False`` they are an error instead.  A row missing only some
    channels is always an error.  Channels
    whose ``status`` is ``bad`` are not used.  What was off the spec but read anyway is listed
    in ``extra["warnings"]`` and issued as :class:`BidsWarning`.
    """
    warned: list[str] = []
    motion, sidecars, channels_path = _bids_paths(Path(path), placement)
    side = _read_sidecars(sidecars, warned)
    ch = _channels_table(channels_path, warned)
    point, sel = _select_channels(ch, channels_path, placement, warned)
    fs_nominal = _nominal_rate(side, sidecars[-1], sel, channels_path)
    latency = ch[ch["type"] == "LATENCY"]
    if len(latency) > 1:
        _warn(warned, channels_path, f"row {latency['line'].iloc[1]}", "several LATENCY channels; the first is used")
    raw, first_line = _read_motion_values(motion, ch, channels_path, side, warned)
    cols = {}
    for _, row in sel.iterrows():
        cols[f"{row['kind']}_{row['axis']}"] = raw[:, row["column"]] * row["factor"]
    df = pd.DataFrame(cols)
    _apply_missing_values(df, side, sel, raw, sidecars[-1], warned)
    units = {f"{r['kind']}_{r['axis']}": (r["name"], r["units"]) for _, r in sel.iterrows()}
    if fs_nominal is not None:
        units = _read_in_evident_units(df, sel, units, fs_nominal, channels_path, warned)
    check_range(df, motion, units, first_line=first_line)
    lines = np.arange(len(df)) + first_line  # file line of every row, for messages
    keep = np.ones(len(df), bool)
    if nan_as_gap:
        keep = ~df.isna().all(axis=1).to_numpy()
        _note_lost_ends(keep, lines, motion, warned)
    df, lines = df[keep].reset_index(drop=True), lines[keep]
    df = _partial_rows_named(df, lines, sel, motion, channels_path, warned)
    offset_s = 0.0
    if len(latency):
        lrow = latency.iloc[0]
        scale = {"": 1.0, "n/a": 1.0, "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0, "ms": 1e-3}.get(lrow["units"].lower())
        if scale is None:
            raise RecordingError(channels_path, f"row {lrow['line']}, channel {lrow['name']}",
                                 f"unknown unit {lrow['units']!r} for LATENCY", "seconds (s)")
        t = raw[keep, lrow["column"]] * scale
        idx, fs = _grid_from_latency(t, fs_nominal, motion, lines, lrow["name"], sidecars[-1], warned)
        offset_s = float(t[0]) if len(t) else 0.0
        if not MIN_SAMPLING_RATE_HZ <= fs <= MAX_SAMPLING_RATE_HZ:
            raise RecordingError(channels_path, f"row {lrow['line']}, channel {lrow['name']}",
                                 f"its latencies give {fs:.6g} Hz in the unit declared ({lrow['units']!r})",
                                 f"{MIN_SAMPLING_RATE_HZ:g} to {MAX_SAMPLING_RATE_HZ:g} Hz; is the unit right (s or ms)?")
    else:
        if fs_nominal is None:
            raise RecordingError(sidecars[-1], "SamplingFrequency", f"{side.get('SamplingFrequency', 'missing')!r} and no LATENCY channel",
                                 "the sampling rate in Hz, or a LATENCY channel giving each sample's time")
        fs = fs_nominal
        if not MIN_SAMPLING_RATE_HZ <= fs <= MAX_SAMPLING_RATE_HZ:
            raise RecordingError(sidecars[-1], "SamplingFrequency", f"{fs:g} Hz (as written: "
                                 f"{side.get('SamplingFrequency')!r}; channels.tsv's sampling_frequency stands in for n/a)",
                                 f"the sampling rate in Hz, {MIN_SAMPLING_RATE_HZ:g} to {MAX_SAMPLING_RATE_HZ:g}")
        idx = np.flatnonzero(keep)
    df.index = pd.Index(np.asarray(idx, dtype=np.int64), name="sample_index")
    start = _find_scans_acq_time(motion, warned)
    if start is not None and offset_s:
        start = start + timedelta(seconds=offset_s)
    place = placement or _point_placement(ch, point) or placement_from_name(motion.name)
    ents = (_bids_entities(motion.name) or ({}, ""))[0]
    extra = {"tracked_point": point, "task": side.get("TaskName", ents.get("task")), "tracksys": ents.get("tracksys"),
             "bids_channels": {f"{r['kind']}_{r['axis']}": r["name"] for _, r in sel.iterrows()}}
    if "reference_frame" in sel.columns:
        frames = sorted(set(sel["reference_frame"]) - set(_NA))
        if frames:
            extra["reference_frame"] = frames[0] if len(frames) == 1 else frames
    eff = side.get("SamplingFrequencyEffective")
    if isinstance(eff, (int, float)) and not isinstance(eff, bool):
        extra["sampling_rate_effective_hz"] = float(eff)
    if warned:
        extra["warnings"] = warned
    rec = Recording(
        data=df, sampling_rate_hz=float(fs), start_utc=start, placement=place,
        sensor=SensorInfo(make=_str_or_none(side.get("Manufacturer")), model=_str_or_none(side.get("ManufacturersModelName")),
                          firmware=_str_or_none(side.get("SoftwareVersions")), serial=_str_or_none(side.get("DeviceSerialNumber"))),
        source=str(motion), extra=extra,
    )
    acc_units = sel.loc[sel["kind"] == "acc", "units"]
    rec = check_gravity(rec, motion, "the accelerometer's units (channels.tsv)",
                        unit=acc_units.iloc[0] if acc_units.nunique() == 1 else None)
    problem = gyroscope_unit_problem(rec)
    if problem:  # the accelerometer alone still gives steps and posture (analyse says what needs the gyroscope)
        said: list = []
        _warn(said, channels_path, "GYRO units", f"{problem}; the gyroscope is not used")
        rec = noted(dataclasses.replace(rec, data=rec.data.drop(columns=["gyr_x", "gyr_y", "gyr_z"])), said[0])
    return rec


def _read_in_evident_units(df: pd.DataFrame, sel: pd.DataFrame, units: dict, fs: float, channels_path: Path,
                           warned: list) -> dict:
    """Rescale, in place, the accelerometer or gyroscope whose declared unit cannot be right while another usual
    unit evidently is (:func:`sensing.formats.evident_units`), saying so; ``units`` (column: (BIDS name, unit))
    as read.  A BIDS file comes from someone else's export: read as it evidently is, the analysis can go on; the
    warning asks for channels.tsv to be corrected."""
    declared = {}
    for kind in ("acc", "gyr"):
        u = sel.loc[sel["kind"] == kind, "units"]
        declared[kind] = u.iloc[0] if len(u) == 3 and u.nunique() == 1 else None
    if declared["acc"] is None:
        return units
    cols = {k: [f"{k}_{a}" for a in "xyz"] for k in ("acc", "gyr")}
    has_gyr = all(c in df.columns for c in cols["gyr"])
    found = evident_units(df[cols["acc"]].to_numpy(np.float64),
                          df[cols["gyr"]].to_numpy(np.float64) if has_gyr and declared["gyr"] else None, declared, fs)
    units = dict(units)
    for kind, (unit, factor, why) in found.items():
        df[cols[kind]] = df[cols[kind]] * factor
        for c in cols[kind]:
            units[c] = (units[c][0], unit)
        name = {"acc": "ACCEL", "gyr": "GYRO"}[kind]
        _warn(warned, channels_path, f"{name} units", f"declared {declared[kind]}, but {why}: read as {unit} "
              f"(correct the units column of channels.tsv)")
    return units


def _partial_rows_named(df: pd.DataFrame, lines: np.ndarray, sel: pd.DataFrame, motion: Path, channels_path: Path,
                        warned: list) -> pd.DataFrame:
    """A gyroscope or magnetometer n/a in every row is left out with a warning (as a channel of status bad); any
    other row with n/a in some channels and numbers in others is a RecordingError naming its file line and
    channel (a lost sample is n/a in all of them)."""
    names = {f"{r['kind']}_{r['axis']}": r["name"] for _, r in sel.iterrows()}
    for kind, label in (("gyr", "GYRO"), ("mag", "MAGN")):
        cols = [c for c in df.columns if c.startswith(kind + "_")]
        if cols and len(df) and df[cols].isna().all().all() and df.drop(columns=cols).notna().any().any():
            _warn(warned, channels_path, label, f"{', '.join(names[c] for c in cols)} n/a in every row: not used")
            df = df.drop(columns=cols)
    part = df.isna().any(axis=1).to_numpy()
    if part.any():
        k = int(np.argmax(part))
        empty = [c for c in df.columns if np.isnan(df[c].iloc[k])]
        rows = f" ({int(part.sum())} such rows)" if part.sum() > 1 else ""
        if len(empty) == df.shape[1]:  # read with nan_as_gap=False
            raise RecordingError(motion, f"line {lines[k]}", f"n/a in every channel{rows}",
                                 "a number in every channel (n/a rows are lost samples only when read as gaps)")
        raise RecordingError(motion, f"line {lines[k]}, channel {names[empty[0]]}",
                             f"n/a in {len(empty)} of {df.shape[1]} channels{rows}",
                             "a number in every channel, or n/a in all of them (a lost sample)")
    return df


def _note_lost_ends(keep: np.ndarray, lines: np.ndarray, motion: Path, warned: list) -> None:
    """Say so when the table begins or ends with rows n/a in every channel: lost samples that no gap between two
    received ones counts (those in the middle are gaps: the recording's lost samples)."""
    if not keep.any():
        return  # no sample at all: the recording's own check names that
    lead, trail = int(np.argmax(keep)), int(np.argmax(keep[::-1]))
    if lead:
        _warn(warned, motion, f"lines {lines[0]}-{lines[lead - 1]}", f"{lead} rows n/a in every channel before the "
              f"first sample (line {lines[lead]}): read as lost; the times still count from the first row")
    if trail:
        _warn(warned, motion, f"lines {lines[-trail]}-{lines[-1]}", f"{trail} rows n/a in every channel after the "
              f"last sample (line {lines[-trail - 1]}): read as lost")


def _str_or_none(v):
    return None if v is None or (isinstance(v, str) and v.strip() in _NA) else str(v)


def _select_channels(ch: pd.DataFrame, path: Path, placement: str | None, warned: list) -> tuple[str, pd.DataFrame]:
    """The tracked point to read and its usable ACCEL/GYRO/MAGN rows, with ``factor`` to SI."""
    angvel = ch[(ch["type"] == "ANGVEL") & ch["axis"].notna()]
    imu = ch[ch["kind"].notna()]
    acc_points = list(dict.fromkeys(imu.loc[imu["kind"] == "acc", "point"]))
    if not acc_points:
        raise RecordingError(path, "type", f"no ACCEL channels (types here: {', '.join(dict.fromkeys(ch['type']))})",
                             "ACCEL x, y, z at least (backstride reads ACCEL, GYRO and MAGN)")
    point = acc_points[0]
    if len(acc_points) > 1:
        mapping = {p: _point_placement(ch, p) for p in acc_points}
        if placement is None:
            raise RecordingError(path, "tracked_point", f"several tracked points {acc_points}",
                                 "--placement to choose one (" + ", ".join(f"{p}→{m}" for p, m in mapping.items() if m) + ")")
        ranks = {p: _point_rank(ch, p)[1] for p in acc_points}
        matches = [p for p, m in mapping.items() if m == placement]
        best = [p for p in matches if ranks[p] == min(ranks[m] for m in matches)] if matches else []
        if len(best) == 1 and len(matches) > 1:
            _warn(warned, path, "tracked_point", f"{best[0]!r} read for {placement}; also near it: "
                  + ", ".join(repr(p) for p in matches if p != best[0]))
            matches = best
        if len(matches) != 1:
            raise RecordingError(path, "tracked_point",
                                 f"{'no' if not matches else len(matches)} tracked points for placement {placement!r} among {acc_points}"
                                 + (f" ({', '.join(matches)})" if matches else ""),
                                 "one tracked_point name such as LowerBack, pelvis, L5, LeftFoot, RightFoot, LeftThigh, sternum")
        point = matches[0]
    elif placement is not None:
        named = _point_placement(ch, point)
        if named is not None and named != placement:
            _warn(warned, path, "tracked_point", f"the only tracked point {point!r} looks like {named}, read as {placement} as asked")
    mine = imu[imu["point"] == point].copy()
    gyro_angvel = angvel[angvel["point"] == point]
    if len(gyro_angvel):
        if (mine["kind"] == "gyr").any():
            _warn(warned, path, f"row {gyro_angvel['line'].iloc[0]}", "ANGVEL channels ignored: GYRO channels are there")
        else:
            _warn(warned, path, f"row {gyro_angvel['line'].iloc[0]}",
                  "ANGVEL (a pre-release BIDS type) read as the gyroscope of this inertial sensor")
            mine = pd.concat([mine, gyro_angvel.assign(kind="gyr")])
    if "status" in mine.columns:
        bad = mine[mine["status"].str.lower() == "bad"]
        for _, r in bad.iterrows():
            why = r.get("status_description", "")
            _warn(warned, path, f"row {r['line']}, channel {r['name']}",
                  "status bad: not used" + (f" ({why})" if why and why not in _NA else ""))
        mine = mine[mine["status"].str.lower() != "bad"]
    no_axis = mine[mine["axis"].isna()]
    if len(no_axis):
        r = no_axis.iloc[0]
        raise RecordingError(path, f"row {r['line']}, channel {r['name']}",
                             f"component {r.get('component', 'missing')!r} and no x/y/z in the name", "component x, y or z")
    out = []
    for kind in ("acc", "gyr", "mag"):
        rows = mine[mine["kind"] == kind]
        if rows.empty:
            if kind == "acc":
                raise RecordingError(path, f"tracked point {point!r}", "every ACCEL channel is marked bad", "usable ACCEL x, y, z")
            continue
        dup = rows[rows["axis"].duplicated(keep=False)]
        if len(dup):
            raise RecordingError(path, f"rows {', '.join(map(str, dup['line']))}",
                                 f"channels {', '.join(dup['name'])} of {point!r} all claim {kind} axis {dup['axis'].iloc[0]}",
                                 "one channel per axis and tracked point")
        missing = sorted({"x", "y", "z"} - set(rows["axis"]))
        if missing:
            if kind == "acc":
                raise RecordingError(path, f"tracked point {point!r}", f"no usable ACCEL channel for axis {', '.join(missing)}",
                                     "ACCEL x, y and z")
            _warn(warned, path, f"tracked point {point!r}", f"{kind} has no usable axis {', '.join(missing)}; {kind} not used")
            continue
        factors = []
        for _, r in rows.iterrows():
            where = f"row {r['line']}, channel {r['name']} (units)"
            if kind == "mag":
                try:
                    factors.append(unit_factor(kind, r["units"], source=path, where=where))
                except RecordingError as exc:  # the magnetometer is not used by the analysis: losing it loses nothing
                    _warn(warned, path, where, f"{exc.problem}; magnetometer not used")
                    factors = None
                    break
            else:
                factors.append(unit_factor(kind, r["units"], source=path, where=where))
        if factors is None:
            continue
        out.append(rows.assign(factor=factors).sort_values("axis"))
    return point, pd.concat(out)


def _number(v) -> float | None:
    """A JSON number or a numeric string ("100", " 100.0 ", "100 Hz"); None for n/a, missing or text."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    m = re.fullmatch(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?:hz)?\s*", str(v), flags=re.IGNORECASE)
    return float(m.group(1)) if m else None


def _nominal_rate(side: dict, sidecar: Path, sel: pd.DataFrame, channels_path: Path) -> float | None:
    """SamplingFrequency from the sidecar (or the channels' sampling_frequency when it is n/a), checked."""
    raw = side.get("SamplingFrequency")
    fs = _number(raw)
    if raw is not None and fs is None and not (isinstance(raw, str) and raw.strip() in _NA):
        raise RecordingError(sidecar, "SamplingFrequency", f"not a number: {raw!r}", "the sampling rate in Hz, or n/a with a LATENCY channel")
    if fs is not None and (not np.isfinite(fs) or fs <= 0):
        raise RecordingError(sidecar, "SamplingFrequency", f"impossible sampling rate {raw!r}", "a positive rate in Hz")
    if "sampling_frequency" in sel.columns:
        per = []
        for _, r in sel.iterrows():
            v = r["sampling_frequency"]
            if v in _NA:
                continue
            x = _number(v)
            if x is None or x <= 0:
                raise RecordingError(channels_path, f"row {r['line']}, channel {r['name']} (sampling_frequency)",
                                     f"not a rate: {v!r}", "a rate in Hz or n/a")
            per.append((x, r))
        ref = fs if fs is not None else (per[0][0] if per else None)
        for x, r in per:
            if abs(x - ref) > _RATE_REL_TOL * ref:
                what = f"SamplingFrequency {fs:g} Hz in {sidecar.name}" if fs is not None else f"{per[0][1]['name']}'s {ref:g} Hz"
                raise RecordingError(channels_path, f"row {r['line']}, channel {r['name']} (sampling_frequency)",
                                     f"{x:g} Hz disagrees with {what}",
                                     "one rate for every channel backstride reads (resample the channel first)")
        if fs is None and per:
            fs = per[0][0]
    return fs


def _first_lines(path: Path, encoding: str, n: int = 2) -> list[str]:
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        out = []
        for line in fh:
            if line.strip():
                out.append(line.rstrip("\r\n"))
            if len(out) >= n:
                break
    return out


def _last_line(path: Path, encoding: str) -> str:
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 65536))
        tail = fh.read()
    text = tail.decode("utf-8", errors="replace")
    lines = [ln for ln in text.replace("\r", "").split("\n") if ln.strip()]
    return lines[-1] if lines else ""


def _is_number_or_na(s: str) -> bool:
    """A BIDS value: a number (decimal point) or n/a."""
    return s.strip() in _NA or is_number_text(s.strip(), decimal_comma=False)


def _read_motion_values(motion: Path, ch: pd.DataFrame, channels_path: Path, side: dict, warned: list) -> tuple[np.ndarray, int]:
    """All columns of motion.tsv as float64 (n/a → NaN), and the file line of the first data row."""
    with open(motion, "rb") as fh:
        head = fh.read(4)
    if not head:
        raise RecordingError(motion, "file", "empty", "one row per sample")
    encoding = _bom_encoding(head, motion, warned)
    first = _first_lines(motion, encoding, 2)
    if not first:
        raise RecordingError(motion, "file", "empty", "one row per sample")
    n_ch = len(ch)
    names = list(ch["name"])
    last_seen = first[-1]  # a data row (the first may be a header)
    if n_ch > 1 and "\t" not in last_seen:
        for sep, label in ((",", "commas"), (";", "semicolons"), (None, "spaces")):
            if len(last_seen.split(sep)) >= n_ch:
                raise RecordingError(motion, f"row {len(first)}", f"fields separated by {label}, not tabs",
                                     "tab-separated values (a BIDS .tsv); re-export with tabs")
    skip = 0
    fields = first[0].split("\t")
    if not all(_is_number_or_na(f) for f in fields):
        if any(_is_number_or_na(f) and f.strip() not in _NA for f in fields):
            bad = next(i for i, f in enumerate(fields) if not _is_number_or_na(f))
            raise RecordingError(motion, f"row 1, column {bad + 1}" + (f" ({names[bad]})" if bad < n_ch else ""),
                                 f"not numeric: {fields[bad]!r}", "tab-separated numbers, no header row")
        header = [f.strip() for f in fields]
        while header and header[-1] == "":
            header.pop()
        if header != names and sorted(header) == sorted(names):
            raise RecordingError(motion, "row 1", "a header row naming the channels in another order than "
                                 f"{channels_path.name}", "no header row (BIDS: column order is channels.tsv's row order)")
        note = "" if header == names else f" (its names differ from {channels_path.name}'s; the columns are read in {channels_path.name}'s order)"
        _warn(warned, motion, "row 1", "a header row, which BIDS-Motion files must not have; skipped" + note)
        skip = 1
        fields = first[1].split("\t") if len(first) > 1 else []
    n_fields = len(fields)
    while n_fields > n_ch and fields[n_fields - 1].strip() == "":
        n_fields -= 1
    if n_fields != len(fields):
        _warn(warned, motion, f"row {1 + skip}", "rows end in a tab (trailing tab); the empty last field is ignored")
    if fields and n_fields != n_ch:
        raise RecordingError(motion, f"row {1 + skip}", f"{n_fields} columns", f"{n_ch} columns, one per row of {channels_path.name}")
    na = ["n/a", "N/A"]
    mv = side.get("MissingValues")
    if isinstance(mv, str) and mv.strip() and _number(mv) is None:
        na.append(mv.strip())
    try:
        raw = pd.read_csv(motion, sep="\t", header=None, skiprows=skip, na_values=na, dtype=np.float64,
                          encoding=encoding, encoding_errors="replace", usecols=range(n_ch), skip_blank_lines=True)
    except pd.errors.EmptyDataError:
        raise RecordingError(motion, "file", "no data rows", "one row per sample") from None
    except ValueError as exc:
        where, what = _locate_non_numeric(motion, encoding, skip, na, names)
        raise RecordingError(motion, where, f"not numeric {what}".strip() if what else f"not numeric ({exc})",
                             "tab-separated numbers, no header row") from None
    values = raw.to_numpy(dtype=np.float64)
    last = _last_line(motion, encoding).split("\t") if not encoding.startswith("utf-16") else [""] * n_ch
    n_last = len(last)
    while n_last > n_ch and last[n_last - 1].strip() == "":
        n_last -= 1
    if len(values) > 1 and n_last < n_ch:
        raise RecordingError(motion, f"row {len(values) + skip}", f"last row has {n_last} of {n_ch} fields; the file looks truncated",
                             "a complete row; re-export or cut the last line")
    return values, 1 + skip


def _locate_non_numeric(motion: Path, encoding: str, skip: int, na: list, names: list) -> tuple[str, str]:
    """Row and channel of the first cell that is not a number (only on the error path)."""
    try:
        text = pd.read_csv(motion, sep="\t", header=None, skiprows=skip, dtype=str, keep_default_na=False,
                           encoding=encoding, usecols=range(len(names)))
    except Exception:  # noqa: BLE001 - the caller reports the original error
        return "values", ""
    best = None
    for j in range(text.shape[1]):
        col = text.iloc[:, j].str.strip()
        num = pd.to_numeric(col, errors="coerce")
        bad = np.flatnonzero(num.isna().to_numpy() & ~col.isin(na + list(_NA)).to_numpy())
        if len(bad) and (best is None or bad[0] < best[0]):
            best = (bad[0], j, col.iloc[bad[0]])
    if best is None:
        return "values", ""
    i, j, v = best
    return f"row {i + 1 + skip}, column {j + 1} ({names[j]})", f"{v!r}"


def _apply_missing_values(df: pd.DataFrame, side: dict, sel: pd.DataFrame, raw: np.ndarray, sidecar: Path, warned: list) -> None:
    """MissingValues given as a number (e.g. "0"): a row where every channel read holds it is missing.

    Only whole rows: one axis can read exactly that number; all of them at once cannot (gravity).
    """
    v = _number(side.get("MissingValues"))
    if v is None or df.empty:
        return
    cols = [sel["column"].iloc[i] for i in range(len(sel))]
    rows = np.all(raw[:, cols] == v, axis=1)
    if rows.any():
        df.loc[rows, :] = np.nan
        _warn(warned, sidecar, "MissingValues", f"{int(rows.sum())} rows holding {v:g} in every channel read are missing samples")


def _grid_from_latency(t: np.ndarray, fs_nominal: float | None, motion: Path, lines: np.ndarray, name: str,
                       sidecar: Path, warned: list) -> tuple[np.ndarray, float]:
    """Sample indices and rate from LATENCY times (s): the nominal grid if they sit on it, else their own."""
    where = lambda i: f"row {lines[i]}, column {name}"  # noqa: E731
    bad = np.flatnonzero(~np.isfinite(t))
    if len(bad):
        raise RecordingError(motion, where(bad[0]), "missing latency", "a time in seconds for every sample")
    back = np.flatnonzero(np.diff(t) <= 0)
    if len(back):
        i = back[0]
        raise RecordingError(motion, where(i + 1), f"latency goes from {t[i]:.6g} to {t[i + 1]:.6g} s", "strictly increasing latencies")
    if len(t) < 3:
        if fs_nominal is None:
            raise RecordingError(motion, "LATENCY", f"{len(t)} samples", "enough samples to derive the rate")
        return np.round((t - t[0]) * fs_nominal).astype(np.int64), fs_nominal

    def fit(fs: float):
        idx = np.round((t - t[0]) * fs).astype(np.int64)
        resid = (t - t[0]) * fs - idx
        return idx, resid

    if fs_nominal is not None:
        idx, resid = fit(fs_nominal)
        steps = np.diff(idx)
        if np.abs(resid).max() <= _LATENCY_JITTER_SAMPLES and np.all(steps >= 1) and np.median(steps) == 1:
            return idx, fs_nominal
    dt = np.diff(t)
    fs = 1.0 / np.median(dt)
    for _ in range(3):  # steps in whole samples from each interval (robust to drift and gaps), then a least-squares period
        idx = np.concatenate([[0], np.cumsum(np.maximum(1, np.round(dt * fs)))]).astype(np.int64)
        slope, intercept = np.polyfit(idx, t, 1)
        fs = 1.0 / slope
    resid = (t - intercept) * fs - idx
    off = np.flatnonzero((np.abs(resid) > _LATENCY_JITTER_SAMPLES) | np.concatenate([[False], np.diff(idx) < 1]))
    if len(off):
        i = off[0]
        raise RecordingError(motion, where(i), f"latency {t[i]:.6g} s is {abs(resid[i]):.2f} samples off a regular {fs:.6g} Hz grid",
                             f"sampling regular within ±{_LATENCY_JITTER_SAMPLES} sample (resample irregular data first)")
    if fs_nominal is not None:
        if abs(fs / fs_nominal - 1) > _LATENCY_RATE_REL_TOL:
            raise RecordingError(sidecar, "SamplingFrequency", f"{fs_nominal:g} Hz, but the LATENCY channel gives {fs:.6g} Hz",
                                 "a SamplingFrequency that matches the latencies")
        _warn(warned, motion, f"column {name}", f"latencies give {fs:.6g} Hz, off the nominal {fs_nominal:g} Hz grid; using {fs:.6g} Hz")
    return idx, float(fs)


def _find_scans_acq_time(motion: Path, warned: list):
    """Start of ``motion`` from ``acq_time`` in a ``*_scans.tsv`` of its session or subject (UTC).

    ``acq_time`` without a zone is taken as UTC (BIDS gives no zone; say ``Z`` to be explicit).
    """
    for d in _bids_dirs(motion.parent)[:3]:
        for scans in sorted(d.glob("*_scans.tsv")):
            try:
                t = pd.read_csv(io.StringIO(_decode(scans, [])), sep="\t", dtype=str, keep_default_na=False, index_col=False)
            except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError):
                _warn(warned, scans, "file", "not readable as a table; start time unknown")
                continue
            t.columns = [str(c).strip() for c in t.columns]
            if "filename" not in t.columns or "acq_time" not in t.columns:
                continue
            rel = motion.relative_to(d).as_posix() if motion.is_relative_to(d) else motion.name
            for i, (fn, at) in enumerate(zip(t["filename"].str.strip(), t["acq_time"].str.strip())):
                fn = fn.replace("\\", "/")
                if fn == rel or fn == motion.name or fn.endswith("/" + motion.name):
                    if at in _NA:
                        return None
                    try:
                        start = utc(at if re.search(r"(Z|[+-]\d\d:?\d\d)$", at) else at + "+00:00")
                    except (ValueError, OverflowError):
                        _warn(warned, scans, f"row {i + 2}, acq_time", f"{at!r} is not a date-time; start time unknown")
                        return None
                    if not start_in_range(start):
                        _warn(warned, scans, f"row {i + 2}, acq_time", f"{at!r} is outside the dates the analysis "
                              f"counts days in ({EARLIEST_START_YEAR}-{LATEST_START_YEAR}); start time unknown")
                        return None
                    return start
    return None


def write_bids(rec: Recording, folder: str | Path, *, subject: str, task: str, tracksys: str = "imu",
               tracked_point: str | None = None, units: Mapping[str, str] | None = None) -> Path:
    """Write ``rec`` as BIDS-Motion into ``folder`` (the subject's motion/ folder).

    ``units`` gives the unit written per channel kind, e.g. ``{"acc": "g",
    "gyr": "deg/s"}`` (any unit :func:`unit_factor` knows); values are converted
    to it and ``*_channels.tsv`` says so.  Kinds not named are written in SI.
    Files from other systems come in such units, so this lets tests and the
    bench exercise the reader's conversion.

    The first row of ``*_motion.tsv`` is the recording's first sample, whose
    index need not be 0 (a sensor whose first packets were lost); BIDS has no
    sample counter, so ``acq_time`` in ``*_scans.tsv`` is the time of that first
    row (``start_utc`` + first index / rate) and stays right in absolute time.
    Lost samples inside the recording are written as ``n/a`` rows.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"sub-{subject}_task-{task}_tracksys-{tracksys}"
    point = tracked_point or {"lower-back": "LowerBack", "foot-left": "LeftFoot", "foot-right": "RightFoot",
                              "thigh-left": "LeftThigh", "thigh-right": "RightThigh", "chest": "Chest"}.get(rec.placement or "", "n/a")
    units = dict(units or {})
    unknown = sorted(set(units) - {"acc", "gyr", "mag"})
    if unknown:
        raise ValueError(f"write_bids units: unknown channel kind(s) {unknown}; expected keys acc, gyr, mag")
    col_units = {c: units.get(c[:3], rec.units[c]) for c in rec.data.columns}
    factors = {c: 1.0 / unit_factor(c[:3], u, where=f"write_bids units[{c[:3]!r}]") for c, u in col_units.items()}
    first = int(rec.data.index[0])
    full = rec.data.reindex(pd.RangeIndex(first, rec.data.index[-1] + 1))
    full = full * pd.Series(factors)
    full.to_csv(folder / f"{stem}_motion.tsv", sep="\t", header=False, index=False, na_rep="n/a", float_format="%.6g")
    types = {"acc": "ACCEL", "gyr": "GYRO", "mag": "MAGN"}
    rows = [
        {"name": f"{point}_{c}", "component": c[-1], "type": types[c[:3]], "tracked_point": point,
         "units": col_units[c], "sampling_frequency": rec.sampling_rate_hz}
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
        first_row_utc = rec.start_utc + timedelta(seconds=first / rec.sampling_rate_hz)
        pd.DataFrame({"filename": [f"motion/{stem}_motion.tsv"], "acq_time": [first_row_utc.strftime("%Y-%m-%dT%H:%M:%S.%f")]}).to_csv(
            folder / f"sub-{subject}_scans.tsv", sep="\t", index=False)
    return folder / f"{stem}_motion.tsv"
