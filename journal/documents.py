"""Documents the journal imports besides FIT: analysis reports and sitting days.

Analysis report (``backstride analyse``)
----------------------------------------
A JSON object with ``"schema": "backstride.analysis/1"`` and the keys
``placement``, ``sampling_rate_hz``, ``steps`` (list), ``bouts`` (list),
``summary`` (object) and ``warnings`` (list), as written by
``analysis.pipeline.Report.to_dict``.  The journal stores ``summary`` as
given, links the recording (``recording.source``), and derives the run's
figures from the *running* steps (``activity == "running"``) when the document
has steps, otherwise from the summary:

=========================  =========================================  ==============================================
journal column             from the running steps                     else from the summary
=========================  =========================================  ==============================================
start                      ``recording.start_utc`` + first running    ``summary.start_utc`` (+ the same); else the
                           bout's ``start_s``                         ``start`` argument
distance_m                 none                                       ``distance_m``
steps_n                    number of running steps (×2 for a shoe     ``running.steps``, ``n_steps``
                           sensor: one row per stride of that foot)
impact_index_mean          mean ``impact_index``                      ``running.median_impact_index``, ``impact_index_mean``
heel_strike_share          rearfoot / (rearfoot + midfoot +           ``strike_share`` (same ratio), ``rearfoot_share``
                           forefoot) of ``strike``
trunk_lean_fwd_deg         mean ``trunk_lean_fwd_deg``                ``running.median_trunk_lean_fwd_deg``
trunk_lean_fwd_drift_deg   ``fatigue[*].metrics.trunk_lean_fwd_deg    ``trunk_lean_fwd_drift_deg``; else median of the
                           .change`` (bouts weighted by length)        last minus the first fifth of running steps
cadence_spm                mean ``cadence_spm``                       ``running.median_cadence_spm``, ``cadence_spm``
=========================  =========================================  ==============================================

``duration_s`` is the summary's ``running.duration_s`` (or ``duration_s``),
else the sum of the running bouts (``end_s − start_s``), else the time span of
the running steps.  ``mechanical_load_au = steps_n × impact_index_mean`` (Σ impact over the running
steps; the impact index is the pipeline's loading-rate indicator, so the unit
is arbitrary).  A shoe sensor gives no impact index: no mechanical load.

Sitting day (all-day recording)
-------------------------------
``{"date": "YYYY-MM-DD", "sitting_s", "bouts_ge_30min", "bouts_ge_2h",
"longest_sitting_s", "breaks_per_sitting_h", "wear_s", "flags": [...]}``.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from analysis.constants import FATIGUE_FRACTION, FOOT_PLACEMENTS, REPORT_SCHEMA
from journal import validate as v
from journal.errors import FileImportError, InvalidValueError

ANALYSIS_KEYS = ("placement", "sampling_rate_hz", "steps", "bouts", "summary", "warnings")
DAY_KEYS = ("date", "sitting_s", "bouts_ge_30min", "bouts_ge_2h", "longest_sitting_s", "wear_s")
#: A day with a clock change has 25 h.
MAX_DAY_S = 25 * 3600.0
#: What an analysis document's run figures can be (beyond them the file was edited or broken, never measured):
#: (low, high, unit) per run column.  Cadence: no running or walking below 30 or above 300 steps/min; the impact
#: index is a loading rate (g/s, about 50 on the trunk); a forward lean or its drift past ±90° is lying down.
RUN_FIELD_RANGES = {"cadence_spm": (30.0, 300.0, "steps/min"), "impact_index_mean": (0.0, 5000.0, "g/s"),
                    "trunk_lean_fwd_deg": (-90.0, 90.0, "°"), "trunk_lean_fwd_drift_deg": (-90.0, 90.0, "°")}
#: A run of 48 h at 300 steps/min.
MAX_STEPS = 864_000


def content_hash(data: bytes | dict | list) -> str:
    """SHA-256 of a file's bytes, or of a document's canonical JSON."""
    if isinstance(data, (bytes, bytearray)):
        return hashlib.sha256(data).hexdigest()
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def load_json(path: str | Path) -> tuple[Any, bytes]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileImportError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        return json.loads(raw.decode("utf-8")), raw
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileImportError(path, f"not valid JSON ({exc})") from exc
    except RecursionError:
        raise FileImportError(path, "JSON nested deeper than any report or day file") from None


def is_analysis(doc: Any) -> bool:
    return isinstance(doc, dict) and "schema" in doc and str(doc.get("schema", "")).startswith("backstride.analysis/")


def is_day(doc: Any) -> bool:
    return isinstance(doc, dict) and "date" in doc and "sitting_s" in doc


# ----------------------------------------------------------------------------
# Analysis reports


def check_analysis(doc: Any, source: str = "<dict>") -> None:
    """Raise :class:`FileImportError` unless ``doc`` is a ``backstride.analysis/1`` document."""
    if not isinstance(doc, dict):
        raise FileImportError(source, f"expected an analysis document (a JSON object), got {type(doc).__name__}")
    schema = doc.get("schema")
    if schema != REPORT_SCHEMA:
        raise FileImportError(source, f"schema is {schema!r}, expected {REPORT_SCHEMA!r}",
                              "re-run 'backstride analyse' with this version of backstride")
    missing = [k for k in ANALYSIS_KEYS if k not in doc]
    if missing:
        raise FileImportError(source, "analysis document lacks " + ", ".join(missing))
    for k, t in (("steps", list), ("bouts", list), ("summary", dict), ("warnings", list)):
        if not isinstance(doc[k], t):
            raise FileImportError(source, f"'{k}' is a {type(doc[k]).__name__}, expected a {t.__name__}")


def summary_number(x) -> float | None:
    """A finite number from an analysis document's field: the value itself, or a summary dict's mean, value or
    median; None for anything else (missing, text, NaN, a bool)."""
    if isinstance(x, dict):
        for k in ("mean", "value", "median"):
            if k in x:
                return summary_number(x[k])
        return None
    if isinstance(x, bool) or x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _first(summary: dict, *paths: str) -> float | None:
    for p in paths:
        node: Any = summary
        for part in p.split("."):
            if not isinstance(node, dict) or part not in node:
                node = None
                break
            node = node[part]
        val = summary_number(node)
        if val is not None:
            return val
    return None


def _step_values(steps: list, key: str) -> np.ndarray:
    vals = [summary_number(s.get(key)) for s in steps if isinstance(s, dict)]
    return np.array([x for x in vals if x is not None], dtype=float)


#: A running bout this long or longer can start a run (:func:`analysis_start`).
RUN_START_MIN_BOUT_S = 60.0


def analysis_start(doc: dict) -> datetime | None:
    """When the run began: the recording's start (``recording.start_utc``, else ``summary.start_utc`` or
    ``start_utc``) plus the ``start_s`` of the first running bout of a minute or more, else of the longest (an
    all-day recording's run begins hours after the recording does; a run-only recording's a few seconds after)."""
    t0 = recording_start(doc)
    if t0 is None:
        return None
    bouts = [(summary_number(b.get("start_s")), summary_number(b.get("end_s"))) for b in doc.get("bouts") or []
             if isinstance(b, dict) and b.get("activity", "running") == "running"]
    bouts = sorted((a, (e if e is not None else a) - a) for a, e in bouts if a is not None and a >= 0)
    if not bouts:
        return t0
    # the first bout of a minute or more: a dash for the bus before the run is not its start; else the longest
    first = next((a for a, length in bouts if length >= RUN_START_MIN_BOUT_S), max(bouts, key=lambda b: b[1])[0])
    return t0 + timedelta(seconds=first)


def recording_start(doc: dict) -> datetime | None:
    """The recording's start (``recording.start_utc``, else ``summary.start_utc`` or ``start_utc``)."""
    for node in (doc.get("recording") or {}, doc.get("summary", {}), doc):
        s = node.get("start_utc") if isinstance(node, dict) else None
        if isinstance(s, str):
            try:
                t = datetime.fromisoformat(s.replace("Z", "+00:00"))
            except ValueError:
                continue
            if t.tzinfo is None:
                t = t.replace(tzinfo=timezone.utc)
            return t
    return None


def _running_steps(steps: list) -> list[dict]:
    rows = [s for s in steps if isinstance(s, dict)]
    if any("activity" in s for s in rows):
        return [s for s in rows if s.get("activity") == "running"]
    return rows


def _mean(rows: list[dict], key: str) -> float | None:
    vals = [summary_number(r.get(key)) for r in rows]
    vals = [x for x in vals if x is not None]
    return float(np.mean(vals)) if vals else None


def _rearfoot_share(counts: dict) -> float | None:
    """Rearfoot share among classified steps (rearfoot, midfoot, forefoot; indeterminate left out)."""
    r, m, f = (summary_number(counts.get(k)) or 0.0 for k in ("rearfoot", "midfoot", "forefoot"))
    return r / (r + m + f) if (r + m + f) > 0 else None


def _fatigue_drift(fatigue: Any, metric: str) -> float | None:
    """Late − early change of ``metric``: mean over running bouts weighted by their length."""
    if isinstance(fatigue, dict):
        return _first(fatigue, f"{metric}.change")
    if not isinstance(fatigue, list):
        return None
    num = den = 0.0
    for b in fatigue:
        if not isinstance(b, dict):
            continue
        change = _first(b, f"metrics.{metric}.change")
        if change is None:
            continue
        w = (summary_number(b.get("end_s")) or 0.0) - (summary_number(b.get("start_s")) or 0.0)
        w = w if w > 0 else 1.0
        num += w * change
        den += w
    return num / den if den else None


def analysis_run_fields(doc: dict, source: str = "<dict>") -> dict[str, Any]:
    """The run columns an analysis document gives (see the module docstring); None where absent."""
    summary: dict = doc["summary"]
    run_summary = summary.get("running") if isinstance(summary.get("running"), dict) else {}
    steps = _running_steps(doc["steps"])
    # A shoe sensor gives one row per stride of that foot: two steps each.
    per_row = 2 if doc.get("placement") in FOOT_PLACEMENTS else 1
    out: dict[str, Any] = {}

    duration = _first(run_summary, "duration_s") if run_summary else None
    if duration is None:
        duration = _first(summary, "running_duration_s", "duration_s")
    if duration is None:
        bouts = [b for b in doc["bouts"] if isinstance(b, dict) and b.get("activity", "running") == "running"]
        spans = [(summary_number(b.get("end_s")) or 0.0) - (summary_number(b.get("start_s")) or 0.0) for b in bouts]
        spans = [x for x in spans if x > 0]
        if spans:
            duration = float(sum(spans))
    if duration is None:
        t = [x for x in (summary_number(s.get("ic_s", s.get("t_s"))) for s in steps) if x is not None]
        if len(t) >= 2:
            duration = float(max(t) - min(t))
    out["duration_s"] = duration
    out["distance_m"] = _first(summary, "distance_m")
    # the span the recording covers (its running can be shorter): whether it covers a watch's whole run
    rec_meta = doc.get("recording") if isinstance(doc.get("recording"), dict) else {}
    out["recording_span_s"] = _first(rec_meta, "duration_s")

    if steps:
        n = len(steps) * per_row
    elif run_summary and _first(run_summary, "steps") is not None:
        n = _first(run_summary, "steps") * per_row
    else:
        n = _first(summary, "n_steps", "steps_n", "step_count")
    if n:
        v.number("steps", n, lo=0, hi=MAX_STEPS)
    out["steps_n"] = int(round(n)) if n else None

    impact = _mean(steps, "impact_index")
    if impact is None:
        impact = _first(run_summary, "median_impact_index") if run_summary else None
    if impact is None:
        impact = _first(summary, "impact_index_mean", "impact_index")
    out["impact_index_mean"] = impact
    out["mechanical_load_au"] = (out["steps_n"] * impact) if (impact is not None and out["steps_n"]) else None

    labels = [s.get("strike") for s in steps if s.get("strike") in ("rearfoot", "midfoot", "forefoot")]
    heel = (sum(lab == "rearfoot" for lab in labels) / len(labels)) if labels else None
    if heel is None and isinstance(summary.get("strike_share"), dict):
        heel = _rearfoot_share(summary["strike_share"])
    if heel is None:
        heel = _first(summary, "rearfoot_share", "heel_strike_share")
    out["heel_strike_share"] = heel

    lean = _mean(steps, "trunk_lean_fwd_deg")
    if lean is None:
        lean = _first(run_summary, "median_trunk_lean_fwd_deg") if run_summary else None
    if lean is None:
        lean = _first(summary, "trunk_lean_fwd_deg")
    out["trunk_lean_fwd_deg"] = lean

    drift = _fatigue_drift(summary.get("fatigue"), "trunk_lean_fwd_deg")
    if drift is None:
        drift = _first(summary, "trunk_lean_fwd_drift_deg")
    lean_steps = [x for x in (summary_number(s.get("trunk_lean_fwd_deg")) for s in steps) if x is not None]
    if drift is None and len(lean_steps) >= 20:
        k = max(1, int(round(len(lean_steps) * FATIGUE_FRACTION)))
        drift = float(np.median(lean_steps[-k:]) - np.median(lean_steps[:k]))
    out["trunk_lean_fwd_drift_deg"] = drift

    cad = _mean(steps, "cadence_spm")
    if cad is None:
        cad = _first(run_summary, "median_cadence_spm") if run_summary else None
    if cad is None:
        cad = _first(summary, "cadence_spm")
    out["cadence_spm"] = cad

    if out["heel_strike_share"] is not None:
        v.number("heel strike share (summary.rearfoot_share)", out["heel_strike_share"], lo=0, hi=1)
    for name, (lo, hi, unit) in RUN_FIELD_RANGES.items():
        if out[name] is not None:
            v.number(name, out[name], lo=lo, hi=hi, unit=unit)
    return out


def analysis_recording_path(doc: dict) -> str | None:
    rec = doc.get("recording")
    if isinstance(rec, dict) and isinstance(rec.get("source"), str):
        return rec["source"]
    if isinstance(rec, dict) and isinstance(rec.get("path"), str):
        return rec["path"]
    p = doc.get("recording_path")
    return p if isinstance(p, str) else None


# ----------------------------------------------------------------------------
# Sitting days


def unmeasured_day(doc: Any) -> bool:
    """A day the analysis could not measure: worn too little (``"insufficient-wear"``, under 10 h), so its
    ``sitting_s`` is null (:mod:`analysis.days`).  The journal does not store it: a short recording's day is not a
    day of sitting."""
    return isinstance(doc, dict) and doc.get("sitting_s") is None and "insufficient-wear" in (doc.get("flags") or [])


def measured_days(days: list, source: str = "<dict>") -> tuple[list[dict], str]:
    """The checked days of ``days`` that were measured, and a note naming those left out that were worn an hour or
    more (empty when none)."""
    kept = [check_day(x, source) for x in days if not unmeasured_day(x)]
    # a run-only recording's few minutes are no day anyone expected: only days worn an hour or more are named
    left = [str(x.get("date")) for x in days if unmeasured_day(x) and (summary_number(x.get("wear_s")) or 0.0) >= 3600.0]
    note = (f"day{'s' if len(left) > 1 else ''} {', '.join(left)} not stored: worn too little to measure sitting"
            if left else "")
    return kept, note


def check_day(doc: Any, source: str = "<dict>") -> dict[str, Any]:
    """A validated, cleaned sitting-day summary, or :class:`InvalidValueError` naming the day (its file is named by
    the import that read it)."""
    try:
        return _check_day(doc, source)
    except InvalidValueError as exc:
        day = doc.get("date") if isinstance(doc, dict) else None
        raise InvalidValueError(f"day {day}: {exc.field}", exc.value, exc.expected, exc.hint) from exc


def _check_day(doc: Any, source: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise FileImportError(source, f"expected a sitting-day object, got {type(doc).__name__}")
    missing = [k for k in DAY_KEYS if k not in doc]
    if missing:
        raise FileImportError(source, "sitting-day summary lacks " + ", ".join(missing),
                              "expected keys: " + ", ".join(DAY_KEYS) + ", breaks_per_sitting_h, flags")
    d = {
        "date": v.day("date", doc["date"]),
        "wear_s": v.number("wear_s", doc["wear_s"], lo=0, hi=MAX_DAY_S, unit="s"),
        "sitting_s": v.number("sitting_s", doc["sitting_s"], lo=0, hi=MAX_DAY_S, unit="s"),
        "bouts_ge_30min": v.integer("bouts_ge_30min", doc["bouts_ge_30min"], lo=0, hi=48),
        "bouts_ge_2h": v.integer("bouts_ge_2h", doc["bouts_ge_2h"], lo=0, hi=12),
        "longest_sitting_s": v.number("longest_sitting_s", doc["longest_sitting_s"], lo=0, hi=MAX_DAY_S, unit="s"),
        "breaks_per_sitting_h": v.number("breaks_per_sitting_h", doc.get("breaks_per_sitting_h"), lo=0, hi=3600,
                                         optional=True),
    }
    if d["sitting_s"] > d["wear_s"]:
        raise InvalidValueError("sitting_s", doc["sitting_s"], f"at most wear_s ({d['wear_s']:g} s)")
    if d["bouts_ge_2h"] > d["bouts_ge_30min"]:
        raise InvalidValueError("bouts_ge_2h", doc["bouts_ge_2h"], f"at most bouts_ge_30min ({d['bouts_ge_30min']})")
    # a bout counts on the day it starts, at its whole length (analysis.days), while sitting_s is the day's own:
    # the longest bout and the counts agree with each other, not with sitting_s (1 s of slack for rounding)
    for count, length_s in (("bouts_ge_30min", 1800.0), ("bouts_ge_2h", 7200.0)):
        if d[count] > 0 and d["longest_sitting_s"] < length_s - 1.0:
            raise InvalidValueError("longest_sitting_s", doc["longest_sitting_s"],
                                    f"at least {length_s:g} s with {count} {d[count]}")
        if d[count] == 0 and d["longest_sitting_s"] >= length_s + 1.0:
            raise InvalidValueError(count, doc[count], f"at least 1 with longest_sitting_s {d['longest_sitting_s']:g} s")
    if d["date"] > date.today() + timedelta(days=1):
        raise InvalidValueError("date", str(d["date"]), "a day that has begun somewhere on Earth",
                                "was the sensor's clock set?")
    if d["date"] < v.EARLIEST_DATE:
        raise InvalidValueError("date", str(d["date"]), f"a day from {v.EARLIEST_DATE} on")
    flags = doc.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise InvalidValueError("flags", flags, "a list of texts")
    d["flags"] = list(flags)
    return d
