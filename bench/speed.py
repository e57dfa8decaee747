"""Speed of the analysis: one hour of 100 Hz lower-back running, real data tiled.

    make speed     # or: .venv/bin/python bench/speed.py [--minutes 60]

Input: the hip sensor of adept_running (../shared/datasets, real outdoor
running, accelerometer only) tiled to the requested length, a
simulated lower-back run with a gyroscope (the trunk-tilt path) of the same length,
and real walking with a gyroscope: ipol_gait's lower-back trials laid end to end
and tiled (the walking IC rules loop over steps where running's are vectorised).
Wall time and peak memory are measured in a fresh subprocess per case
(resource.getrusage maxrss), so imports and other cases do not count.
Peers' times on the same input are printed as ratios when their environment
exists (bash bench/peers/setup.sh).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from sensing.recording import from_arrays
minutes, case = {minutes}, {case!r}
n = int(minutes * 60 * 100)


def tiled(x):
    return np.tile(x, (int(np.ceil(n / len(x))), 1))[:n]


if case == "real-acc":
    from bench.datasets import adept_running
    hip, _ = adept_running()
    acc = tiled(hip.data[["acc_x", "acc_y", "acc_z"]].to_numpy())
    rec = from_arrays(acc, sampling_rate_hz=100.0, placement="lower-back")
    gyr = None
elif case == "real-walk":
    from bench.datasets import ipol_trials
    parts = []
    for t in ipol_trials("lower-back"):
        assert t.recording.sampling_rate_hz == 100.0, t.name
        d = t.recording.data[["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]]
        # lost packets are absent rows: back on the full sample grid, filled linearly (an input for timing only)
        d = d.reindex(np.arange(d.index[0], d.index[-1] + 1)).interpolate(limit_area="inside")
        parts.append(d.to_numpy())
    x = tiled(np.concatenate(parts))
    acc, gyr = x[:, :3], x[:, 3:]
    rec = from_arrays(acc, gyr_rad_s=gyr, sampling_rate_hz=100.0, placement="lower-back")
else:
    from analysis.simulate import lower_back_run
    rec, _ = lower_back_run(sampling_rate_hz=100.0, run_s=minutes * 60, seed=1)
    acc = rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy()
    gyr = rec.data[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from analysis.pipeline import analyse
t = time.perf_counter()
rep = analyse(rec)
wall = time.perf_counter() - t
peers = {{}}
if {peers}:
    from bench.peers.runner import peers_available, run_peer
    if peers_available():
        try:
            r = run_peer("skdh", {{"acc_m_s2": acc, "sampling_rate_hz": 100.0, "placement": "lower-back"}})
            peers["scikit-digital-health"] = r.get("wall_time_s")
        except Exception as exc:
            peers["scikit-digital-health"] = f"failed: {{exc}}"
print(json.dumps({{"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "data_rss_mb": base / 1024, "steps": int(len(rep.steps)), "samples": int(len(rec.data)), "peers": peers}}))
"""


def run_case(minutes: float, case: str, peers: bool) -> dict:
    code = CHILD.format(root=str(ROOT), minutes=minutes, case=case, peers=peers)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    from bench.datasets import _dataset_dir, datasets_root

    cases = ["sim-gyro"] + (["real-acc"] if datasets_root() is not None else [])
    cases += ["real-walk"] if _dataset_dir("ipol_gait") is not None else []
    lines = [f"## Speed (bench/speed.py, {time.strftime('%Y-%m-%d')})", "",
             f"{args.minutes:g} min of 100 Hz lower-back running (and walking), analysed end to end in one process on this 2-core machine "
             "(targets: ≤ 2 s wall, ≤ 500 MB peak memory).", "",
             "| input | samples | steps | wall s | peak memory MB | peers (wall s, ratio to ours) |", "|---|---|---|---|---|---|"]
    for case in cases:
        r = run_case(args.minutes, case, not args.no_peers)
        peer_txt = ", ".join(
            f"{k}: {v:.2f} s ({v / r['wall_s']:.1f}×)" if isinstance(v, (int, float)) else f"{k}: {v}"
            for k, v in r["peers"].items()) or "–"
        name = {"sim-gyro": "simulated, acc + gyro (trunk tilt path)", "real-acc": "adept_running hip tiled, acc only",
                "real-walk": "ipol_gait _lb walking trials tiled, acc + gyro"}[case]
        lines.append(f"| {name} | {r['samples']} | {r['steps']} | **{r['wall_s']:.2f}** | {r['peak_rss_mb']:.0f} | {peer_txt} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
