"""Data access of the dashboard: settings, the journal, run details, uploads.

Nothing here is module-level state: the :class:`Settings` of an app live in
its Flask config (``server.config["BACKSTRIDE"]``) and are passed explicitly
to everything that needs them (background callbacks run in another process,
so they receive the settings by value).  The journal is opened per request
(opening an existing SQLite journal takes about 10 ms), so several apps and
processes can share one database.

Files
-----
``data_dir/uploads/``
    Uploaded files, named by their SHA-256 (the user's file name is never
    used as a path, so an upload cannot land outside this folder).
``data_dir/cache/``
    Per-step analysis of a recording (Parquet) and its report meta (JSON),
    keyed by the recording's path, size and modification time, so the Run
    page of a 2-hour run does not re-analyse the recording on every view.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

#: File types the Log page accepts, and what they are.
UPLOAD_TYPES = {
    ".parquet": "recording (backstride Parquet): analysed, then stored as a run",
    ".fit": "FIT activity (watch or phone): its running sessions become runs",
    ".json": "analysis report (backstride analyse --json) or sitting-day summary",
}
DEFAULT_MAX_UPLOAD_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """What one dashboard app needs to know; stored in its Flask config, passed by value."""

    journal_url: str
    data_dir: Path
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    #: Sample recordings offered for replay on the Live page and the Day page.
    samples_dir: Path = field(default_factory=lambda: Path(__file__).resolve().parents[1] / "sample_recordings")

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


def current_settings() -> Settings:
    """The settings of the app serving the current request."""
    import flask

    return flask.current_app.config["BACKSTRIDE"]


@contextlib.contextmanager
def open_journal(settings: Settings) -> Iterator:
    from journal import Journal

    j = Journal.open(settings.journal_url)
    try:
        yield j
    finally:
        j.close()


def runner_names(settings: Settings) -> list[str]:
    with open_journal(settings) as j:
        return [r.name for r in j.runners()]


# ----------------------------------------------------------------------------
# Recordings and their per-step analysis


def resolve_recording(settings: Settings, recording_path: str | None) -> Path | None:
    """The file of a run's ``recording_path`` (relative paths are taken from the data directory)."""
    if not recording_path:
        return None
    p = Path(recording_path).expanduser()
    if not p.is_absolute():
        p = settings.data_dir / p
    return p if p.is_file() else None


def _cache_key(path: Path) -> str:
    from analysis.pipeline import VERSION

    st = path.stat()
    blob = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{VERSION}".encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def _atomic_write(target: Path, write: Callable[[Path], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_report(settings: Settings, path: Path, report) -> None:
    """Keep the per-step table and summary of ``report`` (an ``analysis.pipeline.Report``) for ``path``."""
    key = _cache_key(path)
    steps = report.steps.copy()
    for c in ("side", "activity", "strike"):
        if c in steps:
            steps[c] = steps[c].astype(object).where(steps[c].notna(), None).astype("string")
    _atomic_write(settings.cache_dir / f"{key}.steps.parquet", lambda p: steps.to_parquet(p, index=False))
    meta = {"placement": report.placement, "sampling_rate_hz": report.sampling_rate_hz,
            "summary": report.to_dict()["summary"], "warnings": list(report.warnings)}
    _atomic_write(settings.cache_dir / f"{key}.meta.json", lambda p: p.write_text(json.dumps(meta)))


def analysed_steps(settings: Settings, path: Path) -> tuple[pd.DataFrame, dict]:
    """Per-step table and report meta of the recording at ``path``, analysing it once and caching."""
    key = _cache_key(path)
    sp, mp = settings.cache_dir / f"{key}.steps.parquet", settings.cache_dir / f"{key}.meta.json"
    if not (sp.is_file() and mp.is_file()):
        from analysis.pipeline import analyse_path

        cache_report(settings, path, analyse_path(path))
    steps = pd.read_parquet(sp)
    for c in ("side", "activity", "strike"):
        if c in steps:
            steps[c] = steps[c].astype(object).where(steps[c].notna(), None)
    return steps, json.loads(mp.read_text())


def signal_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Time (s from the start) and acceleration magnitude (m/s²) of a recording, for display."""
    from sensing.formats import open_recording

    rec = open_recording(path)
    acc = rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy(dtype=float)
    return rec.t_s, np.sqrt(np.einsum("ij,ij->i", acc, acc))


# ----------------------------------------------------------------------------
# Uploads


class UploadError(ValueError):
    """An upload that is refused; the message is shown in the page as it is."""


def store_upload(settings: Settings, filename: str, contents: str) -> tuple[Path, bool]:
    """Decode a ``dcc.Upload`` data URL and keep it under ``uploads_dir``.

    Returns ``(path, created)``; ``created`` is False when the same content was
    uploaded before (the file is then left as it is).  The name on disk is the
    content's SHA-256 plus the checked suffix, so nothing is ever written
    outside the data directory whatever the user's file name says.
    """
    suffix = Path(filename or "").suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise UploadError(f"{filename!r}: cannot import files of type {suffix or '(none)'}; "
                          f"accepted: {', '.join(UPLOAD_TYPES)}")
    if not contents or "," not in contents:
        raise UploadError(f"{filename!r}: the upload is empty")
    b64 = contents.split(",", 1)[1]
    limit = settings.max_upload_bytes
    if len(b64) * 3 // 4 > limit + 3:
        raise UploadError(f"{filename!r}: {len(b64) * 3 // 4 / 1e6:.1f} MB is over the upload limit of "
                          f"{limit / 1e6:.0f} MB")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UploadError(f"{filename!r}: the upload is damaged ({exc})") from None
    if not raw:
        raise UploadError(f"{filename!r}: the file is empty")
    digest = hashlib.sha256(raw).hexdigest()
    root = settings.uploads_dir.resolve()
    target = (root / f"{digest}{suffix}").resolve()
    if target.parent != root:  # cannot happen with a hex name; checked all the same
        raise UploadError(f"{filename!r}: refused (would be written outside the data directory)")
    if target.exists():
        return target, False
    _atomic_write(target, lambda p: p.write_bytes(raw))
    return target, True


def import_upload(settings: Settings, path: Path, *, original_name: str, runner: str, rpe: float | None = None,
                  kind: str | None = None, progress: Callable[[int, str], None] = lambda *_: None) -> str:
    """Import a stored upload into the journal; returns the message for the page.

    A recording is analysed first (:func:`analysis.pipeline.analyse`) and
    stored as a run with its analysis; FIT and JSON go through
    :meth:`journal.Journal.import_file`.  Raises ``ValueError`` (with a clear
    message) when the file cannot be used; the journal is then unchanged
    (each journal write is one transaction).
    """
    from journal import Journal  # noqa: F401  (import errors surface here, not half-way)

    suffix = path.suffix.lower()
    with open_journal(settings) as j:
        j.runner(runner)  # unknown runner: refuse before any work
        if suffix == ".parquet":
            from analysis.pipeline import analyse
            from sensing.formats import open_recording

            progress(2, "reading the recording")
            rec = open_recording(path)
            if rec.placement is None:
                raise ValueError(f"{original_name}: the recording does not say where the sensor was worn "
                                 "(placement); analyse it with 'backstride analyse --placement …'")
            progress(3, f"analysing {rec.duration_s / 60:.1f} min at {rec.sampling_rate_hz:g} Hz "
                        f"({rec.placement})")
            report = analyse(rec)
            doc = report.to_dict()
            progress(4, "storing the run")
            res = j.import_analysis(doc, runner=runner, rpe=rpe, kind=kind, recording_path=str(path),
                                    source_path=original_name, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
            cache_report(settings, path, report)
        else:
            progress(3, "reading the file")
            res = j.import_file(path, runner=runner, rpe=rpe, kind=kind)
            progress(4, "stored")
    what = (f"run {', '.join(map(str, res.run_ids))}" if res.run_ids else
            f"{len(res.dates)} day(s)" if res.dates else "")
    msg = f"{original_name}: {res.status}" + (f" ({what})" if what else "")
    if res.message:
        msg += f": {res.message}"
    return msg
