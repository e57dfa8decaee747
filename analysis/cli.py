"""``backstride analyse PATH [--placement P] [--json OUT]``."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from analysis.constants import PLACEMENTS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyse", aliases=["analyze"], help="analyse a recording of walking or running",
                       description="Turn a recording (backstride .parquet or BIDS-Motion *_motion.tsv) into per-step running form.")
    p.add_argument("path", help="recording file (or a BIDS folder holding one *_motion.tsv)")
    p.add_argument("--placement", choices=PLACEMENTS, help="where the sensor was worn (overrides the file's metadata)")
    p.add_argument("--json", metavar="OUT", help="write the analysis document (schema backstride.analysis/1) here; '-' for stdout")
    p.add_argument("--nan-as-gap", action="store_true", help="treat rows that are n/a in every channel as lost samples")
    p.add_argument("--quiet", action="store_true", help="print no readable report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analysis.pipeline import analyse
    from sensing.formats import open_recording
    from sensing.recording import RecordingError

    try:
        rec = open_recording(args.path, placement=args.placement, nan_as_gap=args.nan_as_gap)
        report = analyse(rec, placement=args.placement)
    except (RecordingError, ValueError) as exc:
        print(f"backstride analyse: {exc}", file=sys.stderr)
        return 2
    if args.json == "-":
        print(report.to_json())
    elif args.json:
        report.to_json(args.json)
    if not args.quiet and args.json != "-":
        print(render_text(report))
    return 0


def _fmt(v, unit="", digits=1, scale=1.0):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    return f"{v * scale:.{digits}f}{unit}"


def render_text(report) -> str:
    """A readable report for the terminal."""
    s = report.summary
    rec = report.recording
    lines = [
        f"backstride analysis — {rec.get('source') or 'recording'}",
        f"placement {report.placement}, {report.sampling_rate_hz:g} Hz, {rec.get('duration_s', 0):.0f} s"
        + (f", started {rec['start_utc']}" if rec.get("start_utc") else ""),
        "",
    ]
    if len(report.bouts):
        lines.append("bouts:")
        for b in report.bouts.itertuples():
            lines.append(f"  {b.activity:8s} {b.start_s:8.1f} – {b.end_s:8.1f} s  ({b.steps} steps)")
        lines.append("")
    for act in ("running", "walking"):
        a = s.get(act)
        if not a:
            continue
        lines.append(f"{act}: {a['steps']} steps")
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
        lines.append("left/right (running): " + ", ".join(
            f"{m} {v['symmetry_index_pct']:+.1f} %" for m, v in asym.items()))
    for f in s.get("fatigue", []):
        flagged = ", ".join(
            f"{m} {v['early']:.3g}→{v['late']:.3g}" for m, v in f["metrics"].items() if v["flagged"])
        lines.append(f"form under fatigue, bout {f['bout']} ({f['start_s']:.0f}–{f['end_s']:.0f} s): "
                     + (f"FLAG {flagged}" if flagged else "no change beyond the thresholds"))
    if report.warnings:
        lines.append("")
        lines.extend(f"warning: {w}" for w in report.warnings)
    return "\n".join(lines)
