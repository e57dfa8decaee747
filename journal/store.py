"""The :class:`Journal`: one database, several runners, everything a runner logs.

Every public write is one transaction, checked before it starts: it either
completes and is on disk when the method returns (SQLite: WAL,
``synchronous=FULL``), or raises and changes nothing.  Importing the same
content twice does nothing the second time (SHA-256 of the file, or of the
document's canonical JSON).  A FIT file and an analysis document of the same
run (their times overlap by half the shorter one or more) become one run.

Units follow :mod:`analysis.constants`: SI, the unit in every name
(``duration_s``, ``distance_m``, ``sleep_s``).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analysis.jsonable import jsonable
from journal import documents as docs
from journal import load as L
from journal import validate as v
from journal.db import (
    EXERCISE_CATEGORIES,
    LIFTING_LEVELS,
    PAIN_LOCATIONS,
    PAIN_TIMINGS,
    RUN_KINDS,
    SEXES,
    Checkin,
    ExerciseSession,
    FileImport,
    PainReport,
    Run,
    Runner,
    SittingDay,
    default_url,
    make_engine,
    normalise_url,
)
from journal.errors import FileImportError, InvalidValueError, JournalError, UnknownRunnerError
from journal.link import JournalData, PainEpisode, Timeline, build_timeline

EXPORT_SCHEMA = "backstride.journal-export/1"
#: Fastest plausible average running speed (the 100 m world record is 10.4 m/s).
MAX_SPEED_M_S = 11.0
#: Two sources of one run (a watch's FIT session and a sensor's recording) cover the same span when the longer is at
#: most this many times the shorter; otherwise the longer one's time, distance, heart rate and step count are the
#: run's (a 6-min recording inside a 2-h watch session gave "20 km in 6 min").
SPAN_RATIO_SAME = 1.25
#: A recording's counts and sums over its steps: of its part only when it covers part of a watch's run.
PART_ONLY_COLUMNS = ("steps_n", "mechanical_load_au")
MAX_DISTANCE_M = 500_000.0
#: First characters that make a spreadsheet read a CSV cell as a formula (tab and CR too).
_FORMULA_FIRST = ("=", "+", "-", "@", "\t", "\r")
MAX_RUN_S = 48 * 3600.0
#: Longest core or mobility session the journal takes.
MAX_EXERCISE_S = 6 * 3600.0
PAIN_ALIASES = {"lower-back": "lower-back-centre", "lower-back-center": "lower-back-centre",
                "lower-back-middle": "lower-back-centre", "back": "lower-back-centre"}
TIMING_ALIASES = {"during": "during-run", "after": "after-run", "morning": "next-morning", "work": "at-work"}
_UNSET: Any = object()

#: The run columns an analysis of the recording gives (besides the stored summary) and a newer analysis of the same
#: recording replaces (:meth:`Journal.refresh_analysis`), with the words the dashboard uses for them.  The cadence
#: only without a FIT file, the duration only for a run that came from the analysis alone.
ANALYSED_RUN_COLUMNS = {"steps_n": "running steps", "impact_index_mean": "impact index",
                        "mechanical_load_au": "mechanical load", "heel_strike_share": "heel-strike share",
                        "trunk_lean_fwd_deg": "trunk lean forward", "trunk_lean_fwd_drift_deg": "trunk-lean drift",
                        "cadence_spm": "cadence", "duration_s": "duration"}


@dataclass(frozen=True)
class RunnerInfo:
    id: int
    name: str
    timezone: str
    hr_rest_bpm: float | None
    hr_max_bpm: float | None
    sex: str | None


@dataclass(frozen=True)
class ImportResult:
    """What one import did.

    ``status`` is ``"imported"`` (new entries), ``"merged"`` (added to a run
    already in the journal), ``"updated"`` (replaced an entry of the same day or
    run) or ``"duplicate"`` (nothing changed).
    """

    path: str
    kind: str
    status: str
    run_ids: tuple[int, ...] = ()
    dates: tuple[date, ...] = ()
    message: str = ""


def _part_of_watch_run(run, f: dict) -> bool:
    """Whether a recording whose analysis gave the run fields ``f`` (:func:`journal.documents.analysis_run_fields`)
    covers only part of ``run``, whose span a FIT file gave: the recording's span (else its running time) shorter."""
    span = f.get("recording_span_s") or f.get("duration_s")
    return run.fit_import_id is not None and span is not None and run.duration_s > SPAN_RATIO_SAME * float(span)


def analysed_columns(source: str | None, fit_cadence: bool, other_sensor: Iterable[str] = ()) -> list[str]:
    """Which of :data:`ANALYSED_RUN_COLUMNS` a run of this ``source`` takes from its analysis: not a cadence a FIT
    file gave it (``fit_cadence``), nor a duration that was typed or came from a FIT file, nor what a second sensor
    worn on the same run gave it (``other_sensor``: the run's ``other_sensor_fields``)."""
    return [k for k in ANALYSED_RUN_COLUMNS
            if not (k == "cadence_spm" and fit_cadence) and not (k == "duration_s" and source != "analysis")
            and k not in other_sensor]


def _redate(s: Session, runner_id: int, old: ZoneInfo, zone: ZoneInfo) -> int:
    """Put a runner's runs and pain reports that were dated by the runner's zone ``old`` on the calendar days of
    ``zone``; a run dated otherwise (a FIT file's watch gave its local date) keeps its day, a date-only run keeps
    its date (its start moves to noon there).  Returns how many moved to another day."""
    moved = 0
    for run in s.scalars(sa.select(Run).where(Run.runner_id == runner_id)):
        if not (run.extra or {}).get("time_known", True):
            run.start_utc = datetime.combine(run.local_date, time(12), zone).astimezone(timezone.utc)
            continue
        if (run.extra or {}).get("dated_by") == "watch" or run.start_utc.astimezone(old).date() != run.local_date:
            continue  # not dated by the runner's zone (older journals: a day other than the old zone's)
        day = run.start_utc.astimezone(zone).date()
        moved += day != run.local_date
        run.local_date = day
    for p in s.scalars(sa.select(PainReport).where(PainReport.runner_id == runner_id)):
        if p.reported_utc.astimezone(old).date() != p.local_date:
            continue
        day = p.reported_utc.astimezone(zone).date()
        moved += day != p.local_date
        p.local_date = day
    return moved


def _shown_url(url: str) -> str:
    """``url`` as a person reads it: a SQLite file by its path, a server's URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except sa.exc.ArgumentError:
        return url
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        return u.database
    return u.render_as_string(hide_password=True)


def _open_problem(url: str, exc: Exception) -> str:
    """Why the journal at ``url`` cannot be opened, for a person (the URL's password left out)."""
    from sqlalchemy.engine import make_url

    lines = (str(getattr(exc, "orig", None) or "").strip() or str(exc).strip()).splitlines()
    reason = lines[0] if lines else type(exc).__name__
    try:
        u = make_url(url)
    except sa.exc.ArgumentError:
        return f"journal {url}: not a database URL or file path ({reason})"
    if u.get_backend_name() == "sqlite" and u.database and u.database != ":memory:":
        path = Path(u.database)
        if path.is_dir():
            return f"journal {path}: a folder; give the journal's file, e.g. {path / 'journal.sqlite3'}"
        if path.is_file() and "not a database" in reason:
            return (f"journal {path}: not a backstride journal ({reason}); give the journal's file, or a new "
                    "file name to start one (nothing was changed in this file)")
        if path.is_file():  # locked, read-only, a migration that failed: the journal may well be one
            return f"journal {path}: cannot open it ({reason})"
        return f"journal {path}: cannot open or create it ({reason})"
    if isinstance(exc, ImportError):
        return f"journal {u.render_as_string(hide_password=True)}: the database driver is not installed ({reason})"
    return f"journal {u.render_as_string(hide_password=True)}: cannot open the journal ({reason})"


def _run_import_ids(run: "Run") -> list[int]:
    """The import records a run holds: its FIT file's, its analysis's, each second sensor's
    (``extra["other_sensors"]``) and those a newer import replaced (``extra["earlier_import_ids"]``)."""
    extra = run.extra or {}
    ids = [run.fit_import_id, run.analysis_import_id, *(o.get("import_id") for o in extra.get("other_sensors", [])),
           *extra.get("earlier_import_ids", [])]
    return [int(i) for i in ids if i is not None]


def _held_import_ids(s: Session, runner_id: int) -> set[int]:
    """The import records the runner's runs hold (:func:`_run_import_ids` of each)."""
    return {i for run in s.scalars(sa.select(Run).where(Run.runner_id == runner_id)) for i in _run_import_ids(run)}


def _note_earlier_import(run: "Run", import_id: int) -> None:
    """Keep ``import_id`` with ``run`` after a newer import replaced it (see :func:`_run_import_ids`)."""
    extra = dict(run.extra or {})
    extra["earlier_import_ids"] = sorted(set(extra.get("earlier_import_ids", [])) | {int(import_id)})
    run.extra = extra


def _other_sensor_fields(extra: dict | None) -> tuple[str, ...]:
    """The run columns that the analysis of a second sensor worn on the run filled (see ``_import_analysis``)."""
    return tuple(sorted({k for o in (extra or {}).get("other_sensors", []) for k in o.get("fields", [])}))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _runner_info(r: Runner) -> RunnerInfo:
    return RunnerInfo(r.id, r.name, r.timezone, r.hr_rest_bpm, r.hr_max_bpm, r.sex)


class Journal:
    """A training journal database.

    Open with :meth:`Journal.open` (which creates or migrates the schema) and
    close with :meth:`close`, or use it as a context manager::

        with Journal.open("sqlite:////tmp/j.sqlite3") as j:
            j.add_runner("ana", timezone="Europe/Amsterdam")
            j.add_pain(4, runner="ana", where="lower-back-left", when="after-run")

    ``runner`` arguments take the runner's name; ``None`` means the only
    runner of the journal (an error when there are several).
    """

    def __init__(self, engine: sa.engine.Engine, url: str):
        self._engine = engine
        self._writer = engine.execution_options(sqlite_immediate=True)
        self.url = url
        self.redated_ = 0  # entries the last update_runner moved to another day

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str | Path | None = None) -> "Journal":
        """Open (and create or migrate) the journal at ``url``.

        ``url`` is a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://…``)
        or a file path; None: :func:`journal.db.default_url`.
        """
        from journal.migrate import JournalSchemaError, upgrade

        u = normalise_url(url) if url is not None else default_url()
        engine = None
        try:
            engine = make_engine(u)
            upgrade(engine)
        except (sa.exc.SQLAlchemyError, OSError, ImportError) as exc:  # a file that is no journal, a server down
            if engine is not None:
                engine.dispose()
            raise JournalError(_open_problem(u, exc)) from None
        except JournalSchemaError as exc:
            engine.dispose()
            raise JournalError(f"journal {_shown_url(u)}: {exc}") from None
        except Exception:
            if engine is not None:
                engine.dispose()
            raise
        return cls(engine, u)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read(self) -> Session:
        return Session(self._engine, expire_on_commit=False)

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        """A session for one write; a journal that cannot be written (read-only, locked by another program for
        longer than the wait) is a JournalError saying so: the transaction is rolled back, nothing changed."""
        try:
            with Session(self._writer, expire_on_commit=False) as s:
                yield s
        except sa.exc.OperationalError as exc:
            reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
            why = {"database is locked": "another program is writing to it; try again when it is done"}.get(reason, "")
            raise JournalError(f"journal {_shown_url(self.url)}: cannot write to it ({reason}"
                               f"{'; ' + why if why else ''}); nothing was changed") from None

    # -- runners ---------------------------------------------------------------------------

    def add_runner(self, name: str, *, timezone: str = "UTC", hr_rest_bpm: float | None = None,
                   hr_max_bpm: float | None = None, sex: str | None = None) -> RunnerInfo:
        """Add a runner; ``timezone`` (IANA) decides which calendar day entries belong to."""
        fields = self._runner_fields(name=name, timezone=timezone, hr_rest_bpm=hr_rest_bpm,
                                     hr_max_bpm=hr_max_bpm, sex=sex)
        with self._write() as s, s.begin():
            if s.scalar(sa.select(Runner).where(Runner.name == fields["name"])) is not None:
                raise InvalidValueError("name", name, "a name not yet in the journal",
                                        "choose another name or use the existing runner")
            r = Runner(created_utc=_now(), **fields)
            s.add(r)
            s.flush()
            return _runner_info(r)

    def update_runner(self, name: str, **changes) -> RunnerInfo:
        """Change ``timezone``, ``hr_rest_bpm``, ``hr_max_bpm``, ``sex`` or ``name``.

        A new time zone puts the runner's runs and pain reports on the calendar days of that zone (as when they
        are entered: ``runner add`` without a zone asks for it to be set later); a run typed as a date alone keeps
        its date.  :attr:`redated_` says how many entries moved to another day."""
        allowed = {"name", "timezone", "hr_rest_bpm", "hr_max_bpm", "sex"}
        bad = set(changes) - allowed
        if bad:
            raise InvalidValueError("field", sorted(bad)[0], "one of " + ", ".join(sorted(allowed)))
        self.redated_ = 0
        with self._write() as s, s.begin():
            r = self._runner(s, name)
            current = {k: getattr(r, k) for k in allowed}
            current.update(changes)
            fields = self._runner_fields(**current)
            old_zone = r.timezone
            for k, val in fields.items():
                setattr(r, k, val)
            if fields["timezone"] != old_zone:
                self.redated_ = _redate(s, r.id, ZoneInfo(old_zone), ZoneInfo(fields["timezone"]))
            return _runner_info(r)

    @staticmethod
    def _runner_fields(*, name, timezone, hr_rest_bpm, hr_max_bpm, sex) -> dict:
        f = {
            "name": v.name("name", name, max_len=100),
            "timezone": v.tz("timezone", timezone).key,
            "hr_rest_bpm": v.number("hr_rest_bpm", hr_rest_bpm, lo=25, hi=120, unit="bpm", optional=True),
            "hr_max_bpm": v.number("hr_max_bpm", hr_max_bpm, lo=100, hi=240, unit="bpm", optional=True),
            "sex": v.choice("sex", sex, SEXES, optional=True),
        }
        if f["hr_rest_bpm"] is not None and f["hr_max_bpm"] is not None and f["hr_rest_bpm"] >= f["hr_max_bpm"]:
            raise InvalidValueError("hr_rest_bpm", hr_rest_bpm, f"below hr_max_bpm ({hr_max_bpm})")
        return f

    def runners(self) -> list[RunnerInfo]:
        with self._read() as s:
            return [_runner_info(r) for r in s.scalars(sa.select(Runner).order_by(Runner.name))]

    def runner(self, name: str | None = None) -> RunnerInfo:
        with self._read() as s:
            return _runner_info(self._runner(s, name))

    def _runner(self, s: Session, name: str | None) -> Runner:
        if name is None:
            rs = list(s.scalars(sa.select(Runner).limit(2)))
            if len(rs) == 1:
                return rs[0]
            if not rs:
                raise UnknownRunnerError("the journal has no runner yet: add one with 'backstride runner add NAME'")
            raise UnknownRunnerError("the journal has several runners: say which one (--runner NAME)")
        want = unicodedata.normalize("NFC", str(name).strip())
        r = s.scalar(sa.select(Runner).where(Runner.name == want))
        if r is None:  # a name stored before names were kept composed (José typed as e + accent)
            r = next((x for x in s.scalars(sa.select(Runner)) if unicodedata.normalize("NFC", x.name) == want), None)
        if r is None:
            names = ", ".join(s.scalars(sa.select(Runner.name).order_by(Runner.name))) or "none"
            raise UnknownRunnerError(f"no runner named {name!r} in the journal (runners: {names})")
        return r

    # -- runs ------------------------------------------------------------------------------

    def add_run(self, *, start: datetime | date | str, duration_s: float, distance_m: float | None = None,
                rpe: float | None = None, kind: str | None = None, avg_hr_bpm: float | None = None,
                max_hr_bpm: float | None = None, note: str | None = None, runner: str | None = None) -> int:
        """Add a run typed by hand; returns its id.

        ``start`` is a datetime (naive: the runner's local time), an ISO text,
        or a date alone (the run is then placed at noon and never merged with a
        file by time).  TRIMP is computed from ``avg_hr_bpm`` when the runner's
        resting and maximum heart rate are known.
        """
        with self._write() as s, s.begin():
            r = self._runner(s, runner)
            zone = ZoneInfo(r.timezone)
            time_known = True
            if isinstance(start, date) and not isinstance(start, datetime):
                start_utc = datetime.combine(start, time(12), zone).astimezone(timezone.utc)
                time_known = False
            elif isinstance(start, str) and not any(c in start for c in "T :"):  # 2026-11-05 or 20261105
                d = v.day("start", start)
                start_utc = datetime.combine(d, time(12), zone).astimezone(timezone.utc)
                time_known = False
            else:
                start_utc = v.moment("start", start, zone)
            now = _now()
            if (start_utc > now + timedelta(minutes=5) if time_known
                    else start_utc.astimezone(zone).date() > now.astimezone(zone).date()):
                # a run dated ahead would also move every "last N weeks" view (timeline, run list) past the real ones
                raise InvalidValueError("start", start, "a start not in the future",
                                        "runs are logged once they have happened")
            f = self._run_values(duration_s=duration_s, distance_m=distance_m, rpe=rpe, kind=kind,
                                 avg_hr_bpm=avg_hr_bpm, max_hr_bpm=max_hr_bpm)
            same = self._overlapping(s, r, start_utc, f["duration_s"]) if time_known else None
            if same is not None:
                # one run typed twice would count its load twice
                at = same.start_utc.replace(tzinfo=same.start_utc.tzinfo or timezone.utc).astimezone(zone)
                raise InvalidValueError("start", start, "a time no other run covers",
                                        f"run {same.id} ({at:%Y-%m-%d %H:%M}, {same.duration_s / 60:.0f} min) is then: "
                                        "change that run, or delete it first")
            trimp = None
            if f["avg_hr_bpm"] is not None and r.hr_rest_bpm and r.hr_max_bpm:
                trimp = L.trimp_from_mean(f["duration_s"], f["avg_hr_bpm"], hr_rest_bpm=r.hr_rest_bpm,
                                          hr_max_bpm=r.hr_max_bpm, sex=r.sex)
            run = Run(runner_id=r.id, source="manual", start_utc=start_utc,
                      local_date=start_utc.astimezone(zone).date(), trimp_au=trimp,
                      trimp_hr_rest_bpm=r.hr_rest_bpm if trimp is not None else None,
                      trimp_hr_max_bpm=r.hr_max_bpm if trimp is not None else None,
                      note=v.text("note", note, max_len=2000), extra={"time_known": time_known},
                      created_utc=_now(), **f)
            s.add(run)
            s.flush()
            return run.id

    @staticmethod
    def _run_values(*, duration_s, distance_m=None, rpe=None, kind=None, avg_hr_bpm=None, max_hr_bpm=None
                    ) -> dict:
        f = {
            "duration_s": v.number("duration_s", duration_s, lo=0, lo_open=True, hi=MAX_RUN_S, unit="s"),
            "distance_m": v.number("distance_m", distance_m, lo=0, hi=MAX_DISTANCE_M, unit="m", optional=True,
                                   hint="a distance cannot be negative"),
            "rpe": v.number("rpe", rpe, lo=0, hi=10, optional=True, hint="session RPE on the 0-10 scale"),
            "kind": v.choice("kind", kind, RUN_KINDS, optional=True),
            "avg_hr_bpm": v.number("avg_hr_bpm", avg_hr_bpm, lo=25, hi=250, unit="bpm", optional=True),
            "max_hr_bpm": v.number("max_hr_bpm", max_hr_bpm, lo=25, hi=250, unit="bpm", optional=True),
        }
        if f["distance_m"] is not None and f["distance_m"] / f["duration_s"] > MAX_SPEED_M_S:
            raise InvalidValueError("distance_m", distance_m,
                                    f"at most {MAX_SPEED_M_S:g} m/s × duration ({MAX_SPEED_M_S * f['duration_s']:.0f} m)",
                                    "check the units: metres and seconds")
        return f

    @staticmethod
    def _rpe_kind(rpe, kind) -> dict:
        """Checked session RPE and kind given for imported runs."""
        return {"rpe": v.number("rpe", rpe, lo=0, hi=10, optional=True, hint="session RPE on the 0-10 scale"),
                "kind": v.choice("kind", kind, RUN_KINDS, optional=True)}

    def set_run(self, run_id: int, *, rpe: float | None = _UNSET, kind: str | None = _UNSET,
                note: str | None = _UNSET, runner: str | None = None) -> None:
        """Set (or clear with None) a run's session RPE, kind or note."""
        changes = {}
        if rpe is not _UNSET:
            changes["rpe"] = v.number("rpe", rpe, lo=0, hi=10, optional=True, hint="session RPE on the 0-10 scale")
        if kind is not _UNSET:
            changes["kind"] = v.choice("kind", kind, RUN_KINDS, optional=True)
        if note is not _UNSET:
            changes["note"] = v.text("note", note, max_len=2000)
        with self._write() as s, s.begin():
            run = self._get_run(s, run_id, runner)
            for k, val in changes.items():
                setattr(run, k, val)

    def delete_run(self, run_id: int, *, runner: str | None = None) -> None:
        """Remove a run and the import records of every file it holds (its FIT file, its analysis, a second
        sensor's, and those a newer import of the same recording replaced), so each file can be imported again;
        a record another run or a stored sitting day still holds stays."""
        with self._write() as s, s.begin():
            run = self._get_run(s, run_id, runner)
            ids = set(_run_import_ids(run))
            runner_id = run.runner_id
            s.delete(run)
            s.flush()
            held = _held_import_ids(s, runner_id)
            # the sitting days an all-day recording gave stay, and keep their file (the Day page finds it by it)
            held |= set(s.scalars(sa.select(SittingDay.import_id).where(SittingDay.runner_id == runner_id,
                                                                       SittingDay.import_id.is_not(None))))
            if ids - held:
                s.execute(sa.delete(FileImport).where(FileImport.id.in_(sorted(ids - held))))

    def _get_run(self, s: Session, run_id: int, runner: str | None) -> Run:
        r = self._runner(s, runner)
        run = s.get(Run, v.integer("run_id", run_id, lo=1))
        if run is None or run.runner_id != r.id:
            raise InvalidValueError("run_id", run_id, f"the id of one of {r.name}'s runs",
                                    "list them with 'backstride run list'")
        return run

    # -- imports ---------------------------------------------------------------------------

    def import_file(self, path: str | Path, *, runner: str | None = None, rpe: float | None = None,
                    kind: str | None = None, start: datetime | str | None = None, name: str | None = None
                    ) -> ImportResult:
        """Import a FIT file, an analysis document (.json) or sitting day(s) (.json).  ``name``: the FIT file as
        its owner knows it (an upload's browser file name), recorded and named in later imports' messages."""
        p = Path(path)
        if p.suffix.lower() == ".fit":
            return self.import_fit(p, runner=runner, rpe=rpe, kind=kind, name=name)
        if p.suffix.lower() == ".json":
            doc, raw = docs.load_json(p)
            if docs.is_analysis(doc):
                return self.import_analysis(doc, runner=runner, rpe=rpe, kind=kind, start=start,
                                            source_path=str(p), sha256=docs.content_hash(raw))
            if docs.is_day(doc) or (isinstance(doc, list) and doc and all(docs.is_day(x) for x in doc)):
                return self.add_days(doc if isinstance(doc, list) else [doc], runner=runner,
                                     source_path=str(p), sha256=docs.content_hash(raw))
            raise FileImportError(p, "JSON that is neither an analysis document (schema "
                                     "'backstride.analysis/1') nor a sitting-day summary")
        raise FileImportError(p, f"unknown file type {p.suffix or '(none)'}",
                              "the journal imports .fit and .json; analyse recordings with 'backstride import'")

    def import_fit(self, path: str | Path, *, runner: str | None = None, rpe: float | None = None,
                   kind: str | None = None, name: str | None = None) -> ImportResult:
        """Import the running sessions of a FIT file (see :mod:`journal.fit`); ``name`` as in :meth:`import_file`."""
        from journal.fit import read_fit

        extra = self._rpe_kind(rpe, kind)
        activity = read_fit(path)
        try:
            return self._import_fit(activity, path, runner, extra, name)
        except _Duplicate as exc:
            return ImportResult(str(path), "fit", "duplicate", message=str(exc))
        except IntegrityError:
            return self._raced(str(path), "fit", activity.sha256, runner)

    def _raced(self, path: str, kind: str, sha256: str, runner: str | None) -> ImportResult:
        """A unique constraint fired: another process wrote the same thing at the same moment.

        (SQLite serialises writers, so this happens with PostgreSQL and several
        clients.)  The transaction was rolled back; report a duplicate if the
        other process imported this content, else ask to try again.
        """
        with self._read() as s:
            if self._seen(s, self._runner(s, runner), sha256):
                return ImportResult(path, kind, "duplicate", message="imported at the same moment by another client")
        raise JournalError(f"{path}: another client changed the same entries at the same moment; try again")

    def _import_fit(self, activity, path, runner, extra, name=None) -> ImportResult:
        with self._write() as s, s.begin():
            r = self._runner(s, runner)
            if self._seen(s, r, activity.sha256):
                return ImportResult(str(path), "fit", "duplicate", message="already imported (same content)")
            zone = ZoneInfo(r.timezone)
            prepared = []
            for fr in activity.runs:
                try:
                    vals = self._run_values(duration_s=fr.duration_s, distance_m=fr.distance_m,
                                            avg_hr_bpm=fr.avg_hr_bpm, max_hr_bpm=fr.max_hr_bpm)
                except InvalidValueError as exc:  # named by its file and session (several files may be imported)
                    raise FileImportError(path, f"the running session at {fr.start_utc:%Y-%m-%d %H:%M} UTC: {exc}"
                                          ) from None
                del vals["rpe"], vals["kind"]
                prepared.append((fr, vals))
            imp = self._record_import(s, r, activity.sha256, "fit", name or str(path))
            ids, statuses, notes = [], [], list(activity.notes)
            hr_rest = r.hr_rest_bpm or activity.hr_rest_bpm
            hr_max = r.hr_max_bpm or activity.hr_max_bpm
            for fr, vals in prepared:
                trimp = None
                if hr_rest and hr_max and hr_max > hr_rest:
                    trimp = L.trimp_from_samples(fr.hr_t_s, fr.hr_bpm, hr_rest_bpm=hr_rest, hr_max_bpm=hr_max,
                                                 sex=r.sex)
                    if trimp is None and fr.avg_hr_bpm:
                        trimp = L.trimp_from_mean(fr.duration_s, fr.avg_hr_bpm, hr_rest_bpm=hr_rest,
                                                  hr_max_bpm=hr_max, sex=r.sex)
                fields = dict(
                    vals, trimp_au=trimp, trimp_hr_rest_bpm=hr_rest if trimp is not None else None,
                    trimp_hr_max_bpm=hr_max if trimp is not None else None,
                    cadence_spm=fr.cadence_spm, vertical_oscillation_m=fr.vertical_oscillation_m,
                    stance_time_s=fr.stance_time_s, stance_time_balance_left_pct=fr.stance_time_balance_left_pct,
                    step_length_m=fr.step_length_m, steps_n=fr.steps_n, fit_path=str(Path(path).resolve()),
                    fit_import_id=imp.id)
                existing = self._overlapping(s, r, fr.start_utc, fr.duration_s)
                when = f"the session at {fr.start_utc:%Y-%m-%d %H:%M} UTC"
                if existing is not None and existing.fit_import_id == imp.id:  # the file holds it twice
                    notes.append(f"{when} is in the file twice (run {existing.id}); read once")
                    continue
                if existing is not None and existing.fit_import_id is not None:
                    earlier = s.get(FileImport, existing.fit_import_id)  # as its owner named it (an upload's name)
                    source = earlier.path if earlier is not None and earlier.path else existing.fit_path
                    notes.append(f"{when} is already in the journal (run {existing.id}, from "
                                 f"{Path(source).name if source else 'a FIT file'}); skipped")
                    continue
                if existing is not None:
                    whole_run = ("distance_m", "avg_hr_bpm", "max_hr_bpm", "trimp_au", "trimp_hr_rest_bpm",
                                 "trimp_hr_max_bpm", *PART_ONLY_COLUMNS)
                    recorded = existing.analysis_import_id is not None  # a typed run's values stay as typed
                    covered_s = (existing.extra or {}).get("recording_span_s") or existing.duration_s
                    if recorded and fr.duration_s > SPAN_RATIO_SAME * existing.duration_s:
                        # the watch recorded the whole outing, the sensor part of it: the run is the watch's, with
                        # the sensor's form figures (its step count covered only its part)
                        notes.append(f"{when} ({fr.duration_s / 60:.0f} min) covers more than run {existing.id} "
                                     f"({existing.duration_s / 60:.0f} min, from its recording): the run's time, "
                                     "distance and heart rate are the watch's, the form figures the recording's")
                        existing.start_utc, existing.duration_s = fr.start_utc, fields["duration_s"]
                        existing.local_date = fr.local_date or fr.start_utc.astimezone(zone).date()
                        for k in whole_run:  # the recording's step count and load stay when it covered the run
                            if k not in PART_ONLY_COLUMNS or fr.duration_s > SPAN_RATIO_SAME * covered_s:
                                setattr(existing, k, fields.get(k))
                    elif recorded and existing.duration_s > SPAN_RATIO_SAME * fr.duration_s:
                        notes.append(f"{when} ({fr.duration_s / 60:.0f} min) covers part of run {existing.id} "
                                     f"({existing.duration_s / 60:.0f} min): only its form figures are added (its "
                                     "distance and heart rate are of that part)")
                        fields = {k: val for k, val in fields.items() if k not in whole_run}
                    for k, val in fields.items():
                        if getattr(existing, k) is None and val is not None:
                            setattr(existing, k, val)
                    existing.fit_import_id = imp.id
                    if existing.rpe is None:
                        existing.rpe = extra["rpe"]
                    if existing.kind is None:
                        existing.kind = extra["kind"]
                    ids.append(existing.id)
                    statuses.append("merged")
                    continue
                run = Run(runner_id=r.id, source="fit", start_utc=fr.start_utc,
                          local_date=fr.local_date or fr.start_utc.astimezone(zone).date(),
                          rpe=extra["rpe"], kind=extra["kind"],
                          extra={"time_known": True, "fit": {"manufacturer": activity.manufacturer,
                                                             "product": activity.product,
                                                             "sub_sport": fr.sub_sport},
                                 # the watch's clock dated it: a change of the runner's zone leaves it (_redate)
                                 **({"dated_by": "watch"} if fr.local_date else {})},
                          created_utc=_now(), **{k: val for k, val in fields.items()})
                s.add(run)
                s.flush()
                ids.append(run.id)
                statuses.append("imported")
            if not ids:  # every session already in the journal: nothing of this file is kept
                raise _Duplicate("; ".join(notes))
            status = "imported" if "imported" in statuses else "merged"
            msg = f"{len(ids)} run(s)"
            if activity.skipped_sports:
                msg += f"; skipped sessions: {', '.join(activity.skipped_sports)}"
            return ImportResult(str(path), "fit", status, tuple(ids), message="; ".join([msg, *notes]))

    def import_analysis(self, doc: dict | str | Path, *, runner: str | None = None, start: datetime | str | None = None,
                        rpe: float | None = None, kind: str | None = None, recording_path: str | None = None,
                        source_path: str | None = None, sha256: str | None = None,
                        file_notes: Iterable[str] = ()) -> ImportResult:
        """Import a ``backstride.analysis/1`` document (a dict or a .json path) as a run.

        The summary is stored as given; the run's figures are derived as
        described in :mod:`journal.documents`.  When a run of the same time is
        already in the journal (from a FIT file), the analysis is attached to it.
        ``file_notes``: what the recording's reader noted (``Recording.extra["warnings"]``, e.g. an accelerometer
        without gravity), said in the result's message and in the error when the import is refused.
        """
        notes = [n for n in file_notes if n]
        try:
            res = self._import_analysis_doc(doc, runner=runner, start=start, rpe=rpe, kind=kind,
                                            recording_path=recording_path, source_path=source_path, sha256=sha256)
        except (FileImportError, InvalidValueError) as exc:
            if isinstance(exc, InvalidValueError):  # a value of the file's: named with its file
                where = source_path or (None if isinstance(doc, dict) else str(doc))
                if where is None and not notes:
                    raise
                exc = FileImportError(where or "<dict>", str(exc))
            if not notes:
                raise exc from None
            raise FileImportError(exc.path, "; ".join([exc.problem, *notes])) from None
        if notes and res.status != "duplicate":
            res = dataclasses.replace(res, message="; ".join(m for m in (res.message, *notes) if m))
        return res

    def _import_analysis_doc(self, doc, *, runner, start, rpe, kind, recording_path, source_path, sha256
                             ) -> ImportResult:
        if not isinstance(doc, dict):
            source_path = str(doc)
            doc, raw = docs.load_json(doc)
            sha256 = docs.content_hash(raw)
        src = source_path or "<dict>"
        docs.check_analysis(doc, src)
        sha256 = sha256 or docs.content_hash(doc)
        extra = self._rpe_kind(rpe, kind)
        f = docs.analysis_run_fields(doc, src)
        # An all-day recording's analysis carries its sitting days too; they are checked
        # before anything is written and stored in the same transaction as the run.
        days = doc.get("days") or []
        if not isinstance(days, list):
            raise FileImportError(src, "'days' is not a list of day summaries")
        days_clean, days_note = docs.measured_days(days, src)
        if f["duration_s"] is None:
            if days_clean:
                return self.add_days(days, runner=runner, source_path=source_path, sha256=sha256)
            raise FileImportError(src, "the analysis document has no running in it (no running bouts, "
                                       "no summary.running.duration_s) and no sitting days"
                                  + (f" ({days_note})" if days_note else ""), "was it a walk?")
        vals = self._run_values(duration_s=f["duration_s"], distance_m=f["distance_m"])
        rec = recording_path or _found_recording(docs.analysis_recording_path(doc), source_path)
        try:
            res = self._import_analysis(doc, src, sha256, runner, start, extra, f, vals, rec, source_path,
                                        days_clean)
        except IntegrityError:
            return self._raced(src, "analysis", sha256, runner)
        if days_note and res.status != "duplicate":
            res = dataclasses.replace(res, message="; ".join(m for m in (res.message, days_note) if m))
        return res

    def _import_analysis(self, doc, src, sha256, runner, start, extra, f, vals, rec, source_path,
                         days_clean=()) -> ImportResult:
        with self._write() as s, s.begin():
            r = self._runner(s, runner)
            if self._seen(s, r, sha256):  # (the one 'seen?' check of every import; tests stand in for a race by it)
                earlier = s.scalar(sa.select(FileImport).where(FileImport.runner_id == r.id,
                                                               FileImport.sha256 == sha256))
                if earlier.id in _held_import_ids(s, r.id):
                    return ImportResult(src, "analysis", "duplicate", message="already imported (same content)")
                # an all-day recording whose run was deleted and whose days stayed (delete_run keeps the record
                # they hold): imported again, it gives its run back and stores its days anew under a new record
                s.delete(earlier)
                s.flush()
            zone = ZoneInfo(r.timezone)
            t0 = v.moment("start", start, zone) if start is not None else docs.analysis_start(doc)
            if t0 is None:
                raise FileImportError(src, "the analysis document has no start time (summary.start_utc)",
                                      "pass the start: --start 2026-03-01T07:30")
            if not (datetime.combine(v.EARLIEST_DATE, time(), timezone.utc) <= t0 <= _now() + timedelta(days=1)):
                # a sensor whose clock was never set: dated ahead, the run would move every "last N weeks" view
                raise FileImportError(src, f"the run starts {t0:%Y-%m-%d %H:%M} UTC, "
                                      + ("in the future" if t0 > _now() else f"before {v.EARLIEST_DATE}"),
                                      "was the sensor's clock set? pass the start: --start 2026-03-01T07:30")
            imp = self._record_import(s, r, sha256, "analysis", source_path)
            dates = tuple(self._store_days(s, r, imp, days_clean)[1]) if days_clean else ()
            fields = {
                "steps_n": f["steps_n"], "impact_index_mean": f["impact_index_mean"],
                "mechanical_load_au": f["mechanical_load_au"], "heel_strike_share": f["heel_strike_share"],
                "trunk_lean_fwd_deg": f["trunk_lean_fwd_deg"],
                "trunk_lean_fwd_drift_deg": f["trunk_lean_fwd_drift_deg"],
                "analysis_summary": doc["summary"], "recording_path": rec, "analysis_import_id": imp.id,
            }
            heart, heart_problem = _strap_heart_rate(rec, t0, vals["duration_s"], r)
            same = self._same_recording(s, r, rec, doc)
            existing = same or self._overlapping(s, r, t0, vals["duration_s"])
            first_placement = (existing.extra or {}).get("placement") if existing is not None else None
            if (existing is not None and same is None and existing.analysis_import_id is not None
                    and first_placement is not None and first_placement != doc.get("placement")):
                return self._add_other_sensor(existing, fields, imp, doc, rec, src, dates, first_placement)
            if existing is not None:
                status = "updated" if existing.analysis_import_id is not None else "merged"
                replaced = None
                partial, part_only = None, ()
                if _part_of_watch_run(existing, f):
                    # the recording covers part of the watch's run: its counts and sums are of that part
                    part_only = PART_ONLY_COLUMNS
                    fields = {k: val for k, val in fields.items() if k not in part_only}
                    partial = (f"the recording ({(f['recording_span_s'] or vals['duration_s']) / 60:.0f} min) covers part "
                               f"of run {existing.id} "
                               f"({existing.duration_s / 60:.0f} min, from a FIT file): its form figures are added, "
                               "not its step count or mechanical load")
                if (status == "updated" and rec and existing.recording_path
                        and Path(existing.recording_path).resolve() != Path(rec).resolve()):
                    # named as it was imported (an upload by its browser file name, not its stored copy)
                    earlier = s.get(FileImport, existing.analysis_import_id)
                    replaced = (earlier.path if earlier is not None and earlier.path else None) or existing.recording_path
                if existing.analysis_import_id not in (None, imp.id):  # the file it replaces is still the run's
                    _note_earlier_import(existing, existing.analysis_import_id)
                other = _other_sensor_fields(existing.extra)  # a second sensor's figures stay (_add_other_sensor)
                for k, val in fields.items():
                    if k not in other:
                        setattr(existing, k, val)
                # as refresh_analysis: a FIT file's cadence and a typed or FIT duration stay
                for k, val in self._analysed_values(existing, f).items():
                    if k not in fields and k not in part_only:
                        setattr(existing, k, val)
                for k, val in heart.items():  # heart rate from a FIT file is kept
                    if getattr(existing, k) is None:
                        setattr(existing, k, val)
                for k in ("distance_m",):
                    if getattr(existing, k) is None:
                        setattr(existing, k, vals[k])
                if existing.rpe is None:
                    existing.rpe = extra["rpe"]
                if existing.kind is None:
                    existing.kind = extra["kind"]
                if doc.get("placement") and not first_placement:  # whose analysis it now has (see _add_other_sensor)
                    existing.extra = dict(existing.extra or {}, placement=doc.get("placement"))
                if f["recording_span_s"] and "recording_span_s" not in other:
                    existing.extra = dict(existing.extra or {}, recording_span_s=f["recording_span_s"])
                said = [m for m in (heart_problem, partial) if m]
                if replaced:  # another file of the same time and placement: say whose figures the run had
                    said.append(f"this recording's analysis replaced the run's figures, which came from {replaced} "
                                "(the same time and placement); to keep that file's figures instead, delete the run "
                                "(its RPE, kind and note go with it) and import that file again")
                return ImportResult(src, "analysis", status, (existing.id,), dates=dates,
                                    message="; ".join(said) or None)
            run = Run(runner_id=r.id, source="analysis", start_utc=t0, local_date=t0.astimezone(zone).date(),
                      rpe=extra["rpe"], kind=extra["kind"], cadence_spm=f["cadence_spm"],
                      extra={"time_known": True, "placement": doc.get("placement"),
                             "generator": doc.get("generator"), "recording_span_s": f["recording_span_s"]},
                      created_utc=_now(),
                      duration_s=vals["duration_s"], distance_m=vals["distance_m"], **fields, **heart)
            s.add(run)
            s.flush()
            return ImportResult(src, "analysis", "imported", (run.id,), dates=dates, message=heart_problem)

    @staticmethod
    def _add_other_sensor(run: Run, fields: dict, imp: FileImport, doc: dict, rec, src, dates,
                          first_placement) -> ImportResult:
        """A second sensor worn on a run that already has its analysis (a belt and a shoe): its analysis fills
        the figures the first one cannot measure (heel-strike share from a shoe, trunk lean and impact index from a
        belt) and replaces none of the first's; the run keeps its first recording, and notes the second in
        ``extra``.  A newer analysis of that second sensor (same placement) replaces what it gave."""
        placement = doc.get("placement")
        extra = dict(run.extra or {})
        others = list(extra.get("other_sensors", []))
        before = next((o for o in others if o.get("placement") == placement), None)
        own = set(before.get("fields", [])) if before else set()
        filled = {k: val for k, val in fields.items()
                  if k in ANALYSED_RUN_COLUMNS and val is not None and (k in own or getattr(run, k) is None)}
        for k in own - set(filled):  # what that sensor gave before and its newer analysis does not
            setattr(run, k, None)
        for k, val in filled.items():
            setattr(run, k, val)
        extra["other_sensors"] = [o for o in others if o is not before] + [
            {"placement": placement, "recording_path": rec, "import_id": imp.id, "fields": sorted(filled)}]
        run.extra = extra  # a new dict: the JSON column sees the change
        if before and before.get("import_id") not in (None, imp.id):
            _note_earlier_import(run, before["import_id"])
        what = ", ".join(ANALYSED_RUN_COLUMNS[k] for k in filled) or "nothing the first did not have"
        return ImportResult(src, "analysis", "merged", (run.id,), dates=dates,
                            message=f"a second sensor ({placement}) on this run: it added {what}; "
                                    f"the run's other figures stay those of its {first_placement or 'first'} sensor")

    def refresh_analysis(self, run_id: int, doc: dict, *, runner: str | None = None) -> dict[str, tuple]:
        """Replace the figures an analysis gave run ``run_id`` with those of ``doc``: the same recording analysed
        again, by a newer version of backstride (the dashboard's Run page offers it when the two differ).

        Replaced: steps, impact index and mechanical load, heel-strike share, trunk lean and its drift, the stored
        summary, the cadence unless a FIT file gave it, and the running duration of a run that came from the
        analysis alone (a FIT file's or a typed duration stays).  The start, RPE, kind, note and heart rate stay.
        The run keeps its import record (so importing the old document again is still a duplicate).  Returns
        ``{column: (before, after)}`` for each figure that changed.
        """
        docs.check_analysis(doc)
        f = docs.analysis_run_fields(doc)
        with self._write() as s, s.begin():
            run = self._get_run(s, run_id, runner)
            if run.analysis_import_id is None:
                raise InvalidValueError("run_id", run_id, "a run imported with an analysis of its recording",
                                        "this run has none: import the recording's analysis instead")
            new = self._analysed_values(run, f)
            changed = {k: (getattr(run, k), val) for k, val in new.items() if getattr(run, k) != val}
            for k, (_, val) in changed.items():
                setattr(run, k, val)
            run.analysis_summary = doc["summary"]
            return changed

    def _analysed_values(self, run: Run, f: dict) -> dict:
        """The columns (:func:`analysed_columns`) run ``run`` takes from an analysis whose run fields are ``f``
        (a FIT run without a cadence takes the analysis's)."""
        fit_cadence = run.fit_import_id is not None and run.cadence_spm is not None
        new = {k: f[k] for k in analysed_columns(run.source, fit_cadence, _other_sensor_fields(run.extra))}
        if _part_of_watch_run(run, f):  # the watch's span stays; the recording's counts and sums were of a part
            for k in ("duration_s", *PART_ONLY_COLUMNS):
                new.pop(k, None)
        if "duration_s" in new:
            if f["duration_s"] is None:
                del new["duration_s"]
            else:
                new["duration_s"] = self._run_values(duration_s=f["duration_s"])["duration_s"]
        return new

    def add_day(self, summary: dict, *, runner: str | None = None) -> ImportResult:
        """Store the sitting summary of one all-day recording (see :mod:`journal.documents`)."""
        return self.add_days([summary], runner=runner)

    def add_days(self, summaries: list[dict], *, runner: str | None = None, source_path: str | None = None,
                 sha256: str | None = None) -> ImportResult:
        """Store several sitting days at once (all or none); a day already present is replaced.  A day worn too
        little to measure (``sitting_s`` null, flag ``insufficient-wear``) is left out, and the result says so."""
        src = source_path or "<dict>"
        try:
            cleaned, note = docs.measured_days(summaries, src)
        except InvalidValueError as exc:
            if source_path is None:
                raise
            raise FileImportError(src, str(exc)) from None
        if not cleaned:
            raise FileImportError(src, note or ("no day in it was worn long enough to measure sitting" if summaries
                                                else "no sitting days in it"))
        dates = [c["date"] for c in cleaned]
        if len(set(dates)) != len(dates):
            repeated = str(sorted(d for d in dates if dates.count(d) > 1)[0])
            if source_path is None:
                raise InvalidValueError("date", repeated, "each date once")
            raise FileImportError(src, f"day {repeated} is in it twice", "each date once")
        sha256 = sha256 or docs.content_hash(summaries if len(summaries) != 1 else summaries[0])
        try:
            res = self._add_days(cleaned, dates, src, source_path, sha256, runner)
        except IntegrityError:
            return self._raced(src, "day", sha256, runner)
        return dataclasses.replace(res, message=note) if note and res.status != "duplicate" else res

    def _add_days(self, cleaned, dates, src, source_path, sha256, runner) -> ImportResult:
        with self._write() as s, s.begin():
            r = self._runner(s, runner)
            if self._seen(s, r, sha256):
                return ImportResult(src, "day", "duplicate", dates=tuple(dates),
                                    message="already imported (same content)")
            imp = self._record_import(s, r, sha256, "day", source_path)
            status, _ = self._store_days(s, r, imp, cleaned)
            return ImportResult(src, "day", status, dates=tuple(dates))

    @staticmethod
    def _store_days(s: Session, r: Runner, imp: FileImport | None, cleaned) -> tuple[str, list]:
        """Insert or replace checked day summaries; returns ("imported"|"updated", dates)."""
        status = "imported"
        for c in cleaned:
            row = s.scalar(sa.select(SittingDay).where(SittingDay.runner_id == r.id,
                                                       SittingDay.date == c["date"]))
            if row is None:
                s.add(SittingDay(runner_id=r.id, import_id=imp.id if imp else None, **c))
            else:
                status = "updated"
                for k, val in c.items():
                    setattr(row, k, val)
                row.import_id = imp.id if imp else None
        return status, [c["date"] for c in cleaned]

    @staticmethod
    def _seen(s: Session, r: Runner, sha256: str) -> bool:
        return s.scalar(sa.select(FileImport.id).where(FileImport.runner_id == r.id,
                                                       FileImport.sha256 == sha256)) is not None

    @staticmethod
    def _record_import(s: Session, r: Runner, sha256: str, kind: str, path: str | None) -> FileImport:
        imp = FileImport(runner_id=r.id, sha256=sha256, kind=kind,
                         path=None if path is None else str(path), imported_utc=_now())
        s.add(imp)
        s.flush()
        return imp

    @staticmethod
    def _same_recording(s: Session, r: Runner, rec: str | None, doc: dict) -> Run | None:
        """The run an earlier analysis of this recording made: same recording path, and its start inside the
        recording's time span (a file name used again for another day's recording is another run).  Found so, a
        newer analysis updates it wherever its start now falls (older versions dated an all-day recording's run
        at the recording's start)."""
        t0 = docs.recording_start(doc)
        length = docs.summary_number((doc.get("recording") or {}).get("duration_s"))
        if not rec or t0 is None or length is None:
            return None
        for c in s.scalars(sa.select(Run).where(Run.runner_id == r.id, Run.recording_path == rec,
                                                Run.analysis_import_id.is_not(None))):
            start = c.start_utc if c.start_utc.tzinfo else c.start_utc.replace(tzinfo=timezone.utc)
            if t0 - timedelta(seconds=1) <= start <= t0 + timedelta(seconds=length):
                return c
        return None

    @staticmethod
    def _overlapping(s: Session, r: Runner, start_utc: datetime, duration_s: float) -> Run | None:
        """The run whose time overlaps [start, start + duration] by half the shorter one or more."""
        end = start_utc + timedelta(seconds=duration_s)
        cands = s.scalars(sa.select(Run).where(
            Run.runner_id == r.id,
            Run.start_utc >= start_utc - timedelta(hours=49),
            Run.start_utc <= end)).all()
        best, best_overlap = None, 0.0
        for c in cands:
            if not (c.extra or {}).get("time_known", True):
                continue
            c_end = c.start_utc + timedelta(seconds=c.duration_s)
            overlap = (min(end, c_end) - max(start_utc, c.start_utc)).total_seconds()
            if overlap >= 0.5 * min(duration_s, c.duration_s) and overlap > best_overlap:
                best, best_overlap = c, overlap
        return best

    # -- pain, check-ins, exercise ------------------------------------------------------------

    def add_pain(self, rating: int, *, where: str, when: str, at: datetime | str | None = None,
                 note: str | None = None, runner: str | None = None) -> int:
        """Record pain: ``rating`` 0-10, ``where`` (:data:`journal.db.PAIN_LOCATIONS`),
        ``when`` (:data:`journal.db.PAIN_TIMINGS`), ``at`` (default now)."""
        rating_v = v.integer("rating", rating, lo=0, hi=10, hint="pain is rated from 0 (none) to 10 (worst imaginable)")
        loc = v.choice("where", where, PAIN_LOCATIONS, aliases=PAIN_ALIASES)
        timing = v.choice("when", when, PAIN_TIMINGS, aliases=TIMING_ALIASES)
        note_v = v.text("note", note, max_len=2000)
        with self._write() as s, s.begin():
            r = self._runner(s, runner)
            zone = ZoneInfo(r.timezone)
            t = _now() if at is None else v.moment("at", at, zone)
            if t > _now() + timedelta(minutes=5):
                raise InvalidValueError("at", at, "a time not in the future")
            p = PainReport(runner_id=r.id, reported_utc=t, local_date=t.astimezone(zone).date(), rating=rating_v,
                           location=loc, timing=timing, note=note_v)
            s.add(p)
            s.flush()
            return p.id

    def add_checkin(self, *, day: date | str | None = None, sleep_s: float | None = None,
                    sleep_quality: int | None = None, stress: int | None = None, work_sitting_s: float | None = None,
                    work_standing_s: float | None = None, lifting: str | None = None, note: str | None = None,
                    runner: str | None = None) -> int:
        """Record (or complete) the daily check-in of ``day`` (default today).

        ``sleep_quality`` 1 (very poor) to 5 (very good); ``stress`` 1 (none)
        to 5 (very high); ``lifting`` none, light or heavy.  Values not given
        keep what an earlier check-in of the same day said.
        """
        f = {
            "sleep_s": v.number("sleep_s", sleep_s, lo=0, hi=24 * 3600, unit="s", optional=True),
            "sleep_quality": v.integer("sleep_quality", sleep_quality, lo=1, hi=5, optional=True),
            "stress": v.integer("stress", stress, lo=1, hi=5, optional=True),
            "work_sitting_s": v.number("work_sitting_s", work_sitting_s, lo=0, hi=24 * 3600, unit="s", optional=True),
            "work_standing_s": v.number("work_standing_s", work_standing_s, lo=0, hi=24 * 3600, unit="s",
                                        optional=True),
            "lifting": v.choice("lifting", lifting, LIFTING_LEVELS, optional=True),
            "note": v.text("note", note, max_len=2000),
        }
        if (f["work_sitting_s"] or 0) + (f["work_standing_s"] or 0) > 24 * 3600:
            raise InvalidValueError("work_sitting_s + work_standing_s", (work_sitting_s, work_standing_s),
                                    "at most 24 h together")
        with self._write() as s, s.begin():
            r = self._runner(s, runner)
            d = self._day_or_today(day, r)
            row = s.scalar(sa.select(Checkin).where(Checkin.runner_id == r.id, Checkin.date == d))
            if row is None:
                row = Checkin(runner_id=r.id, date=d, **f)
                s.add(row)
            else:
                for k, val in f.items():
                    if val is not None:
                        setattr(row, k, val)
            if (row.work_sitting_s or 0) + (row.work_standing_s or 0) > 24 * 3600:  # with the day's earlier check-in
                raise JournalError(f"--sitting-h + --standing-h: {(row.work_sitting_s or 0) / 3600:g} h + "
                                   f"{(row.work_standing_s or 0) / 3600:g} h on {d} with what an earlier check-in that "
                                   "day said, expected at most 24 h together")
            s.flush()
            return row.id

    def add_exercise(self, name: str, *, category: str = "core", sets: int | None = None,
                     duration_s: float | None = None, day: date | str | None = None, note: str | None = None,
                     runner: str | None = None) -> int:
        """Record a core or mobility session (``sets`` and/or ``duration_s``)."""
        f = {
            "name": v.text("name", name, max_len=64, optional=False),
            "category": v.choice("category", category, EXERCISE_CATEGORIES),
            "sets": v.integer("sets", sets, lo=1, hi=100, optional=True),
            "duration_s": v.number("duration_s", duration_s, lo=0, lo_open=True, hi=MAX_EXERCISE_S, unit="s",
                                   optional=True),
            "note": v.text("note", note, max_len=2000),
        }
        if f["sets"] is None and f["duration_s"] is None:
            raise InvalidValueError("sets/duration_s", None, "the number of sets, the duration, or both")
        with self._write() as s, s.begin():
            r = self._runner(s, runner)
            e = ExerciseSession(runner_id=r.id, date=self._day_or_today(day, r), **f)
            s.add(e)
            s.flush()
            return e.id

    @staticmethod
    def _day_or_today(day, r: Runner) -> date:
        today = _now().astimezone(ZoneInfo(r.timezone)).date()
        if day is None:
            return today
        d = v.day("day", day)
        if d > today:
            raise InvalidValueError("day", day, f"a day not after today ({today})")
        return d

    # -- reading ---------------------------------------------------------------------------

    _RUN_COLUMNS = ("id", "source", "start_utc", "local_date", "kind", "duration_s", "distance_m", "rpe",
                    "session_load_au", "avg_hr_bpm", "max_hr_bpm", "trimp_au", "cadence_spm",
                    "vertical_oscillation_m", "stance_time_s", "stance_time_balance_left_pct", "step_length_m",
                    "steps_n", "impact_index_mean", "mechanical_load_au", "heel_strike_share",
                    "trunk_lean_fwd_deg", "trunk_lean_fwd_drift_deg", "recording_path", "fit_path",
                    "analysis_summary", "note", "time_known", "other_sensor_fields")

    def _frame(self, model, runner: str | None, date_col: str, columns: Iterable[str],
               start: date | None, end: date | None) -> pd.DataFrame:
        with self._read() as s:
            r = self._runner(s, runner)
            dc = getattr(model, date_col)
            q = sa.select(model).where(model.runner_id == r.id)
            if start is not None:
                q = q.where(dc >= v.day("start", start))
            if end is not None:
                q = q.where(dc <= v.day("end", end))
            order = [dc, model.reported_utc] if model is PainReport else [dc]
            if model is Run:
                order = [Run.start_utc]
            columns = list(columns)
            # Plain column tuples, not ORM objects: the same values (same result processing) at a fraction
            # of the cost, which matters for a year of history on every page view.
            computed = ("session_load_au", "time_known", "other_sensor_fields")
            stored = [c for c in columns if c not in computed]
            extra = [c for c in ("duration_s", "rpe") if "session_load_au" in columns and c not in stored]
            extra += ["extra"] if {"time_known", "other_sensor_fields"} & set(columns) else []
            q = q.with_only_columns(*[getattr(model, c) for c in stored + extra])
            rows = s.execute(q.order_by(*order, model.id)).all()
        pos = {c: i for i, c in enumerate(stored + extra)}
        data = [[(L.session_load_au(row[pos["duration_s"]], row[pos["rpe"]]) if c == "session_load_au"
                  else bool((row[pos["extra"]] or {}).get("time_known", True)) if c == "time_known"
                  else _other_sensor_fields(row[pos["extra"]]) if c == "other_sensor_fields"
                  else row[pos[c]]) for c in columns] for row in rows]
        df = pd.DataFrame(data, columns=columns)
        return df.astype({c: float for c in columns if c in _FLOAT_COLS and c in df}) if len(df) else df

    def runs(self, *, runner: str | None = None, start: date | None = None, end: date | None = None) -> pd.DataFrame:
        """The runner's runs, oldest first (one row per run, SI units, ``session_load_au`` computed;
        ``time_known`` False for a run entered with a date alone, whose ``start_utc`` is noon of that day;
        ``other_sensor_fields``: the columns a second sensor worn on the run filled, see ``_add_other_sensor``)."""
        return self._frame(Run, runner, "local_date", self._RUN_COLUMNS, start, end)

    def run_recordings(self, *, runner: str | None = None) -> list[str]:
        """The recording files the runner's runs hold, as stored (oldest run first): each run's own
        (``recording_path``) and those of the second sensors worn on it (``extra["other_sensors"]``)."""
        with self._read() as s:
            r = self._runner(s, runner)
            rows = s.execute(sa.select(Run.recording_path, Run.extra).where(Run.runner_id == r.id)
                             .order_by(Run.start_utc, Run.id)).all()
        paths = [p for own, extra in rows
                 for p in (own, *(o.get("recording_path") for o in (extra or {}).get("other_sensors", [])))]
        return [p for p in paths if isinstance(p, str) and p]

    def holds_file(self, path: str | Path) -> bool:
        """Whether any runner's run keeps the file at ``path`` (its recording, a second sensor's, or its FIT file)."""
        want = str(Path(path).resolve())
        with self._read() as s:
            if s.scalar(sa.select(sa.func.count()).select_from(Run)
                        .where(sa.or_(Run.recording_path == want, Run.fit_path == want))):
                return True
            extras = s.scalars(sa.select(Run.extra).where(Run.extra.is_not(None))).all()
        return any(o.get("recording_path") == want for extra in extras for o in (extra or {}).get("other_sensors", [])
                   if isinstance(o, dict))

    def sitting_days(self, *, runner: str | None = None, start: date | None = None, end: date | None = None
                     ) -> pd.DataFrame:
        return self._frame(SittingDay, runner, "date", ("id", "date", "sitting_s", "bouts_ge_30min", "bouts_ge_2h",
                                                        "longest_sitting_s", "breaks_per_sitting_h", "wear_s",
                                                        "flags"), start, end)

    def imports(self, *, runner: str | None = None) -> pd.DataFrame:
        """The files imported for the runner: ``sha256`` of their content, ``kind`` (fit, analysis, day), the
        ``path`` given at import, ``imported_utc`` and ``run_held`` (a run holds it as its FIT file, its analysis or
        a second sensor's), oldest first (an upload's link to its runner, also where it
        made no run: an all-day recording without running gives sitting days only)."""
        with self._read() as s:
            r = self._runner(s, runner)
            rows = s.execute(sa.select(FileImport.id, FileImport.sha256, FileImport.kind, FileImport.path,
                                       FileImport.imported_utc)
                             .where(FileImport.runner_id == r.id)
                             .order_by(FileImport.imported_utc, FileImport.id)).all()
            held = _held_import_ids(s, r.id)
        out = pd.DataFrame(rows, columns=["id", "sha256", "kind", "path", "imported_utc"])
        out["run_held"] = out["id"].isin(held)
        return out.drop(columns="id")

    def pain_reports(self, *, runner: str | None = None, start: date | None = None, end: date | None = None
                     ) -> pd.DataFrame:
        return self._frame(PainReport, runner, "local_date", ("id", "reported_utc", "local_date", "rating",
                                                              "location", "timing", "note"), start, end)

    def checkins(self, *, runner: str | None = None, start: date | None = None, end: date | None = None
                 ) -> pd.DataFrame:
        return self._frame(Checkin, runner, "date", ("id", "date", "sleep_s", "sleep_quality", "stress",
                                                     "work_sitting_s", "work_standing_s", "lifting", "note"),
                           start, end)

    def exercises(self, *, runner: str | None = None, start: date | None = None, end: date | None = None
                  ) -> pd.DataFrame:
        return self._frame(ExerciseSession, runner, "date", ("id", "date", "name", "category", "sets",
                                                             "duration_s", "note"), start, end)

    def data(self, *, runner: str | None = None) -> JournalData:
        """Everything stored for the runner, as DataFrames."""
        info = self.runner(runner)
        return JournalData(runner=asdict(info), runs=self.runs(runner=info.name),
                           days=self.sitting_days(runner=info.name), pains=self.pain_reports(runner=info.name),
                           checkins=self.checkins(runner=info.name), exercises=self.exercises(runner=info.name))

    def timeline(self, *, runner: str | None = None, weeks: int | None = 8, start: date | str | None = None,
                 end: date | str | None = None, load: str = "session", unlogged: str = "unknown",
                 **settings) -> Timeline:
        """The daily timeline (see :func:`journal.link.build_timeline`).

        Without ``start``, the last ``weeks`` whole calendar weeks up to
        ``end`` (default: the last day with an entry, or today);
        ``weeks=None``: the whole history.
        """
        data = self.data(runner=runner)
        end_d = v.day("end", end) if end is not None else None
        if end_d is None:
            logged = data.logged_dates()
            end_d = max(logged) if logged else _now().astimezone(ZoneInfo(data.runner["timezone"])).date()
        if start is not None:
            start_d = v.day("start", start)
        elif weeks is None:  # the whole history, from the Monday of the first entry
            logged = data.logged_dates()
            first = min(logged) if logged else end_d
            start_d = first - timedelta(days=first.weekday())
        else:
            w = v.integer("weeks", weeks, lo=1, hi=5200)
            start_d = end_d - timedelta(days=end_d.weekday()) - timedelta(weeks=w - 1)
        return build_timeline(data, start=start_d, end=end_d, load=load, unlogged=unlogged, **settings)

    def associations(self, *, runner: str | None = None, max_lag_days: int = 3, **timeline_kw) -> pd.DataFrame:
        """Lagged Spearman associations of pain with each factor (whole history by default)."""
        timeline_kw.setdefault("weeks", None)
        return self.timeline(runner=runner, **timeline_kw).associations(max_lag_days=max_lag_days)

    def pain_episodes(self, *, runner: str | None = None, rise_min: float = 2.0, **timeline_kw) -> list[PainEpisode]:
        """Pain rises after flagged days (whole history by default), see :func:`journal.link.pain_rises_after_flags`."""
        timeline_kw.setdefault("weeks", None)
        return self.timeline(runner=runner, **timeline_kw).pain_episodes(rise_min=rise_min)

    # -- export ----------------------------------------------------------------------------

    EXPORT_TABLES = ("timeline", "weekly", "runs", "sitting", "pain", "checkins", "exercises")

    def export_table(self, table: str = "timeline", *, runner: str | None = None, **timeline_kw) -> pd.DataFrame:
        """One table for export: the daily ``timeline``, ``weekly``, or a stored table."""
        table = v.choice("table", table, self.EXPORT_TABLES)
        if table in ("timeline", "weekly"):
            tl = self.timeline(runner=runner, **timeline_kw)
            if table == "weekly":
                return _dates_only(tl.weekly.reset_index(), "week_start")
            d = tl.daily.drop(columns=["flag_items", "flag_kinds"]).copy()
            d["flags"] = d["flags"].map(lambda fl: "; ".join(fl))
            return _dates_only(d.reset_index(), "date")
        reader = {"runs": self.runs, "sitting": self.sitting_days, "pain": self.pain_reports,
                  "checkins": self.checkins, "exercises": self.exercises}[table]
        df = reader(runner=runner)
        if table == "runs":
            df = df.copy()
            df["analysis_summary"] = df["analysis_summary"].map(
                lambda x: json.dumps(x, sort_keys=True) if x is not None else None)
            df["other_sensor_fields"] = df["other_sensor_fields"].map(lambda fl: "; ".join(fl))
        if table == "sitting":
            df = df.copy()
            df["flags"] = df["flags"].map(lambda fl: "; ".join(fl))
        return df

    def export_csv(self, table: str = "timeline", *, runner: str | None = None, **timeline_kw) -> str:
        """The table as CSV; a text cell a spreadsheet would run as a formula (=, +, -, @ first: a note typed as
        "=HYPERLINK(...)") is written with a leading apostrophe, as spreadsheets mark text (OWASP's advice)."""
        df = self.export_table(table, runner=runner, **timeline_kw)
        for col in df.columns:
            if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
                df[col] = df[col].map(lambda x: "'" + x if isinstance(x, str) and x[:1] in _FORMULA_FIRST else x)
        buf = io.StringIO()
        df.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL, date_format="%Y-%m-%dT%H:%M:%S%z")
        return buf.getvalue()

    def export_json(self, *, runner: str | None = None, **timeline_kw) -> dict:
        """Everything stored for the runner plus the timeline, as one JSON-ready document."""
        data = self.data(runner=runner)
        doc = {
            "schema": EXPORT_SCHEMA,
            "exported_utc": _now().isoformat(),
            "runner": data.runner,
            "runs": _records(data.runs),
            "sitting_days": _records(data.days),
            "pain_reports": _records(data.pains),
            "checkins": _records(data.checkins),
            "exercise_sessions": _records(data.exercises),
        }
        if data.logged_dates():
            tl = self.timeline(runner=data.runner["name"], **timeline_kw)
            daily = _dates_only(tl.daily.drop(columns=["flag_items", "flag_kinds"]).reset_index(), "date")
            doc["timeline"] = {
                "start": tl.start.isoformat(), "end": tl.end.isoformat(), "settings": tl.settings,
                "daily": _records(daily), "weekly": _records(_dates_only(tl.weekly.reset_index(), "week_start")),
                "pain_flags": [{"date": p.date.isoformat(), "kind": p.kind, "message": p.message} for p in tl.pain_flags],
                "sitting_trend": tl.sitting_trend.text,
            }
        return doc


class _Duplicate(JournalError):
    pass


_FLOAT_COLS = {"duration_s", "distance_m", "rpe", "session_load_au", "avg_hr_bpm", "max_hr_bpm", "trimp_au",
               "cadence_spm", "vertical_oscillation_m", "stance_time_s", "stance_time_balance_left_pct",
               "step_length_m", "impact_index_mean", "mechanical_load_au", "heel_strike_share",
               "trunk_lean_fwd_deg", "trunk_lean_fwd_drift_deg", "sitting_s", "longest_sitting_s",
               "breaks_per_sitting_h", "wear_s", "sleep_s", "work_sitting_s", "work_standing_s"}


def _dates_only(df: pd.DataFrame, col: str) -> pd.DataFrame:
    """Calendar days as dates (2026-03-02), not midnight timestamps."""
    df[col] = pd.to_datetime(df[col]).dt.date
    return df


def _found_recording(path: str | None, document_path: str | None) -> str | None:
    """A document's recording path made absolute where the file is: the analysis wrote it as given to ``backstride
    analyse`` (perhaps relative to where that ran); tried from here, then from the document's own folder.  Kept as
    written when found in neither (the Run page then says the recording is not found)."""
    if not path or Path(path).is_absolute():
        return path
    for base in (Path.cwd(), Path(document_path).resolve().parent if document_path else None):
        if base is not None and (base / path).exists():
            return str((base / path).resolve())
    return path


def _records(df: pd.DataFrame) -> list[dict]:
    return [jsonable(row) for row in df.to_dict(orient="records")]


def _strap_heart_rate(rec: str | None, t0: datetime, duration_s: float, r: Runner) -> tuple[dict[str, Any], str]:
    """Heart rate a strap recorded beside the IMU in the same live session (``heart_rate.arrows``).

    ``rec`` is the analysed recording: a live session folder, or one ``.arrows``
    file in it.  Returns the run's ``avg_hr_bpm``/``max_hr_bpm`` over the run
    (notifications with no skin contact left out) and, when the runner's resting
    and maximum heart rate are known, Banister TRIMP summed over the stretches
    between the strap's link drops (a drop is never filled with the last heart
    rate); ``{}`` when there is no strap recording.  The second item says why a
    strap recording that is there gave no heart rate, or what its reader noticed in it (a damaged chunk skipped),
    "" otherwise: the run still imports, and the user is told.
    """
    if not rec:
        return {}, ""
    folder = Path(rec)
    folder = folder if folder.is_dir() else folder.parent
    from sensing.chunked import SUFFIX, read_heart_rate

    if not any(folder.glob(f"heart_rate*{SUFFIX}")):
        return {}, ""
    try:
        hr = read_heart_rate(folder, start_utc=t0)
    except ValueError as exc:  # several straps (name one by placement) or an unreadable file: the run still imports
        return {}, f"imported without heart rate: {exc}"
    contact = hr["contact"].astype("boolean").fillna(True).to_numpy(bool)
    ok = hr[(hr["hr_bpm"] > 0).to_numpy() & contact & (hr["t_s"] >= 0).to_numpy()
            & (hr["t_s"] <= duration_s).to_numpy()]
    if ok.empty:
        return {}, f"imported without heart rate: the strap recording in {folder} has no heart rate with skin contact during the run"
    out: dict[str, Any] = {"avg_hr_bpm": float(ok["hr_bpm"].mean()), "max_hr_bpm": float(ok["hr_bpm"].max())}
    if r.hr_rest_bpm and r.hr_max_bpm and r.hr_max_bpm > r.hr_rest_bpm:
        starts = np.array([g["start_s"] for g in hr.attrs.get("gaps", [])], float)
        stretch = np.searchsorted(np.sort(starts), ok["t_s"].to_numpy(float), side="right")
        parts = [L.trimp_from_samples(ok["t_s"].to_numpy(float)[stretch == k], ok["hr_bpm"].to_numpy(float)[stretch == k],
                                      hr_rest_bpm=r.hr_rest_bpm, hr_max_bpm=r.hr_max_bpm, sex=r.sex)
                 for k in np.unique(stretch)]
        if any(p is not None for p in parts):
            out.update(trimp_au=float(sum(p or 0.0 for p in parts)), trimp_hr_rest_bpm=r.hr_rest_bpm,
                       trimp_hr_max_bpm=r.hr_max_bpm)
    # what the heart-rate file's reader noticed (a damaged chunk skipped, a state ignored): said with the import
    return out, "; ".join(f"heart rate: {w}" for w in hr.attrs.get("warnings", []))
