"""``make demo``: analyse the sample recordings and print their reports.

(Until the dashboard lands, the demo is the terminal report.)
"""

from __future__ import annotations

from pathlib import Path

from analysis.cli import render_text
from analysis.pipeline import analyse_path

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"


def main() -> None:
    for path in sorted(SAMPLES.glob("*.parquet")):
        print("=" * 78)
        print(render_text(analyse_path(path)))
        print()


if __name__ == "__main__":
    main()
