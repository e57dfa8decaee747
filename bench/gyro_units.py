"""How far real gyroscopes sit from the bounds of sensing.formats.gyroscope_unit_problem (deg/s vs rad/s).

    .venv/bin/python bench/gyro_units.py

For every trial of ../shared/datasets with a gyroscope (gaitmap_example shoes, ipol_gait feet and lower back,
mobgap_lab lower back) and the sample recordings: while the accelerometer shows movement, the 99th percentile of
the gyroscope's magnitude (rad/s) and its ratio to the 99th percentile of the accelerometer magnitude's departure
from its median (rad/s per m/s²), the two figures the check bounds, and whether the check objects (it must not
on any of these; a unit off by 57.3 moves both figures by that factor).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.constants import GRAVITY_M_S2  # noqa: E402
from bench import datasets as ds  # noqa: E402
from sensing import formats as F  # noqa: E402
from sensing.recording import RecordingError  # noqa: E402


def figures(rec) -> tuple[float, float, float]:
    """(movement in g, gyroscope 99th percentile in rad/s, their ratio in rad/s per m/s²), as the check reads them
    (sensing.formats.movement_and_turning)."""
    moving, turning = F.movement_and_turning(rec)
    return moving / GRAVITY_M_S2, turning, turning / moving


def caught_when_scaled(rec, factor: float) -> bool:
    """Whether ``rec`` with its gyroscope multiplied by ``factor`` is refused: by the range check (a value past
    any sensor's) or by gyroscope_unit_problem."""
    import dataclasses

    data = rec.data.copy()
    data[["gyr_x", "gyr_y", "gyr_z"]] *= factor
    try:
        scaled = dataclasses.replace(rec, data=data)
    except RecordingError:
        return True
    return F.gyroscope_unit_problem(scaled) is not None


def main() -> int:
    trials = [(f"sample {p.stem}", F.open_recording(p)) for p in sorted((ROOT / "sample_recordings").glob("*.parquet"))]
    if ds.datasets_root() is not None:
        trials += [(t.name, t.recording) for t in ds.gaitmap_trials()]
        trials += [(f"{t.name}", t.recording) for p in ("foot-left", "foot-right", "lower-back") for t in ds.ipol_trials(p)]
        trials += [(t.name, t.recording) for t in ds.mobgap_trials()]
    else:
        print("../shared/datasets not found: the sample recordings only")
    rows = [(name, *figures(rec), F.gyroscope_unit_problem(rec)) for name, rec in trials if rec.has_gyr]
    checked = [r for r in rows if r[1] >= F.GYR_CHECK_MOVING_G]
    print(f"{len(rows)} recordings with a gyroscope, {len(checked)} moving enough to check "
          f"(movement >= {F.GYR_CHECK_MOVING_G:g} g); objected to: {sum(r[4] is not None for r in rows)}")
    for label, k, lo, hi in (("gyroscope 99th percentile, rad/s", 2, F.GYR_P99_MIN_RAD_S, F.GYR_P99_MAX_RAD_S),
                             ("rad/s per m/s² of movement", 3, F.GYR_PER_ACC_MIN_S_M, F.GYR_PER_ACC_MAX_S_M)):
        vals = sorted(checked, key=lambda r: r[k])
        print(f"{label}: bounds {lo:g}-{hi:g}; lowest {vals[0][k]:.3g} ({vals[0][0]}), highest {vals[-1][k]:.3g} "
              f"({vals[-1][0]}); margins x{vals[0][k] / lo:.1f} below, x{hi / vals[-1][k]:.1f} above")
    for r in rows:
        if r[4] is not None:
            print(f"OBJECTED: {r[0]}: {r[4]}")
    # the same recordings with the unit confused, each way
    for label, factor in (("rad/s declared as deg/s", np.pi / 180), ("deg/s declared as rad/s", 180 / np.pi)):
        missed = [name for name, rec in trials if rec.has_gyr and not caught_when_scaled(rec, factor)]
        print(f"{label}: caught on {len(rows) - len(missed)} of {len(rows)}"
              + (f"; missed: {', '.join(missed)}" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
