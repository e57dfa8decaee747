"""Running the journal's Alembic migrations from Python.

:func:`upgrade` brings a database (empty or older) to the newest schema; the
:class:`journal.Journal` calls it on every open, so users never run Alembic by
hand.  The migration scripts ship inside the package (``journal/migrations``).

Developers add a revision with::

    .venv/bin/python -m journal.migrate revision -m "add shoe table" [--autogenerate]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this version of backstride."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"journal migrations have {len(heads)} heads ({heads}); merge them")
    return heads[0]


class JournalSchemaError(Exception):
    """A database :func:`upgrade` will not touch: a newer backstride's journal, or another program's database."""


def _known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision`` in one transaction.

    On SQLite the DDL is transactional (explicit BEGIN, see :mod:`journal.db`):
    an interrupted upgrade leaves the old schema, never half a new one.  Two
    processes opening the journal at once queue on the write lock; the second
    finds nothing left to do.
    """
    current = current_revision(engine)
    if current == head_revision() and revision == "head":
        return
    if current is not None and current not in _known_revisions():
        raise JournalSchemaError(f"its schema is at revision {current}, which this version of backstride does not "
                                 "know: it was written by a newer backstride; update backstride to open it "
                                 "(nothing was changed)")
    if current is None:
        tables = [t for t in sa.inspect(engine).get_table_names() if t != "alembic_version"]
        if tables:
            raise JournalSchemaError(f"a database of another program (tables {', '.join(sorted(tables)[:5])}"
                                     f"{', ...' if len(tables) > 5 else ''}), not a backstride journal; give the "
                                     "journal's file, or a new file name to start one (nothing was changed)")
    with engine.execution_options(sqlite_immediate=True).begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.execution_options(sqlite_immediate=True).begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - developer tool
    p = argparse.ArgumentParser(prog="python -m journal.migrate")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("revision", help="create a new migration script")
    r.add_argument("-m", "--message", required=True)
    r.add_argument("--autogenerate", action="store_true",
                   help="diff journal/db.py against a scratch database at head")
    args = p.parse_args(argv)
    if args.autogenerate:
        import tempfile

        from journal.db import make_engine

        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/scratch.sqlite3"
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            command.revision(alembic_config(url=url), message=args.message, autogenerate=True)
    else:
        command.revision(alembic_config(), message=args.message)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
