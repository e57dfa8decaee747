"""``backstride analyse PATH [--placement P] [--json OUT]``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np

from analysis.activity_constants import MIN_WEAR_DAY_S
from analysis.constants import FATIGUE_MIN_FLAG_BOUT_S, FOOT_PLACEMENTS, METRIC_DISPLAY, PLACEMENTS


def placement_arg(value: str) -> str:
    """A placement as the command line gives it: ours (``lower-back``) or a name of that very place (LowerBack, L5,
    pelvis, left_foot, RightFoot, ...), as BIDS-Motion tracked points name them.  A neighbouring place (a waist,
    a hip, an ankle, the trunk) is not taken for it silently: the error names the placement it is near."""
    from sensing.bids import placement_rank

    guess, rank = placement_rank(value)  # our own names are rank 0 too
    if guess in PLACEMENTS and rank == 0:
        return guess
    near = f" ({value!r} is next to {guess}: give --placement {guess} to read it as one)" if guess in PLACEMENTS else ""
    raise argparse.ArgumentTypeError(f"unknown placement {value!r}: expected one of {', '.join(PLACEMENTS)}{near}")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyse", aliases=["analyze"], help="analyse a recording of walking or running",
                       description="Turn a recording (backstride .parquet or BIDS-Motion *_motion.tsv) into per-step running form.")
    p.add_argument("path", help="recording file (or a BIDS folder holding one *_motion.tsv)")
    p.add_argument("--placement", type=placement_arg, metavar="P",
                   help=f"where the sensor was worn, one of {', '.join(PLACEMENTS)} (or a common name for one: "
                        "LowerBack, L5, pelvis, LeftFoot, right_foot, ...); overrides the file's metadata")
    p.add_argument("--json", metavar="OUT", help="write the analysis document (schema backstride.analysis/1) here; '-' for stdout")
    p.add_argument("--nan-as-gap", action="store_true",
                   help="accepted and ignored (kept for scripts that pass it): a BIDS-Motion row that is n/a in every "
                        "channel is always read as a lost sample, n/a being BIDS's own mark of a missing value")
    p.add_argument("--quiet", action="store_true", help="print no readable report")
    p.add_argument("--timezone", metavar="TZ", help="IANA time zone for the per-day summaries (default: the "
                   "recording's extra.time_zone, else UTC)")
    p.add_argument("--min-posture-s", type=float, default=None, metavar="S",
                   help="minimum posture duration for sitting bouts (default 10 s, as activPAL)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.pipeline import analyse
    from sensing.bids import BidsWarning
    from sensing.formats import open_recording
    from sensing.recording import RecordingError

    problem = _json_target_problem(args.json)
    if problem:  # said before the analysis, not after it
        print(f"backstride analyse: --json {args.json}: {problem}", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BidsWarning)  # listed with the report's warnings instead
            # a BIDS file's all-n/a rows are samples the recorder declared missing (MissingValues; write_bids
            # writes gaps so): lost samples, reported in the warnings; a row missing only some channels is an error
            rec = open_recording(args.path, placement=args.placement)
        placement = args.placement or rec.placement
        doc, text = analyse_document(rec, placement, timezone=getattr(args, "timezone", None),
                                     min_posture_s=getattr(args, "min_posture_s", None),
                                     progress=sys.stderr.isatty() and not args.quiet, analyse=analyse)
    except (RecordingError, ValueError) as exc:
        print(f"backstride analyse: {exc}", file=sys.stderr)
        return 2
    file_warnings = list((rec.extra or {}).get("warnings", []))  # how the file was off its format, read anyway
    if file_warnings:  # the document has them already (analysis.document.full_analysis); the text says them too
        text += "\n" + "\n".join(f"warning: {w}" for w in file_warnings)
    out = json.dumps(doc, indent=1, allow_nan=False)
    if args.json == "-":
        try:
            print(out)
            sys.stdout.flush()
        except BrokenPipeError:  # `--json - | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            return 0
    elif args.json:
        try:
            Path(args.json).write_text(out)
        except OSError as exc:
            print(f"backstride analyse: --json {args.json}: could not write the document ({exc.strerror or exc})",
                  file=sys.stderr)
            return 2
    if not args.quiet and args.json != "-":
        print(text)
    return 0


def _json_target_problem(target: str | None) -> str | None:
    """Why the ``--json`` file cannot be written (None when it can, or when there is none or it is stdout)."""
    if not target or target == "-":
        return None
    p = Path(target)
    if p.is_dir():
        return "is a folder; give a file name such as run.json"
    if not p.parent.is_dir():
        return f"its folder {p.parent} does not exist"
    if not os.access(p.parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        return "cannot be written here (permission denied)"
    return None


def analyse_document(rec, placement: str | None, *, timezone: str | None = None, min_posture_s: float | None = None,
                     progress: bool = False, analyse=None) -> tuple[dict, str]:
    """The JSON document and the readable text of ``backstride analyse`` (:func:`analysis.document.full_analysis`)."""
    from analysis.document import full_analysis

    fa = full_analysis(rec, placement, timezone=timezone, min_posture_s=min_posture_s, progress=progress,
                       analyse=analyse)
    if fa.report is not None:
        text = render_text(fa.report, tz=fa.time_zone)
    else:
        text = (f"backstride analysis — {rec.source or 'recording'}\nplacement {fa.doc['placement']}, "
                f"{rec.sampling_rate_hz:g} Hz, {duration_text(rec.duration_s)}")
    if fa.activity is not None:
        text += "\n" + render_activity_text(fa.activity, fa.days)
    return fa.doc, text




def render_activity_text(res, days) -> str:
    lines = ["", "day activity:"]
    tot = {}
    for r in res.activities.itertuples():
        tot[r.activity] = tot.get(r.activity, 0.0) + r.end_s - r.start_s
    lines.append("  " + ", ".join(f"{k} {v / 60:.0f} min" for k, v in sorted(tot.items(), key=lambda kv: -kv[1])))
    lines.append(f"  {len(res.transitions)} sit/stand transitions; {len(res.sitting_bouts)} sitting bouts "
                 f"(minimum posture {res.min_posture_s:g} s)")
    for d in days:
        sit = d["sitting_s"]
        if "insufficient-wear" in d["flags"]:  # (a run's recording: no day's sitting to speak of, not an alarm)
            lines.append(f"  {d['date'] or 'day'}: worn {d['wear_s'] / 3600:.1f} h, too little for the day's sitting "
                         f"figures (they need {MIN_WEAR_DAY_S / 3600:g} h)"
                         + (f"; FLAGS: {', '.join(f for f in d['flags'] if f != 'insufficient-wear')}"
                            if len(d["flags"]) > 1 else ""))
            continue
        lines.append(f"  {d['date'] or 'day'}: sitting {'–' if sit is None else f'{sit / 3600:.1f} h'}, "
                     f"longest {d['longest_sitting_s'] / 60:.0f} min, bouts ≥30 min {d['bouts_ge_30min']}, "
                     f"≥2 h {d['bouts_ge_2h']}, wear {d['wear_s'] / 3600:.1f} h"
                     + (f"  FLAGS: {', '.join(d['flags'])}" if d["flags"] else ""))
    if res.slump:
        lines.append(f"  slumped sitting {res.slump['slumped_s'] / 60:.0f} min of {res.slump['sitting_s'] / 60:.0f} min")
    lines.extend(f"warning: {w}" for w in res.warnings)
    return "\n".join(lines)


def _metric_name(column: str) -> str:
    return METRIC_DISPLAY.get(column, (column,))[0]


def _fmt_metric(column: str, v) -> str:
    _, unit, scale, digits = METRIC_DISPLAY.get(column, (column, "", 1.0, 3))
    return _fmt(v, unit if unit in ("", "°") else " " + unit, digits, scale)


def _zone_label(start: pd.Timestamp, bouts) -> str:
    """The clock times' zone as the bouts header names it: its abbreviation (CET), or its name when the bouts
    cross a change of summer time (CET and CEST both occur)."""
    import pandas as pd

    ends = [start + pd.Timedelta(seconds=float(x)) for x in [*bouts["start_s"], *bouts["end_s"]]]
    names = {t.tzname() for t in [start, *ends]}
    return start.tzname() if len(names) == 1 else f"{start.tz} ({', '.join(sorted(names))})"


def _fmt(v, unit="", digits=1, scale=1.0):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return f"{round(v * scale, digits) + 0.0:.{digits}f}{unit}"  # (+ 0.0: never "-0.0")


def duration_text(seconds: float) -> str:
    """373 s as "6 min 13 s", 37118 s as "10 h 19 min"; under two minutes in seconds."""
    seconds = round(float(seconds or 0.0))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min"


def render_text(report, tz: str = "UTC") -> str:
    """A readable report for the terminal; clock times in the IANA time zone ``tz`` when the recording has a start."""
    import pandas as pd

    s = report.summary
    rec = report.recording
    start = pd.Timestamp(rec["start_utc"]).tz_convert(tz) if rec.get("start_utc") else None
    started = ""
    if start is not None:
        started = f", started {start:%Y-%m-%d %H:%M:%S} {start.tzname()}" + (
            f" ({start.tz_convert('UTC'):%H:%M:%S} UTC)" if start.utcoffset() else "")
    lines = [
        f"backstride analysis — {rec.get('source') or 'recording'}",
        f"placement {report.placement}, {report.sampling_rate_hz:g} Hz, {duration_text(rec.get('duration_s', 0))}"
        + started,
        "",
    ]
    # a shoe sensor sees one foot: each of its rows is a stride of that foot (two steps; cadence counts both)
    unit = "strides of this foot" if report.placement in FOOT_PLACEMENTS else "steps"
    if len(report.bouts):
        zone_name = None if start is None else _zone_label(start, report.bouts)
        lines.append("bouts:" + (f" (clock times {zone_name}; seconds from the start)" if start is not None
                                 else " (seconds from the start)"))

        def clock_text(t_s: float) -> str:  # the date too once the recording has passed midnight
            # rounded in UTC: a local time in the hour the clocks repeat cannot be rounded (which pass?)
            t = (start.tz_convert("UTC") + pd.Timedelta(seconds=t_s)).round("s").tz_convert(start.tz)
            return f"{t:%H:%M:%S}" if t.date() == start.date() else f"{t:%Y-%m-%d %H:%M:%S}"

        for b in report.bouts.itertuples():
            clock = "" if start is None else f"{clock_text(b.start_s)} – {clock_text(b.end_s)}  "
            lines.append(f"  {b.activity:8s} {clock}{b.start_s:8.1f} – {b.end_s:8.1f} s  ({b.steps} {unit})")
        lines.append("")
    for act in ("running", "walking"):
        a = s.get(act)
        if not a:
            continue
        lines.append(f"{act}: {a['steps']} {unit}")
        rows = [
            ("cadence", _fmt(a.get("median_cadence_spm"), " steps/min", 0)),
            ("contact time", _fmt(a.get("median_contact_time_s"), " ms", 0, 1000)),
            ("flight time", _fmt(a.get("median_flight_time_s"), " ms", 0, 1000)),
            ("vertical oscillation", _fmt(a.get("median_vertical_oscillation_m"), " cm", 1, 100)),
            ("impact index (indicator)", _fmt(a.get("median_impact_index"), " g/s", 0)),
            ("trunk lean forward", _fmt(a.get("median_trunk_lean_fwd_deg"), "°")),
            ("trunk lean sideways (+left)", _fmt(a.get("median_trunk_lean_side_deg"), "°")),
            ("trunk sway per stride", _fmt(a.get("median_trunk_sway_side_deg"), "°")),
            ("foot-strike angle", _fmt(a.get("median_strike_angle_deg"), "°")),
        ]
        for name, val in rows:
            if val != "–":
                lines.append(f"  {name:28s} {val}")
        lines.append("")
    if "strike_share" in s:
        share = ", ".join(f"{k} {v * 100:.0f} %" for k, v in s["strike_share"].items() if v > 0)
        lines.append(f"foot strike: {share}")
    asym = s.get("asymmetry") or {}
    if asym:
        lines.append("left/right symmetry index (running): " + ", ".join(
            f"{_metric_name(m)} {round(v['symmetry_index_pct'], 1) + 0.0:+.1f} %" for m, v in asym.items()))
    for f in s.get("fatigue", []):
        flagged = ", ".join(
            f"{_metric_name(m)} {_fmt_metric(m, v['early'])} → {_fmt_metric(m, v['late'])}"
            for m, v in f["metrics"].items() if v["flagged"])
        lines.append(f"form under fatigue, running bout {f['bout'] + 1} ({f['start_s']:.0f}–{f['end_s']:.0f} s): "
                     + (f"FLAG {flagged}" if flagged else
                        f"not flagged: shorter than {FATIGUE_MIN_FLAG_BOUT_S:.0f} s, a start and a stop"
                        if f.get("too_short_to_flag") else "no change beyond the thresholds"))
    if report.warnings:
        lines.append("")
        lines.extend(f"warning: {w}" for w in report.warnings)
    return "\n".join(lines)
