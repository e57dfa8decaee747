"""Regenerate the sample recordings in this folder (deterministic).

    python sample_recordings/make_samples.py [--shared ../shared]

* ``sim_lower_back_run.parquet`` — simulated lower-back (belt) sensor, 100 Hz,
  10 s standing then a 6-minute run whose forward trunk lean grows by 4°
  (form under fatigue), sensor clipped upside down and rotated.  Truth:
  ``sim_lower_back_run.truth.csv`` (one row per step).
* ``sim_shoe_run.parquet`` — simulated left-shoe sensor, 200 Hz, 2-minute run
  mixing rearfoot (12°) and midfoot (3°) strikes.  Truth beside it.
* ``gaitmap_left_shoe_walk.parquet`` — REAL data: the left shoe of the
  gaitmap example recording (MaD-Lab, FAU; github mad-lab-fau/gaitmap
  ``example_data``, MIT licence, © Machine Learning and Data Analytics Lab),
  204.8 Hz, one person walking 2 × 20 m; its motion-capture initial and
  terminal contacts are in ``gaitmap_left_shoe_walk.truth.csv``.

The simulators are documented in :mod:`analysis.simulate`.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial.transform import Rotation

from analysis.simulate import lower_back_run, shoe_run
from sensing.formats import write_parquet
from sensing.recording import SensorInfo, from_arrays

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(HERE.parent.parent / "shared"))
    args = ap.parse_args()

    rec, truth = lower_back_run(sampling_rate_hz=100.0, run_s=360.0, late_lean_increase_deg=4.0,
                                mount=Rotation.from_euler("xyz", [180, 0, 35], degrees=True), seed=1)
    write_parquet(rec, HERE / "sim_lower_back_run.parquet")
    truth.steps.to_csv(HERE / "sim_lower_back_run.truth.csv", index=False, float_format="%.4f")

    angles = np.where(np.random.default_rng(2).random(170) < 0.7, 12.0, 3.0)
    rec, truth = shoe_run(sampling_rate_hz=200.0, run_s=120.0, strike_angle_deg=angles,
                          mount=Rotation.from_euler("xyz", [10, 80, -20], degrees=True), seed=2)
    write_parquet(rec, HERE / "sim_shoe_run.parquet")
    truth.steps.to_csv(HERE / "sim_shoe_run.truth.csv", index=False, float_format="%.4f")

    gm = Path(args.shared) / "datasets" / "gaitmap_example"
    if (gm / "imu_sample.csv").exists():
        df = pd.read_csv(gm / "imu_sample.csv", header=[0, 1], index_col=0)["left_sensor"]
        fs = 204.8
        rec = from_arrays(df[["acc_x", "acc_y", "acc_z"]].to_numpy(),
                          gyr_rad_s=np.radians(df[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()),
                          sampling_rate_hz=fs, placement="foot-left",
                          sensor=SensorInfo("MaD-Lab (gaitmap example, MIT)", "NilsPod", None, None),
                          source="gaitmap example_data imu_sample.csv, left_sensor")
        write_parquet(rec, HERE / "gaitmap_left_shoe_walk.parquet")
        ev = pd.read_csv(gm / "stride_events_sample.csv")
        ev = ev[ev["foot"] == "left"]
        pd.DataFrame({"ic_s": ev["ic"] / fs, "tc_s": ev["tc"] / fs}).to_csv(
            HERE / "gaitmap_left_shoe_walk.truth.csv", index=False, float_format="%.5f")
    for p in sorted(HERE.glob("*.parquet")):
        print(p.name, hashlib.sha256(p.read_bytes()).hexdigest()[:16])


if __name__ == "__main__":
    main()
