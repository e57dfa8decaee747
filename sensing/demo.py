"""``python -m sensing.demo``: the text reports of the sample recordings, without the dashboard.

Each report is what ``backstride analyse FILE`` prints (running form, and for
the belt sensor's all-day recording its activity and sitting days); ``make
demo`` shows the same recordings in the dashboard.
"""

from __future__ import annotations

from pathlib import Path

from analysis.cli import analyse_document
from sensing.formats import open_recording

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"


def main() -> None:
    for path in sorted(SAMPLES.glob("*.parquet")):
        rec = open_recording(path)
        _, text = analyse_document(rec, rec.placement, timezone=(rec.extra or {}).get("time_zone"))
        print("=" * 78)
        print(text)
        print()


if __name__ == "__main__":
    main()
