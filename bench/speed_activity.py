"""Speed and memory of the all-day activity analysis (issue 3).

    .venv/bin/python bench/speed_activity.py

Input: a simulated hour (analysis.simulate_day: sitting, standing, walking,
running, lower back, 3-axis accelerometer) tiled to 24 h at 100 Hz, and to 1
and 7 days at 50 Hz, written to Parquet in hourly row groups.  Each case runs
in a fresh subprocess that streams the file chunk by chunk
(:func:`analysis.activity.activity_from_parquet`); wall time and the peak
resident memory of that process (``resource.getrusage`` maxrss) are reported.
Targets: 24 h at 100 Hz ≤ 10 s and ≤ 1.5 GB; memory not growing with length.

``--whole``: also what ``backstride analyse`` / ``backstride import`` cost on the same files, 6 and 24 h at 100 Hz
(:func:`analysis.document.full_analysis` on the recording read whole: running form and the day).  That path
holds the recording in memory, so its peak grows with length (said in bench/RESULTS.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from analysis.activity import activity_from_parquet
t = time.perf_counter()
res, meta = activity_from_parquet({path!r}, "lower-back", chunk_s=1800.0)
wall = time.perf_counter() - t
print(json.dumps({{"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "seconds": int(len(res.labels)), "sitting_bouts": int(len(res.sitting_bouts))}}))
"""


WHOLE_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from analysis.document import full_analysis
from sensing.formats import open_recording
t = time.perf_counter()
fa = full_analysis(open_recording({path!r}), "lower-back")
wall = time.perf_counter() - t
print(json.dumps({{"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "steps": len(fa.doc["steps"])}}))
"""


def write_tiled(path: Path, fs: float, hours: float) -> int:
    from analysis.simulate_day import simulate_day
    from sensing.recording import from_arrays

    sched = [("standing", 60), ("walking", 600), ("standing", 30), ("sitting", 1800), ("standing", 60),
             ("running", 600), ("walking", 300), ("standing", 210)]
    hour, _, _ = simulate_day(sched, sampling_rate_hz=fs, seed=1)
    acc = hour.data[["acc_x", "acc_y", "acc_z"]].to_numpy()
    n_hour = len(acc)
    meta = from_arrays(acc[:10], sampling_rate_hz=fs, placement="lower-back").metadata()
    meta = {"schema": "backstride.recording/1", **meta}
    schema = pa.schema([("sample_index", pa.int64()), ("acc_x", pa.float64()), ("acc_y", pa.float64()),
                        ("acc_z", pa.float64())], metadata={b"backstride": json.dumps(meta).encode()})
    total = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as w:
        for h in range(int(np.ceil(hours))):
            idx = np.arange(n_hour, dtype=np.int64) + h * n_hour
            w.write_table(pa.table({"sample_index": idx, "acc_x": acc[:, 0], "acc_y": acc[:, 1], "acc_z": acc[:, 2]},
                                   schema=schema))
            total += n_hour
    return total


def run_case(fs: float, hours: float, child: str = CHILD) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "day.parquet"
        n = write_tiled(path, fs, hours)
        out = subprocess.run([sys.executable, "-c", child.format(root=str(ROOT), path=str(path))],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        r.update({"sampling_rate_hz": fs, "hours": hours, "samples": n})
        return r


def main() -> int:
    cases = [(100.0, 24.0), (50.0, 24.0), (50.0, 72.0), (50.0, 168.0)]
    rows = []
    for fs, h in cases:
        r = run_case(fs, h)
        rows.append(r)
        print(f"{h:5.0f} h at {fs:5.0f} Hz: {r['samples']:>10d} samples, {r['wall_s']:6.2f} s, "
              f"peak {r['peak_rss_mb']:6.0f} MB")
    if "--whole" in sys.argv[1:]:
        for fs, h in [(100.0, 6.0), (100.0, 24.0)]:
            r = run_case(fs, h, WHOLE_CHILD)
            rows.append({**r, "path": "analyse (whole recording)"})
            print(f"analyse, whole: {h:5.0f} h at {fs:5.0f} Hz: {r['samples']:>10d} samples, {r['wall_s']:6.2f} s, "
                  f"peak {r['peak_rss_mb']:6.0f} MB")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
