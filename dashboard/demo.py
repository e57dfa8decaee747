"""``make demo``: the dashboard on a demo journal.

Builds a journal in a data directory (default: a new temporary one; ``--data-dir``
to keep it) with the journal's eight-week demo runner (:func:`journal.demo.load_demo`)
and a second runner, ``samples``, whose runs are the analyses of the running
recordings in ``sample_recordings/`` (so the Run page has signals and steps to
show), then serves the dashboard and prints its address.

Each sample run is placed when its running began (the workday's in its
afternoon, on the day the Day page shows it).  The belt and shoe runs carry
the same start time (they were simulated as one run seen by a belt and by a
shoe sensor); the shoe run is placed one day later so that both appear as
runs of their own.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"
SAMPLE_RUNNER = "samples"
#: the sample runner lives where the simulated workday was recorded (its recording's time_zone)
SAMPLE_TIMEZONE = "Europe/Amsterdam"


def build(data_dir: Path, *, progress: bool = True) -> str:
    """Create (once) the demo journal in ``data_dir``; returns its URL."""
    from tqdm import tqdm

    from dashboard.data import Settings, cache_report
    from journal import Journal, UnknownRunnerError
    from journal.demo import load_demo
    from journal.documents import analysis_run_fields, analysis_start
    from journal.recordings import analyse_recording

    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{(data_dir / 'journal.sqlite3').resolve()}"
    load_demo(url)
    settings = Settings(journal_url=url, data_dir=(data_dir / "dashboard").resolve())
    rec_dir = settings.data_dir / "recordings"
    rec_dir.mkdir(parents=True, exist_ok=True)
    with Journal.open(url) as j:
        try:
            j.runner(SAMPLE_RUNNER)
            return url
        except UnknownRunnerError:
            j.add_runner(SAMPLE_RUNNER, timezone=SAMPLE_TIMEZONE)
        runs = [p for p in sorted(SAMPLES.glob("sim_*.parquet"))]
        placed: list[tuple[datetime, datetime]] = []
        for path in tqdm(runs, desc="analysing sample recordings", unit="file", disable=not progress):
            target = rec_dir / path.name
            shutil.copy2(path, target)
            done = analyse_recording(target, timezone=SAMPLE_TIMEZONE, name=str(path))  # the workday's sitting too
            doc = done.doc
            cache_report(settings, target, done.analysis.report, recording=done.recording, doc=doc)
            start = analysis_start(doc)  # when the running began (the workday's run is in its afternoon)
            length = timedelta(seconds=analysis_run_fields(doc)["duration_s"] or 0.0)
            while any(start < b and a < start + length for a, b in placed):
                start += timedelta(days=1)  # the belt and shoe runs are one simulated run: a day apart
            placed.append((start, start + length))
            j.import_analysis(doc, runner=SAMPLE_RUNNER, start=start, rpe=4, kind="easy", recording_path=str(target),
                              source_path=str(path), sha256=done.sha256, file_notes=done.notes)
    return url


def main(argv: list[str] | None = None) -> int:
    from dashboard.app import DEFAULT_HOST, DEFAULT_PORT, create_app
    from dashboard.cli import serve

    p = argparse.ArgumentParser(prog="python -m dashboard.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=None, help="keep the demo journal here (default: a temp dir)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--no-serve", action="store_true", help="build the demo journal and exit")
    args = p.parse_args(argv)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="backstride-demo-"))
    url = build(data_dir)
    print(f"demo journal: {url}")
    if args.no_serve:
        return 0
    app = create_app(url, data_dir=data_dir / "dashboard")
    print(f"backstride dashboard: http://{DEFAULT_HOST}:{args.port}/  (runners 'demo' and '{SAMPLE_RUNNER}'; "
          "Ctrl+C to stop)", flush=True)
    serve(app, DEFAULT_HOST, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
