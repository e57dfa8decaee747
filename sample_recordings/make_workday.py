"""Regenerate the simulated working day in this folder (deterministic).

    .venv/bin/python sample_recordings/make_workday.py

``sim_workday.parquet``: a lower-back (belt) sensor clipped upside down and
rotated, 25 Hz, accelerometer only, worn from 08:30 to 19:00 in Amsterdam
(CEST, UTC+2) on Monday 4 May 2026: a walk to work, a morning at the desk
(one bout over 2 h, partly slumped), short breaks, a lunchtime walk, an
afternoon of sitting with a 5-s stand that is too short to count as a break,
a lost-link gap, the walk home and a 30-minute run after work.  Its truth:
``sim_workday.truth.csv`` (segments: start_s, end_s, activity, slumped) and
``sim_workday.transitions.csv`` (t_s, kind, duration_s).  The simulator is
:func:`analysis.simulate_day.simulate_day`.  Analyse it with

    backstride analyse sample_recordings/sim_workday.parquet --timezone Europe/Amsterdam
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

from scipy.spatial.transform import Rotation

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from analysis.simulate_day import simulate_day  # noqa: E402
from sensing.formats import write_parquet  # noqa: E402

MIN = 60.0
SCHEDULE = [
    ("standing", 2 * MIN), ("walking", 20 * MIN), ("standing", 3 * MIN),       # walk to work
    ("sitting", 95 * MIN), ("slumped", 40 * MIN),                              # 2 h 15 min at the desk
    ("standing", 4 * MIN), ("walking", 3 * MIN), ("standing", 5 * MIN),       # coffee
    ("sitting", 50 * MIN), ("standing", 2 * MIN),
    ("walking", 25 * MIN), ("standing", 10 * MIN), ("sitting", 25 * MIN),     # lunchtime walk, lunch
    ("standing", 2 * MIN), ("walking", 2 * MIN),
    ("sitting", 40 * MIN), ("standing", 5.0), ("sitting", 35 * MIN),           # a 5-s stand: not a break
    ("gap", 6 * MIN), ("sitting", 30 * MIN), ("slumped", 20 * MIN),
    ("standing", 3 * MIN), ("walking", 4 * MIN), ("standing", 15 * MIN),      # meeting on foot
    ("sitting", 45 * MIN), ("standing", 2 * MIN), ("walking", 20 * MIN),      # walk home
    ("standing", 10 * MIN), ("running", 30 * MIN), ("walking", 5 * MIN),      # run after work
    ("standing", 5 * MIN), ("sitting", 60 * MIN),
]
TIME_ZONE = "Europe/Amsterdam"


def main() -> None:
    rec, segs, trans = simulate_day(
        SCHEDULE, sampling_rate_hz=25.0, placement="lower-back",
        mount=Rotation.from_euler("xyz", [180, 0, 35], degrees=True),
        start_utc=datetime(2026, 5, 4, 6, 30, tzinfo=timezone.utc), seed=7, quantum_m_s2=0.02,
        pelvis_height_change_m=0.38)
    rec.extra["time_zone"] = TIME_ZONE
    rec.extra["simulated"] = "analysis.simulate_day, see sample_recordings/make_workday.py"
    write_parquet(rec, HERE / "sim_workday.parquet")
    segs.to_csv(HERE / "sim_workday.truth.csv", index=False, float_format="%.3f")
    trans.to_csv(HERE / "sim_workday.transitions.csv", index=False, float_format="%.3f")
    print(f"sim_workday.parquet: {len(rec.data)} samples, {rec.duration_s / 3600:.2f} h, "
          f"{(HERE / 'sim_workday.parquet').stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
