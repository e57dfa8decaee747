"""The whole analysis of one recording as one document: running form and, where the placement allows, the day.

:func:`full_analysis` is what ``backstride analyse --json`` writes, what
``backstride import RECORDING`` stores and what the dashboard's upload and
demo store: running form (:func:`analysis.pipeline.analyse`) for lower-back,
chest and shoe sensors; for lower-back and thigh sensors also the all-day
activity (``activities``, ``transitions``, ``days``, ``sitting``), with the
walking/running seconds taken from the running analysis where it ran and, for
a lower-back sensor, walking bouts assembled from its steps
(:func:`analysis.activity.apply_gait_report`).  One function, so a recording
imported directly keeps its sitting days as its ``--json`` document does.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.jsonable import jsonable

#: Postures a placement cannot tell apart (said in every report).
CANNOT_SEPARATE = {
    "lower-back": "sitting vs standing rests mostly on the sit-to-stand / stand-to-sit movements (the pelvis "
                  "rises or drops) and partly on the pelvis tilting back when sitting; someone who sits with an "
                  "upright pelvis and was not seen sitting down (e.g. after lying, or at the start of the "
                  "recording) is reported standing. Lying is reliable.",
    "thigh-left": "sitting and lying both put the thigh horizontal: lying is reported as sitting.",
    "thigh-right": "sitting and lying both put the thigh horizontal: lying is reported as sitting.",
}


@dataclass
class FullAnalysis:
    """``doc``: the ``backstride.analysis/1`` document; ``report``: the running-form report (None for a thigh
    sensor); ``activity`` and ``days``: the all-day activity and its per-day summaries (None / [] where the
    placement gives none)."""

    doc: dict
    report: object | None
    activity: object | None
    days: list
    #: The IANA zone of its clock times and days (``timezone``, else the recording's own when it is one, else the
    #: runner's, else UTC).
    time_zone: str = "UTC"


def full_analysis(rec, placement: str | None = None, *, timezone: str | None = None,
                  fallback_timezone: str | None = None, min_posture_s: float | None = None, progress: bool = False,
                  analyse=None) -> FullAnalysis:
    """Analyse ``rec`` worn at ``placement`` (default: the recording's own); days in ``timezone`` (IANA name;
    default the recording's ``extra["time_zone"]``, else ``fallback_timezone`` (the runner's), else UTC).
    ``ValueError`` when the placement is unknown."""
    from analysis import activity_constants as AK
    from analysis.activity import ACTIVITY_PLACEMENTS, activity_from_recording, apply_gait_report
    from analysis.days import day_summaries, known_zone

    if analyse is None:
        from analysis.pipeline import analyse
    placement = placement or rec.placement
    if placement is None:
        raise ValueError(f"{rec.source or 'recording'}: placement unknown; give --placement "
                         "(lower-back, thigh-left, thigh-right, foot-left, foot-right, chest)")
    report = None
    if placement not in ("thigh-left", "thigh-right"):
        report = analyse(rec, placement=placement)
        doc = report.to_dict()
    else:
        from analysis.constants import REPORT_SCHEMA
        from analysis.pipeline import VERSION

        meta = rec.metadata()
        meta.pop("extra", None)
        meta["source"] = rec.source
        meta["duration_s"] = rec.duration_s
        doc = {"schema": REPORT_SCHEMA, "generator": {"name": "backstride", "version": VERSION}, "placement": placement,
               "sampling_rate_hz": rec.sampling_rate_hz, "recording": meta, "steps": [], "bouts": [], "summary": {},
               "warnings": ["running form needs a lower-back, chest or shoe sensor; a thigh sensor gives activity and posture only"]}
    # how the file was off its format, read anyway (its reader's notes): first, in every caller's document
    doc["warnings"] = list((rec.extra or {}).get("warnings", [])) + list(doc.get("warnings", []))
    own = (rec.extra or {}).get("time_zone")
    if not timezone and own and known_zone(own) is None:  # the runner's zone (or UTC), said, as the Day page does
        doc["warnings"].append(f"{rec.source or 'recording'}: extra.time_zone {own!r} is not a time zone; clock "
                               f"times and days are given in {fallback_timezone or 'UTC'}")
        own = None
    tz = timezone or own or fallback_timezone or "UTC"
    if placement not in ACTIVITY_PLACEMENTS:
        return FullAnalysis(doc=doc, report=report, activity=None, days=[], time_zone=tz)
    mp = AK.MIN_POSTURE_S if min_posture_s is None else float(min_posture_s)
    res = activity_from_recording(rec, placement, min_posture_s=mp, progress=progress)
    if report is not None and placement == "lower-back":
        # walking vs running from the step detector, and walking bouts the
        # intensity rule missed (Mobilise-D rules on the detected steps)
        res = apply_gait_report(res, report.bouts, report.steps)
    days = day_summaries(res, rec.start_utc, tz)
    doc["activities"] = res.activities_json()
    doc["transitions"] = res.transitions_json()
    doc["days"] = days
    doc["sitting"] = {
        "min_posture_s": mp,
        "bouts": [{"start_s": round(float(b.start_s), 3), "end_s": round(float(b.end_s), 3),
                   "duration_s": round(float(b.duration_s), 3), "ended_by": b.ended_by}
                  for b in res.sitting_bouts.itertuples()],
        "breaks_by_min_posture_s": res.breaks_by_min_posture_s,
        "slump": res.slump,
        "events": res.events,
        "mounts": [{"start_s": m.start_s, "end_s": m.end_s, "up_sensor": m.up_sensor, "source": m.source}
                   for m in res.mounts],
        "cannot_separate": CANNOT_SEPARATE[placement],
    }
    doc["warnings"] = list(doc.get("warnings", [])) + res.warnings
    return FullAnalysis(doc=jsonable(doc), report=report, activity=res, days=days, time_zone=tz)
