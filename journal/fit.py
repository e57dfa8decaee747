"""Runs from FIT activity files (Garmin, Stryd, Coros, Polar exports).

Decoded with the official ``garmin-fit-sdk``.  One FIT file can hold several
sessions (a triathlon: swim, transitions, bike, run); each *running* session
becomes one :class:`FitRun`.  Values are converted to SI once, here:

=============================  ===================  =======================================
FIT field                      FIT unit             journal
=============================  ===================  =======================================
total_timer_time               s                    ``duration_s`` (pauses excluded)
total_distance                 m                    ``distance_m``
avg/max_heart_rate             bpm                  ``avg_hr_bpm``, ``max_hr_bpm``
avg_running_cadence (+frac.)   strides/min          ``cadence_spm`` = 2 × (cadence + fractional)
avg_vertical_oscillation       mm                   ``vertical_oscillation_m``
avg_stance_time                ms                   ``stance_time_s``
avg_stance_time_balance        % (left foot)        ``stance_time_balance_left_pct``
avg_step_length                mm                   ``step_length_m``
total_strides                  strides              ``steps_n`` = 2 × strides
=============================  ===================  =======================================

When a session lacks a running-dynamics average, the mean of the non-zero
record values within the session is used instead.  Heart rate is read from
the records as recorded (``merge_heart_rates=False``: the SDK would otherwise
overwrite record heart rates with values from ``hr`` messages of a chest
strap's memory, which belongs to swimming).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from journal.errors import FileImportError

RUNNING_SPORTS = ("running",)
#: Sub-sports of other activities a watch may still file under running (a spin class logged as a run): skipped.
OTHER_SUB_SPORTS = frozenset({
    "spin", "indoor_cycling", "road", "mountain", "downhill", "recumbent", "cyclocross", "hand_cycling",
    "track_cycling", "indoor_rowing", "elliptical", "stair_climbing", "lap_swimming", "open_water", "e_bike_fitness",
    "bmx", "gravel_cycling", "e_bike_mountain", "indoor_walking", "casual_walking", "speed_walking"})
#: FIT date_times below 0x10000000 s after the FIT epoch are seconds since the device started, not dates (FIT SDK
#: profile, date_time): a watch whose clock was never set.
FIT_EPOCH = datetime(1989, 12, 31, tzinfo=timezone.utc)
FIT_RELATIVE_BEFORE = FIT_EPOCH + timedelta(seconds=0x10000000)
#: What a runner's watch can report, per FIT session field (outside: a damaged or mis-scaled value, dropped and said).
DYNAMICS_RANGES = {
    "cadence_spm": ("avg_running_cadence", 40.0, 300.0, "steps/min"),
    "vertical_oscillation_m": ("avg_vertical_oscillation", 0.01, 0.30, "m"),
    "stance_time_s": ("avg_stance_time", 0.05, 1.5, "s"),
    "stance_time_balance_left_pct": ("avg_stance_time_balance", 20.0, 80.0, "%"),
    "step_length_m": ("avg_step_length", 0.2, 3.0, "m"),
}
#: A gap between two records longer than this is a pause: its time is not counted in TRIMP.
MAX_RECORD_GAP_S = 60.0


@dataclass(frozen=True)
class FitRun:
    """One running session of a FIT file, in SI units (None where the file has no value)."""

    start_utc: datetime
    duration_s: float
    elapsed_s: float
    distance_m: float | None
    #: Calendar date at the watch's local time (from the activity's local timestamp), if known.
    local_date: date | None
    avg_hr_bpm: float | None = None
    max_hr_bpm: float | None = None
    cadence_spm: float | None = None
    vertical_oscillation_m: float | None = None
    stance_time_s: float | None = None
    stance_time_balance_left_pct: float | None = None
    step_length_m: float | None = None
    steps_n: int | None = None
    sub_sport: str | None = None
    #: Seconds from ``start_utc`` and heart rate (bpm) of each record with a heart rate.
    hr_t_s: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    hr_bpm: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)


@dataclass(frozen=True)
class FitActivity:
    """What a FIT file holds that the journal uses."""

    path: str
    sha256: str
    runs: list[FitRun]
    #: Sports of the sessions that were not runs (reported, not imported).
    skipped_sports: list[str]
    manufacturer: str | None = None
    product: str | None = None
    #: From the watch's user profile / heart-rate zones, if the file has them.
    hr_rest_bpm: float | None = None
    hr_max_bpm: float | None = None
    #: What was off in the file and read anyway (said with the import).
    notes: list[str] = field(default_factory=list)


def _num(value) -> float | None:
    if value is None or isinstance(value, (list, tuple, dict, str)):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _record_mean(records: list[dict], key: str) -> float | None:
    vals = [_num(r.get(key)) for r in records]
    vals = [v for v in vals if v is not None and v > 0]
    return float(np.mean(vals)) if vals else None


def _cadence_spm(session: dict, records: list[dict]) -> float | None:
    c = _num(session.get("avg_running_cadence"))
    if c is None:
        c = _num(session.get("avg_cadence"))
    if c is not None and c > 0:
        return 2.0 * (c + (_num(session.get("avg_fractional_cadence")) or 0.0))
    vals = []
    for r in records:
        rc = _num(r.get("cadence"))
        if rc is not None and rc > 0:
            vals.append(2.0 * (rc + (_num(r.get("fractional_cadence")) or 0.0)))
    return float(np.mean(vals)) if vals else None


def _dynamic(session: dict, records: list[dict], key: str, scale: float) -> float | None:
    v = _num(session.get(f"avg_{key}"))
    if v is None or v <= 0:
        v = _record_mean(records, key)
    return None if v is None else v * scale


def read_fit(path: str | Path) -> FitActivity:
    """Read the running sessions of a FIT file.

    Raises
    ------
    FileImportError
        The file is missing, is not a FIT file, fails its CRC check, cannot be
        decoded completely, or holds no running session.
    """
    from garmin_fit_sdk import Decoder, Stream

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileImportError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    sha = hashlib.sha256(data).hexdigest()
    if len(data) < 12 or data[8:12] != b".FIT":
        raise FileImportError(path, "not a FIT file (no '.FIT' signature in its header)",
                              "export the activity as 'original' FIT from the watch's app")
    # is_fit() consumes its stream (see ECOSYSTEM.md): a fresh stream for each step.
    if not Decoder(Stream.from_byte_array(bytearray(data))).is_fit():
        raise FileImportError(path, "not a FIT file (header not recognised)")
    if not Decoder(Stream.from_byte_array(bytearray(data))).check_integrity():
        header_size, data_size = data[0], int.from_bytes(data[4:8], "little")
        whole = header_size + data_size + 2  # the header, the records, the file's 2-byte CRC
        if len(data) < whole:
            problem = (f"truncated: its header declares {data_size} bytes of records, so {whole} bytes in all, and "
                       f"the file has {len(data)}")
        else:
            problem = (f"damaged: the CRC at bytes {whole - 2}-{whole - 1} does not match its contents (the file "
                       "changed after the watch wrote it)")
        raise FileImportError(path, f"the FIT file is {problem}", "export it again from the watch's app")
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read(
        merge_heart_rates=False, convert_datetimes_to_dates=True)
    if errors:
        raise FileImportError(path, f"the FIT file could not be decoded completely: {errors[0]}",
                              "export it again from the watch's app")
    sessions = messages.get("session_mesgs", [])
    if not sessions:
        raise FileImportError(path, "the FIT file holds no activity session (is it a course or settings file?)")

    file_id = (messages.get("file_id_mesgs") or [{}])[0]
    manufacturer = file_id.get("manufacturer")
    product = file_id.get("garmin_product") or file_id.get("product")
    tz_offset = _local_offset(messages)
    hr_rest, hr_max = _profile_heart_rates(messages)
    notes: list[str] = []
    records = _records_in_time_order(path, messages.get("record_mesgs", []), notes)

    runs: list[FitRun] = []
    skipped: list[str] = []
    for i, s in enumerate(sessions, start=1):
        sport = str(s.get("sport", "unknown"))
        sub = None if s.get("sub_sport") is None else str(s.get("sub_sport"))
        if sport not in RUNNING_SPORTS or sub in OTHER_SUB_SPORTS:
            skipped.append(sport if sport not in RUNNING_SPORTS else f"{sport}/{sub}")
            continue
        runs.append(_session_run(path, s, records, tz_offset, f"session {i}", notes))
    if not runs:
        found = ", ".join(sorted(set(skipped))) or "none"
        raise FileImportError(path, f"no running session in this FIT file (sessions found: {found})",
                              "the journal records runs only")
    return FitActivity(path=str(path), sha256=sha, runs=runs, skipped_sports=skipped,
                       manufacturer=None if manufacturer is None else str(manufacturer),
                       product=None if product is None else str(product),
                       hr_rest_bpm=hr_rest, hr_max_bpm=hr_max, notes=notes)


def _records_in_time_order(path: Path, records: list, notes: list) -> list[dict]:
    """The records with a time, in time order, each time once (the first record of a time kept); a note when the
    file had them otherwise (a time counted twice would count its heart rate twice in TRIMP)."""
    timed = [r for r in records if isinstance(r.get("timestamp"), datetime)]
    backwards = sum(1 for a, b in zip(timed, timed[1:]) if b["timestamp"] < a["timestamp"])
    out, seen = [], set()
    for r in sorted(timed, key=lambda r: r["timestamp"]):  # stable: the first of a time stays first
        if r["timestamp"] not in seen:
            seen.add(r["timestamp"])
            out.append(r)
    repeated = len(timed) - len(out)
    if backwards or repeated:
        notes.append(f"record messages: {backwards} go back in time and {repeated} repeat a time already "
                     "recorded; read in time order, each time once")
    return out


def _session_run(path: Path, s: dict, records: list[dict], tz_offset: timedelta | None, name: str,
                 notes: list) -> FitRun:
    start = s.get("start_time")
    if not isinstance(start, datetime):
        raise FileImportError(path, f"{name}: a running session has no start time")
    if start.tzinfo is None:
        start = start.replace(tzinfo=timezone.utc)
    if start < FIT_RELATIVE_BEFORE:
        raise FileImportError(path, f"{name}: start_time {start:%Y-%m-%d %H:%M} is a time since the watch started "
                              "(a FIT time below 0x10000000), not a date: the watch's clock was not set",
                              "set the watch's clock (or let it find GPS) and record again, or type the run")
    if start > datetime.now(timezone.utc) + timedelta(days=1):
        raise FileImportError(path, f"{name}: start_time {start:%Y-%m-%d %H:%M} UTC is in the future",
                              "check the watch's date")
    timer, elapsed = _num(s.get("total_timer_time")), _num(s.get("total_elapsed_time"))
    if timer is not None and elapsed is not None and timer > elapsed + 1.0:
        notes.append(f"{name}: total_timer_time {timer:.0f} s is longer than total_elapsed_time "
                     f"{elapsed:.0f} s, which cannot be; the elapsed time is taken")
        timer = elapsed
    duration = timer or elapsed
    if duration is None or duration <= 0:
        raise FileImportError(path, f"{name}: running session at {start.isoformat()} has no duration")
    elapsed = elapsed or duration
    distance = _num(s.get("total_distance"))
    if distance is not None and distance <= 0:
        notes.append(f"{name}: total_distance 0 for {duration / 60:.0f} min: taken as unknown (no GPS or "
                     "foot pod), not as 0 km")
        distance = None
    # The session's timestamp is its end; elapsed time can be shorter than the span of its records.
    end = start + timedelta(seconds=elapsed)
    if isinstance(s.get("timestamp"), datetime) and s["timestamp"] > end:
        end = s["timestamp"]
    recs = [r for r in records if start <= r["timestamp"] <= end]
    hr = [(r["timestamp"], _num(r.get("heart_rate"))) for r in recs]
    hr = [(t, h) for t, h in hr if h is not None and h > 0]
    hr_t = np.array([(t - start).total_seconds() for t, _ in hr], dtype=float)
    hr_v = np.array([h for _, h in hr], dtype=float)
    strides = _num(s.get("total_strides"))
    if strides is None and s.get("sport") == "running":
        strides = _num(s.get("total_cycles"))
    avg_hr = _num(s.get("avg_heart_rate"))
    if avg_hr is None and len(hr_v):
        avg_hr = float(np.mean(hr_v))
    max_hr = _num(s.get("max_heart_rate"))
    if max_hr is None and len(hr_v):
        max_hr = float(np.max(hr_v))
    dynamics = {
        "cadence_spm": _cadence_spm(s, recs),
        "vertical_oscillation_m": _dynamic(s, recs, "vertical_oscillation", 1e-3),
        "stance_time_s": _dynamic(s, recs, "stance_time", 1e-3),
        "stance_time_balance_left_pct": _dynamic(s, recs, "stance_time_balance", 1.0),
        "step_length_m": _dynamic(s, recs, "step_length", 1e-3),
    }
    for key, (fit_name, lo, hi, unit) in DYNAMICS_RANGES.items():
        val = dynamics[key]
        if val is not None and not lo <= val <= hi:
            notes.append(f"{name}: {fit_name} reads {val:.4g} {unit}, outside what a runner's watch reports "
                         f"({lo:g}-{hi:g} {unit}); left out")
            dynamics[key] = None
    return FitRun(
        start_utc=start,
        duration_s=float(duration),
        elapsed_s=float(elapsed),
        distance_m=distance,
        local_date=(start + tz_offset).date() if tz_offset is not None else None,
        avg_hr_bpm=avg_hr,
        max_hr_bpm=max_hr,
        **dynamics,
        steps_n=None if strides is None or strides <= 0 else int(round(2 * strides)),
        sub_sport=None if s.get("sub_sport") is None else str(s.get("sub_sport")),
        hr_t_s=hr_t,
        hr_bpm=hr_v,
    )


def _local_offset(messages: dict) -> timedelta | None:
    """Watch local time minus UTC, from the activity message (FIT stores both)."""
    for a in messages.get("activity_mesgs", []):
        ts, local = a.get("timestamp"), a.get("local_timestamp")
        if isinstance(ts, datetime) and local is not None:
            try:
                # local_timestamp is seconds since the FIT epoch (1989-12-31 00:00), in local time.
                fit_epoch = datetime(1989, 12, 31)
                local_dt = fit_epoch + timedelta(seconds=float(local)) if not isinstance(local, datetime) \
                    else local.replace(tzinfo=None)
                offset = local_dt - ts.replace(tzinfo=None)
            except (TypeError, ValueError, OverflowError):
                return None
            # Round to 15 minutes (time zones are multiples of it); refuse nonsense.
            minutes = round(offset.total_seconds() / 900.0) * 15
            if abs(minutes) <= 14 * 60:
                return timedelta(minutes=minutes)
    return None


def _profile_heart_rates(messages: dict) -> tuple[float | None, float | None]:
    rest = maxhr = None
    for m in messages.get("user_profile_mesgs", []):
        rest = rest or _num(m.get("resting_heart_rate"))
    for key in ("zones_target_mesgs", "time_in_zone_mesgs"):
        for m in messages.get(key, []):
            maxhr = maxhr or _num(m.get("max_heart_rate"))
            rest = rest or _num(m.get("resting_heart_rate"))
    return (rest if rest and rest > 0 else None, maxhr if maxhr and maxhr > 0 else None)
