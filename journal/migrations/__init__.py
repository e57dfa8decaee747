"""Alembic migrations of the journal schema, run by :func:`journal.migrate.upgrade`.

New revision (from the project root)::

    .venv/bin/python -m journal.migrate revision -m "what changes"

then edit the generated file in ``versions/`` and add the same change to
``journal/db.py``; ``tests/test_journal_store.py`` fails while the two differ.
"""
