"""A recording imported directly (CLI ``backstride import``, dashboard upload) keeps its days, as its ``--json`` does.

Truth: the simulated workday's own schedule (sample_recordings/sim_workday.truth.csv): one day, 2026-05-04 in
Amsterdam, with a sitting bout of over 2 h.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from journal import Journal
from sensing.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"


@pytest.fixture(scope="module")
def sitting_truth_s() -> float:
    truth = pd.read_csv(SAMPLES / "sim_workday.truth.csv")
    return float(truth.loc[truth["activity"] == "sitting"].eval("end_s - start_s").sum())


def _check_day(j: Journal, runner: str, sitting_truth_s: float) -> None:
    days = j.sitting_days(runner=runner)
    assert len(days) == 1, days
    day = days.iloc[0]
    assert str(day["date"]) == "2026-05-04"
    assert abs(day["sitting_s"] - sitting_truth_s) < 60
    assert day["bouts_ge_2h"] == 1
    runs = j.runs(runner=runner)
    assert len(runs) == 1 and runs.iloc[0]["source"] != "manual"


def test_cli_import_of_a_recording_stores_its_sitting_day(tmp_path, capsys, sitting_truth_s):
    url = f"sqlite:///{tmp_path / 'j.sqlite3'}"
    assert main(["runner", "add", "ana", "--timezone", "UTC", "--journal", url]) == 0
    code = main(["import", str(SAMPLES / "sim_workday.parquet"), "--rpe", "4", "--kind", "easy", "--journal", url])
    out = capsys.readouterr().out
    assert code == 0, out
    with Journal.open(url) as j:
        # the recording says Europe/Amsterdam: its day is that day there, not the runner's UTC one
        _check_day(j, "ana", sitting_truth_s)
    assert main(["export", "--format", "csv", "--table", "sitting", "--journal", url]) == 0
    assert "2026-05-04" in capsys.readouterr().out


def test_dashboard_upload_of_a_recording_stores_its_sitting_day(tmp_path, sitting_truth_s):
    from dashboard.data import Settings, import_upload

    url = f"sqlite:///{tmp_path / 'j.sqlite3'}"
    with Journal.open(url) as j:
        j.add_runner("ana", timezone="Europe/Amsterdam")
    settings = Settings(journal_url=url, data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    path = settings.data_dir / "workday.parquet"
    shutil.copy2(SAMPLES / "sim_workday.parquet", path)
    msg = import_upload(settings, path, original_name="workday.parquet", runner="ana", rpe=4, kind="easy")
    assert "imported" in msg, msg
    with Journal.open(url) as j:
        _check_day(j, "ana", sitting_truth_s)
