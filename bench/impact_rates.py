"""The lower-back impact index at different sampling rates: is it the same running?

    .venv/bin/python bench/impact_rates.py

The index (analysis.pipeline.impact_index) is compared across runs and sensors (fatigue, the dashboard's run
comparison, mechanical load), so a 50-Hz and a 200-Hz recording of the same running must give the same value.
Inputs: the simulated lower-back run (analysis.simulate.lower_back_run, seed 1, 60 s) generated at each rate, and
the real hip sensor of ../shared/datasets/adept_running (100 Hz, accelerometer only) resampled as
bench/unseen.py's rate condition does (:func:`bench.unseen.resampled`, polyphase).  Prints the median index of the running steps per rate.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.pipeline import analyse  # noqa: E402
from analysis.simulate import lower_back_run  # noqa: E402
from bench import datasets as ds  # noqa: E402
from bench.unseen import resampled  # noqa: E402  (the unseen-data bench's rate condition: polyphase, gaps kept)


def _median_running(rec) -> float:
    st = analyse(rec).steps
    vals = st.loc[st["activity"] == "running", "impact_index"]
    return float(vals.median()) if vals.notna().any() else float("nan")


def main() -> int:
    print("| input | " + " | ".join(f"{fs} Hz" for fs in (25, 50, 64, 100, 128, 200)) + " |")
    print("|---|" + "---|" * 6)
    sim = [_median_running(lower_back_run(sampling_rate_hz=float(fs), run_s=60.0, seed=1)[0])
           for fs in (25, 50, 64, 100, 128, 200)]
    print("| simulated lower-back run (g/s) | " + " | ".join(f"{v:.1f}" for v in sim) + " |")
    pair = ds.adept_running()
    if pair is None:
        print("adept_running not found (../shared/datasets): real-data row skipped")
        return 0
    hip = pair[0]
    trial = ds.Trial("adept_running hip", "adept_running", hip, {}, {}, [])  # no labels: only its recording is used
    row = [_median_running(hip if fs == hip.sampling_rate_hz else resampled(float(fs))(trial)[0].recording)
           for fs in (25, 50, 64, 100, 128, 200)]
    print(f"| adept_running hip, {hip.sampling_rate_hz:g} Hz resampled (g/s) | "
          + " | ".join(f"{v:.1f}" for v in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
