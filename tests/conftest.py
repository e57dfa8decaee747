"""Shared test fixtures.

``SHARED`` points at the read-only reference material beside the project
(``../shared``); tests that need it are marked ``shared_data`` and skip when it is
absent, so ``make test`` passes on a machine without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BACKSTRIDE_SHARED", ROOT.parent / "shared"))
DATASETS = SHARED / "datasets"


@pytest.fixture(autouse=True)
def _no_user_journal(tmp_path, monkeypatch):
    """No test ever opens the real journal in the user's data directory."""
    from journal.db import ENV_VAR

    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env-default.sqlite3"))


def need_dataset(name: str) -> Path:
    path = DATASETS / name
    if not path.exists():
        pytest.skip(f"{path} not present (../shared/datasets is optional)")
    return path


def template_journal(tmp_path_factory, runner: str, **runner_fields) -> Path:
    """A migrated journal holding one runner, made once and copied per test (migrations are slow)."""
    from journal import Journal

    path = tmp_path_factory.mktemp("template") / "j.sqlite3"
    with Journal.open(path) as journal:
        journal.add_runner(runner, **runner_fields)
    return path


def open_copy(template: Path, tmp_path: Path):
    """Open a fresh copy of ``template`` in ``tmp_path`` (a context manager yielding the Journal)."""
    import shutil

    from journal import Journal

    shutil.copy(template, tmp_path / "j.sqlite3")
    return Journal.open(tmp_path / "j.sqlite3")


def run_with_lost_flights():
    """A simulated 60 s run whose flights around every 12th step are lost (0.115 s each, up to just after the
    IC): ``(recording with the samples removed, truth)``.  Batch and live tests of the flight rule share it."""
    import dataclasses

    import numpy as np

    from analysis.simulate import lower_back_run

    rec, truth = lower_back_run(sampling_rate_hz=100.0, run_s=60.0, seed=0)
    t = rec.data.index.to_numpy() / 100.0
    ic = truth.steps["ic_s"].to_numpy(float)
    lost = np.zeros(len(t), bool)
    for k in range(5, len(ic) - 5, 12):
        for j in (k, k + 1):
            lost |= (t >= ic[j] - 0.11) & (t < ic[j] + 0.005)
    return dataclasses.replace(rec, data=rec.data[~lost]), truth


def arrow_message_offsets(path) -> list[int]:
    """File offsets of an Arrow IPC stream's messages ([schema, chunk 1, chunk 2, ...]) and its end: where to damage
    a live recording's chunk in a test."""
    import pyarrow as pa

    offs = []
    with pa.OSFile(str(path)) as f:
        r = pa.ipc.MessageReader.open_stream(f)
        while True:
            offs.append(f.tell())
            try:
                r.read_next_message()
            except StopIteration:
                break
    return offs
