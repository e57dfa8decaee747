"""Tables of the training journal and how the database is opened.

The schema is owned by the Alembic migrations in ``journal/migrations``; the
models here must match them (``tests/test_journal_store.py`` compares the two).
All quantities are SI with the unit in the column name (``duration_s``,
``distance_m``, ``sleep_s``); ``*_au`` are arbitrary units (loads).  Times are
stored in UTC; each entry also carries the runner's local calendar date
(``local_date`` / ``date``), which is what the daily timeline joins on.

SQLite (the default) is opened in WAL mode with ``synchronous=FULL`` and
foreign keys on; every transaction is started by an explicit ``BEGIN`` (the
SQLAlchemy recipe for pysqlite), writes with ``BEGIN IMMEDIATE`` so that two
writers queue instead of failing half-way.  A committed transaction is on disk
before the call that made it returns.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Environment variable that overrides the default journal location (a URL or a file path).
ENV_VAR = "BACKSTRIDE_JOURNAL"

RUN_KINDS = ("easy", "long", "tempo", "intervals", "race")
#: Kinds that raise intensity (the build-up order: volume first, then these).
INTENSITY_KINDS = ("tempo", "intervals", "race")


def kind_text(kind, missing: str = "run") -> str:
    """A run's kind as text: the kind, or ``missing`` for a run whose kind was not given (None or NaN in a frame):
    "run" in a sentence, "–" in a table's kind column."""
    return kind if isinstance(kind, str) else missing
PAIN_LOCATIONS = (
    "lower-back-centre",
    "lower-back-left",
    "lower-back-right",
    "buttock",
    "buttock-left",
    "buttock-right",
    "leg",
    "leg-left",
    "leg-right",
)
PAIN_TIMINGS = ("during-run", "after-run", "next-morning", "at-work", "other")
LIFTING_LEVELS = ("none", "light", "heavy")
EXERCISE_CATEGORIES = ("core", "mobility")
SEXES = ("female", "male")


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware datetime stored as UTC.

    SQLite has no time zones: the value is stored naive (UTC) and comes back
    with ``tzinfo=timezone.utc``.  Naive datetimes are refused on the way in
    (a naive time is ambiguous; the journal never guesses the zone).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware datetime")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


def _fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete="CASCADE")


class Runner(Base):
    __tablename__ = "runners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    #: IANA time zone name; decides which calendar day an entry belongs to.
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    hr_rest_bpm: Mapped[float | None] = mapped_column(sa.Float)
    hr_max_bpm: Mapped[float | None] = mapped_column(sa.Float)
    #: Chooses the Banister TRIMP weighting (female 0.86·e^(1.67x), male 0.64·e^(1.92x)).
    sex: Mapped[str | None] = mapped_column(sa.String(8))
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class FileImport(Base):
    """One imported file (or dict), identified by the SHA-256 of its content."""

    __tablename__ = "imports"
    __table_args__ = (sa.UniqueConstraint("runner_id", "sha256", name="uq_imports_runner_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    runner_id: Mapped[int] = mapped_column(_fk("runners"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    #: "fit", "analysis" or "day".
    kind: Mapped[str] = mapped_column(sa.String(16))
    path: Mapped[str | None] = mapped_column(sa.String(1024))
    imported_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (sa.Index("ix_runs_runner_date", "runner_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    runner_id: Mapped[int] = mapped_column(_fk("runners"))
    #: "manual", "fit" or "analysis": where the run first came from.
    source: Mapped[str] = mapped_column(sa.String(16))
    fit_import_id: Mapped[int | None] = mapped_column(sa.ForeignKey("imports.id", ondelete="SET NULL"))
    analysis_import_id: Mapped[int | None] = mapped_column(sa.ForeignKey("imports.id", ondelete="SET NULL"))
    start_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(sa.Date)
    duration_s: Mapped[float] = mapped_column(sa.Float)
    distance_m: Mapped[float | None] = mapped_column(sa.Float)
    kind: Mapped[str | None] = mapped_column(sa.String(16))
    #: Session RPE, CR-10 scale (0-10), asked about 30 min after the run (Foster 2001).
    rpe: Mapped[float | None] = mapped_column(sa.Float)
    avg_hr_bpm: Mapped[float | None] = mapped_column(sa.Float)
    max_hr_bpm: Mapped[float | None] = mapped_column(sa.Float)
    trimp_au: Mapped[float | None] = mapped_column(sa.Float)
    #: Resting and maximum heart rate the TRIMP was computed with.
    trimp_hr_rest_bpm: Mapped[float | None] = mapped_column(sa.Float)
    trimp_hr_max_bpm: Mapped[float | None] = mapped_column(sa.Float)
    cadence_spm: Mapped[float | None] = mapped_column(sa.Float)
    vertical_oscillation_m: Mapped[float | None] = mapped_column(sa.Float)
    stance_time_s: Mapped[float | None] = mapped_column(sa.Float)
    #: Share of stance time on the left foot, % (50 = even).
    stance_time_balance_left_pct: Mapped[float | None] = mapped_column(sa.Float)
    step_length_m: Mapped[float | None] = mapped_column(sa.Float)
    steps_n: Mapped[int | None] = mapped_column(sa.Integer)
    impact_index_mean: Mapped[float | None] = mapped_column(sa.Float)
    #: Σ impact over the run's steps (= steps_n × impact_index_mean), from an IMU recording.
    mechanical_load_au: Mapped[float | None] = mapped_column(sa.Float)
    heel_strike_share: Mapped[float | None] = mapped_column(sa.Float)
    trunk_lean_fwd_deg: Mapped[float | None] = mapped_column(sa.Float)
    #: Late minus early trunk lean within the run (first vs last fifth).
    trunk_lean_fwd_drift_deg: Mapped[float | None] = mapped_column(sa.Float)
    recording_path: Mapped[str | None] = mapped_column(sa.String(1024))
    fit_path: Mapped[str | None] = mapped_column(sa.String(1024))
    #: The ``summary`` object of the run's ``backstride.analysis/1`` document, as given.
    analysis_summary: Mapped[dict | None] = mapped_column(sa.JSON)
    #: Device and other facts from the source file (manufacturer, product, sport).
    extra: Mapped[dict | None] = mapped_column(sa.JSON)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime)


class SittingDay(Base):
    __tablename__ = "sitting_days"
    __table_args__ = (sa.UniqueConstraint("runner_id", "date", name="uq_sitting_days_runner_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    runner_id: Mapped[int] = mapped_column(_fk("runners"))
    import_id: Mapped[int | None] = mapped_column(sa.ForeignKey("imports.id", ondelete="SET NULL"))
    date: Mapped[date] = mapped_column(sa.Date)
    sitting_s: Mapped[float] = mapped_column(sa.Float)
    bouts_ge_30min: Mapped[int] = mapped_column(sa.Integer)
    bouts_ge_2h: Mapped[int] = mapped_column(sa.Integer)
    longest_sitting_s: Mapped[float] = mapped_column(sa.Float)
    breaks_per_sitting_h: Mapped[float | None] = mapped_column(sa.Float)
    wear_s: Mapped[float] = mapped_column(sa.Float)
    flags: Mapped[list] = mapped_column(sa.JSON)


class PainReport(Base):
    __tablename__ = "pain_reports"
    __table_args__ = (sa.Index("ix_pain_reports_runner_date", "runner_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    runner_id: Mapped[int] = mapped_column(_fk("runners"))
    reported_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[date] = mapped_column(sa.Date)
    rating: Mapped[int] = mapped_column(sa.Integer)
    location: Mapped[str] = mapped_column(sa.String(24))
    timing: Mapped[str] = mapped_column(sa.String(24))
    note: Mapped[str | None] = mapped_column(sa.Text)


class Checkin(Base):
    __tablename__ = "checkins"
    __table_args__ = (sa.UniqueConstraint("runner_id", "date", name="uq_checkins_runner_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    runner_id: Mapped[int] = mapped_column(_fk("runners"))
    date: Mapped[date] = mapped_column(sa.Date)
    sleep_s: Mapped[float | None] = mapped_column(sa.Float)
    #: 1 (very poor) to 5 (very good).
    sleep_quality: Mapped[int | None] = mapped_column(sa.Integer)
    #: 1 (none) to 5 (very high).
    stress: Mapped[int | None] = mapped_column(sa.Integer)
    work_sitting_s: Mapped[float | None] = mapped_column(sa.Float)
    work_standing_s: Mapped[float | None] = mapped_column(sa.Float)
    lifting: Mapped[str | None] = mapped_column(sa.String(8))
    note: Mapped[str | None] = mapped_column(sa.Text)


class ExerciseSession(Base):
    __tablename__ = "exercise_sessions"
    __table_args__ = (sa.Index("ix_exercise_sessions_runner_date", "runner_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    runner_id: Mapped[int] = mapped_column(_fk("runners"))
    date: Mapped[date] = mapped_column(sa.Date)
    name: Mapped[str] = mapped_column(sa.String(64))
    category: Mapped[str] = mapped_column(sa.String(16))
    sets: Mapped[int | None] = mapped_column(sa.Integer)
    duration_s: Mapped[float | None] = mapped_column(sa.Float)
    note: Mapped[str | None] = mapped_column(sa.Text)


# ----------------------------------------------------------------------------
# Opening


def default_url() -> str:
    """The journal used when none is given.

    ``$BACKSTRIDE_JOURNAL`` if set (a SQLAlchemy URL or a file path), otherwise
    ``journal.sqlite3`` in the user data directory (platformdirs), e.g.
    ``~/.local/share/backstride/journal.sqlite3`` on Linux.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return normalise_url(env)
    import platformdirs

    return normalise_url(str(Path(platformdirs.user_data_dir("backstride", appauthor=False)) / "journal.sqlite3"))


def normalise_url(url_or_path: str | os.PathLike) -> str:
    """A SQLAlchemy URL from a URL or a plain file path (taken as SQLite)."""
    s = os.fspath(url_or_path)
    if "://" in s:
        return s
    return "sqlite:///" + str(Path(s).expanduser().resolve())


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, FULL sync, foreign keys and explicit BEGIN."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    db = u.database
    if db and db != ":memory:" and not db.startswith("file:"):
        Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised on every connect
        # Take transaction control away from the sqlite3 module (it would not BEGIN
        # before DDL or SELECT); SQLAlchemy emits BEGIN itself, see below.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
