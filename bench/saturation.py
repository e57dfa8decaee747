"""Which real recordings read the end of their sensor's range (analysis.pipeline.saturation_warnings)?

    .venv/bin/python bench/saturation.py

For every trial of ../shared/datasets (gaitmap_example shoes, ipol_gait feet and lower back, mobgap_lab lower
back, adept_running hip and shoe) and each axis: its largest magnitude, the usual full scale nearest to it, the
peaks at that full scale and just under it (analysis.signals.peak_heights), and whether the analysis reports the
axis as saturated.  The rule's thresholds are stated in analysis/constants.py; this prints what they do on real
data (the near misses included).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis import constants as K  # noqa: E402
from analysis.pipeline import saturation_warnings  # noqa: E402
from analysis.signals import peak_heights  # noqa: E402
from bench import datasets as ds  # noqa: E402


def _near_misses(rec) -> list[str]:
    """Axes whose largest magnitude falls at a full scale: peaks at it / under it."""
    out = []
    gap = max(1, int(round(K.SATURATION_PEAK_GAP_S * rec.sampling_rate_hz)))
    for cols, scales, unit, to_si in ((["acc_x", "acc_y", "acc_z"], K.ACC_FULL_SCALES_G, "g", K.GRAVITY_M_S2),
                                      (["gyr_x", "gyr_y", "gyr_z"], K.GYR_FULL_SCALES_DPS, "°/s", np.pi / 180)):
        if not all(c in rec.data for c in cols):
            continue
        x = np.abs(rec.data[cols].to_numpy(dtype=float))
        for k, c in enumerate(cols):
            m = float(np.nanmax(x[:, k]))
            for f in scales:
                fs = f * to_si
                if fs * (1 - K.SATURATION_BELOW) <= m <= fs * (1 + K.SATURATION_ABOVE):
                    h, _ = peak_heights(np.nan_to_num(x[:, k]), fs * (1 - K.SATURATION_BAND), gap)
                    n_at = int((h >= fs * (1 - K.SATURATION_BELOW)).sum())
                    out.append(f"{c} ±{f:g} {unit}: {n_at} at / {len(h) - n_at} under")
    return out


def main() -> int:
    if ds.datasets_root() is None:
        print("../shared/datasets not found")
        return 1
    trials = [(t.name, t.recording) for t in ds.gaitmap_trials() if "raw-frame" not in t.name]
    trials += [(f"{t.name} ({p})", t.recording) for p in ("foot-left", "lower-back") for t in ds.ipol_trials(p)]
    trials += [(t.name, t.recording) for t in ds.mobgap_trials()]
    pair = ds.adept_running()
    trials += [(f"adept_running {r.placement}", r) for r in (pair or ())]
    print("| recording | axes whose largest value is at a full scale: peaks at it / under it | reported |")
    print("|---|---|---|")
    n_flagged = 0
    for name, rec in trials:
        near = _near_misses(rec)
        w = saturation_warnings(rec, rec.placement or "lower-back")
        n_flagged += bool(w)
        if near or w:
            said = "; ".join(x.split(": ", 1)[1].split(", where")[0] for x in w) or "no"
            print(f"| {name} | {'; '.join(near)} | {said} |")
    print(f"\n{len(trials)} recordings, {n_flagged} reported as saturated.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
