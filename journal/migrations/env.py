"""Alembic environment: runs on the connection handed over by journal.migrate."""

from __future__ import annotations

from alembic import context

from journal.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # the alembic command line, with sqlalchemy.url set
        from journal.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connection)


def _render_item(type_, obj, autogen_context):
    """Write journal.db.UTCDateTime as a plain DateTime: migrations must not import app code."""
    from journal.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection) -> None:
    context.configure(
        render_item=_render_item,
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things: copy-and-move
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("journal migrations run online only (journal.migrate.upgrade)")
run_migrations_online()
