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
    Per-step analysis of a recording (Parquet), its report meta (JSON) and
    the signal the Run page draws (time and acceleration magnitude, Parquet),
    keyed by the recording's path, size and modification time and the
    analysis version, so the Run page of a 2-hour run neither re-analyses nor
    re-reads the recording on every view.  The cached signal is for display
    only (float32); the analysis always reads the recording itself.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
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
DEFAULT_MAX_UPLOAD_BYTES = 64_000_000  # "64 MB" as `backstride dashboard --max-upload-mb` says it


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


# ----------------------------------------------------------------------------
# Cache of pure page computations


class PageCache:
    """A small, bounded, thread-safe memo of page computations, one per app (made in ``create_app``).

    Keys must say everything the value depends on: for journal data, the
    journal's :func:`journal_version`; for a recording, its cache key (path,
    size, modification time, analysis version).  The least recently used
    entry goes when ``max_entries`` is reached.  Values are shared between
    requests, so they are never modified after they are stored.
    """

    def __init__(self, max_entries: int = 16):
        import threading
        from collections import OrderedDict

        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key, compute: Callable[[], object]):
        """The value stored under ``key``, computing (outside the lock) and storing it when missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = compute()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


def page_cache() -> PageCache | None:
    """The :class:`PageCache` of the app serving this request (None outside a request: nothing is cached)."""
    try:
        import flask

        return flask.current_app.extensions.get("backstride_cache")
    except RuntimeError:  # no app context: a page built outside a request (tests, reports)
        return None


def journal_version(settings: Settings) -> tuple | None:
    """What changes whenever anything is written to the journal, for cache keys; None: unknown (no caching).

    A SQLite journal (WAL mode, see :mod:`journal.db`) writes every commit to
    its ``-wal`` file and moves it into the main file at checkpoints, so the
    size and modification time (ns) of the two files change with every write.
    Other databases have no such cheap signal: nothing is cached for them.
    """
    from sqlalchemy.engine import make_url

    u = make_url(settings.journal_url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:" or \
            u.database.startswith("file:"):
        return None
    db = Path(u.database).expanduser()
    out = [str(db.resolve())]
    for f in (db, db.with_name(db.name + "-wal")):
        try:
            st = f.stat()
            out += [st.st_size, st.st_mtime_ns]
        except FileNotFoundError:
            out += [None, None]
    return tuple(out)


def cached(key_parts: tuple, compute: Callable[[], object]):
    """``compute()`` through the app's :class:`PageCache` when there is one and the key is known."""
    cache = page_cache()
    if cache is None or any(k is None for k in key_parts):
        return compute()
    return cache.get_or_compute(key_parts, compute)


def runner_names(settings: Settings) -> list[str]:
    with open_journal(settings) as j:
        return [r.name for r in j.runners()]


# ----------------------------------------------------------------------------
# Recordings and their per-step analysis


def resolve_recording(settings: Settings, recording_path: object) -> Path | None:
    """The file of a run's ``recording_path`` (relative paths are taken from the data directory); None for a run
    without one (None, or NaN: the journal's tables hold text columns as pandas strings, missing as NaN)."""
    if not isinstance(recording_path, str) or not recording_path:
        return None
    p = Path(recording_path).expanduser()
    if not p.is_absolute():
        p = settings.data_dir / p
    return p if p.is_file() else None


def runner_recordings(settings: Settings, runner: str | None) -> dict[str, Path]:
    """The runner's own recordings by the name the pages show, in the order the journal imported them (the latest
    last): uploads (stored under the SHA-256 of their content, named ``upload: <hash>``) and files imported with
    ``backstride import`` (``file: <name>``, their path when two share a name), those the journal holds as the
    recording of one of the runner's runs (a second sensor worn on a run too) or as a file the runner imported (an
    all-day recording without running gives sitting days and no run).  Another runner's recordings are never listed;
    {} without a runner."""
    if not runner:
        return {}
    uploads = settings.uploads_dir.resolve() if settings.uploads_dir.is_dir() else None
    with open_journal(settings) as j:
        paths = j.run_recordings(runner=runner)
        imports = j.imports(runner=runner)
    # when the runner imported each content or file (oldest first: a later import of the same one counts last)
    order = dict(zip(imports["sha256"], range(len(imports))))
    order.update((str(Path(p).resolve()), i) for i, p in enumerate(imports["path"]) if isinstance(p, str)
                 and Path(p).is_absolute())
    held = [resolve_recording(settings, rp) for rp in paths]
    # a file imported from the command line that made no run (an all-day recording without running): its import's
    # path, resolved when imported (an upload's import names the browser's file name alone; its copy is found below
    # by its hash); a run's file is its recording_path
    held += [Path(p) for p, by_run in zip(imports["path"], imports["run_held"])
             if not by_run and isinstance(p, str) and Path(p).is_absolute() and Path(p).is_file()]
    own = {p.resolve() for p in held if p is not None}
    if uploads is not None:
        own |= {p.resolve() for p in uploads.glob("*.parquet") if p.stem in order}

    def rank(p: Path) -> tuple:
        return (order.get(p.stem if p.parent == uploads else str(p), -1), p.name)

    names = [p.name for p in own if p.parent != uploads]
    out = {}
    for p in sorted(own, key=rank):
        if p.parent == uploads:
            out[f"upload: {p.stem[:12]}"] = p
        else:  # a file imported from the command line, by its name (its path when two share one)
            out[f"file: {p.name if names.count(p.name) == 1 else p}"] = p
    return out


def offered_recordings(settings: Settings, runner: str | None, samples) -> dict[str, Path]:
    """What a page offers: the sample recordings ``samples`` (``sample: <stem>``), then ``runner``'s own
    (:func:`runner_recordings`); a sample the runner imported is listed once, as theirs."""
    own = runner_recordings(settings, runner)
    mine = set(own.values())
    out = {f"sample: {p.stem}": p for p in samples if p.resolve() not in mine}
    out.update(own)
    return out


#: The sensing modules that read a file into a recording (the rest of sensing/ is BLE, recording and CLIs).
READER_MODULES = ("recording.py", "formats.py", "bids.py", "chunked.py")


def _source_fingerprint(files) -> str:
    """A digest of ``files`` (names and contents); a file that is not there is an error, never skipped."""
    h = hashlib.sha256()
    for f in sorted(Path(x) for x in files):
        if not f.is_file():
            raise FileNotFoundError(f"no {f}: cannot tell which code made a cached report")
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _module_files(package, names=None) -> list[Path]:
    """The source files of ``package`` (only ``names`` when given); in an install of compiled files only, their
    compiled forms, so that a change of code is never missed."""
    folder = Path(package.__file__).parent

    def source_or_compiled(py: Path) -> Path:
        compiled = sorted((folder / "__pycache__").glob(f"{py.stem}.*.pyc"))
        return py if py.is_file() or not compiled else compiled[-1]

    if names is not None:
        return [source_or_compiled(folder / n) for n in names]
    return sorted(folder.glob("*.py")) or sorted((folder / "__pycache__").glob("*.pyc"))


@functools.lru_cache(maxsize=1)
def _reader_fingerprint() -> str:
    """The code that reads a file into a recording (the display signal depends on nothing else)."""
    import sensing

    return _source_fingerprint(_module_files(sensing, READER_MODULES))


@functools.lru_cache(maxsize=1)
def _analysis_fingerprint() -> str:
    """The code that turns a file into a report (the readers and the analysis): a cached report made by other code
    is stale.  The version number alone was not enough: it stays 0.1.0 while the analysis changes."""
    import analysis
    import sensing

    return _source_fingerprint(_module_files(analysis) + _module_files(sensing, READER_MODULES))


def report_cache_dir(settings: Settings) -> Path:
    """Where the reports of the current analysis code are cached (one folder per version of that code)."""
    return settings.cache_dir / f"reports-{_analysis_fingerprint()}"


def signal_cache_dir(settings: Settings) -> Path:
    """Where the display signals read by the current reader code are cached."""
    return settings.cache_dir / f"signal-{_reader_fingerprint()}"


def prune_stale_caches(settings: Settings) -> int:
    """Delete the caches made by other code (earlier versions' folders, and the flat files of the oldest layout);
    returns how many files went.  Called when the app starts: nothing else ever reads them again."""
    import shutil

    if not settings.cache_dir.is_dir():
        return 0
    keep = {report_cache_dir(settings).name, signal_cache_dir(settings).name}
    gone = 0
    for p in settings.cache_dir.iterdir():
        if p.is_dir() and p.name.startswith(("reports-", "signal-")) and p.name not in keep:
            gone += sum(1 for f in p.iterdir() if f.is_file())
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_file() and p.name.endswith((".steps.parquet", ".meta.json", ".signal.parquet")):
            p.unlink(missing_ok=True)
            gone += 1
    return gone


def _cache_key(path: Path) -> str:
    st = path.stat()
    blob = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def recording_key(path: Path) -> str:
    """The cache key of a recording: its path, size and modification time, and the analysis code that reads it."""
    return f"{_analysis_fingerprint()}-{_cache_key(path)}"


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


def cache_report(settings: Settings, path: Path, report, recording=None, doc: dict | None = None) -> None:
    """Keep the per-step table and summary of ``report`` (an ``analysis.pipeline.Report``) for ``path``.

    With ``recording`` (the ``Recording`` that was analysed), its display signal is kept as well; ``doc`` is
    ``report.to_dict()`` when the caller has made it already (0.15 s for a day's 14 000 steps).
    """
    key = _cache_key(path)
    if recording is not None:
        _cache_signal(settings, path, recording)
    steps = report.steps.copy()
    for c in ("side", "activity", "strike"):
        if c in steps:
            steps[c] = steps[c].astype(object).where(steps[c].notna(), None).astype("string")
    _atomic_write(report_cache_dir(settings) / f"{key}.steps.parquet", lambda p: steps.to_parquet(p, index=False))
    doc = report.to_dict() if doc is None else doc
    meta = {"placement": report.placement, "sampling_rate_hz": report.sampling_rate_hz,
            "summary": doc["summary"], "warnings": list(report.warnings), "run_fields": _run_fields(doc)}
    _atomic_write(report_cache_dir(settings) / f"{key}.meta.json", lambda p: p.write_text(json.dumps(meta)))


def _run_fields(doc: dict) -> dict | None:
    """The run figures the journal derives from this analysis (:func:`journal.documents.analysis_run_fields`), for
    the Run page to compare with those the journal holds (made when the run was imported, maybe by older code)."""
    from journal.documents import analysis_run_fields
    from journal.errors import JournalError

    try:
        return analysis_run_fields(doc)
    except (JournalError, ValueError):
        return None


def refresh_run_analysis(settings: Settings, run_id: int, runner: str) -> dict[str, tuple]:
    """Analyse run ``run_id``'s recording with the current code and put its figures into the journal
    (:meth:`journal.Journal.refresh_analysis`); returns what changed.  ``ValueError`` when it has no recording."""
    from analysis.pipeline import analyse
    from sensing.formats import open_recording

    with open_journal(settings) as j:
        runs = j.runs(runner=runner).set_index("id")
        if run_id not in runs.index:
            raise ValueError(f"run {run_id} is not one of {runner}'s runs")
        path = resolve_recording(settings, runs.loc[run_id, "recording_path"])
        if path is None:
            raise ValueError(f"run {run_id} has no recording in the data directory to analyse")
        rec = open_recording(path)
        report = analyse(rec)
        doc = report.to_dict()
        changed = j.refresh_analysis(run_id, doc, runner=runner)
    cache_report(settings, path, report, recording=rec, doc=doc)
    return changed


def analysed_steps(settings: Settings, path: Path) -> tuple[pd.DataFrame, dict]:
    """Per-step table and report meta of the recording at ``path``, analysing it once and caching."""
    key = _cache_key(path)
    sp, mp = report_cache_dir(settings) / f"{key}.steps.parquet", report_cache_dir(settings) / f"{key}.meta.json"
    if not (sp.is_file() and mp.is_file()):
        from analysis.pipeline import analyse
        from sensing.formats import open_recording

        rec = open_recording(path)
        cache_report(settings, path, analyse(rec), recording=rec)
    steps = pd.read_parquet(sp)
    for c in ("side", "activity", "strike"):
        if c in steps:
            steps[c] = steps[c].astype(object).where(steps[c].notna(), None)
    return steps, json.loads(mp.read_text())


def signal_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Time (s from the start) and acceleration magnitude (m/s²) of a recording, for display."""
    from sensing.formats import open_recording

    return _norm_of(open_recording(path))


def _norm_of(rec) -> tuple[np.ndarray, np.ndarray]:
    acc = rec.data[["acc_x", "acc_y", "acc_z"]].to_numpy(dtype=float)
    return rec.t_s, np.sqrt(np.einsum("ij,ij->i", acc, acc))


def _cache_signal(settings: Settings, path: Path, rec) -> Path:
    t_s, norm = _norm_of(rec)
    table = pd.DataFrame({"t_s": t_s, "acc_norm_m_s2": norm.astype(np.float32)})
    target = signal_cache_dir(settings) / f"{_cache_key(path)}.signal.parquet"
    _atomic_write(target, lambda p: table.to_parquet(p, index=False))
    return target


def display_signal(settings: Settings, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """:func:`signal_arrays` of ``path`` from the cache (written on first use): 10 ms instead of ~1 s for 2 h.

    For display only: the magnitude is kept as float32 (7 significant digits).
    """
    import pyarrow.parquet as pq

    target = signal_cache_dir(settings) / f"{_cache_key(path)}.signal.parquet"
    if not target.is_file():
        from sensing.formats import open_recording

        target = _cache_signal(settings, path, open_recording(path))
    table = pq.read_table(target)
    return table.column("t_s").to_numpy(), table.column("acc_norm_m_s2").to_numpy()


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
        hint = ("; a CSV needs its columns and units named: turn it into a recording with `backstride convert` "
                "(README, 'Analyse your own recording') and upload the .parquet" if suffix in (".csv", ".txt")
                else "")
        raise UploadError(f"{filename!r}: cannot import files of type {suffix or '(none)'}; "
                          f"accepted: {', '.join(UPLOAD_TYPES)}{hint}")
    if not contents or "," not in contents:
        raise UploadError(f"{filename!r}: the upload is empty")
    b64 = contents.split(",", 1)[1]
    limit = settings.max_upload_bytes
    if len(b64) * 3 // 4 > limit + 3:
        raise UploadError(f"{filename!r}: {len(b64) * 3 // 4 / 1e6:.1f} MB is over the upload limit of "
                          f"{limit / 1e6:.3g} MB")
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
                  kind: str | None = None, progress: Callable[[int, str], None] = lambda *_: None,
                  created: bool = False) -> str:
    """Import a stored upload into the journal; returns the message for the page.  ``created``: the upload was
    stored just now (:func:`store_upload`); it is removed again when nothing of it went into the journal (every run
    in it was there already).

    A recording is analysed first (:func:`analysis.document.full_analysis`) and
    stored as a run with its analysis (and, for a belt or thigh sensor, its days); FIT and JSON go through
    :meth:`journal.Journal.import_file`.  Raises ``ValueError`` (with a clear
    message) when the file cannot be used; the journal is then unchanged
    (each journal write is one transaction).
    """
    from journal import Journal  # noqa: F401  (import errors surface here, not half-way)

    suffix = path.suffix.lower()
    with open_journal(settings) as j:
        if suffix == ".parquet":
            from journal.recordings import import_recording

            res, done = import_recording(j, path, runner=runner, rpe=rpe, kind=kind,
                                         # the browser's file name, never a path on this machine
                                         name=Path(original_name).name if original_name else None,
                                         progress=progress)
            if done.analysis.report is not None:
                cache_report(settings, path, done.analysis.report, recording=done.recording, doc=done.doc)
        else:
            progress(3, "reading the file")
            res = j.import_file(path, runner=runner, rpe=rpe, kind=kind,
                                name=Path(original_name).name if original_name else None)
            progress(4, "stored")
        # another tab's import of the same file may have made a run of it meanwhile: that run keeps it
        unused = created and res.status == "duplicate" and not j.holds_file(path)
    if unused:
        path.unlink(missing_ok=True)
    what = (f"run {', '.join(map(str, res.run_ids))}" if res.run_ids else
            f"{len(res.dates)} day(s)" if res.dates else "")
    msg = f"{original_name}: {res.status}" + (f" ({what})" if what else "")
    if res.message:
        msg += f": {res.message}"
    return msg
