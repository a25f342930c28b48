"""Alembic environment: runs migrations on the engine handed over by `peptalk.db.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from peptalk.db.engine import make_engine
from peptalk.db.lock import sqlite_migration_lock

MIGRATION_LOCK = 0x7065707461  # any constant; names the advisory lock of peptalk's migrations
config = context.config
engine = config.attributes.get("engine") or make_engine(config.get_main_option("sqlalchemy.url") or "")

# Replicas (or the app and a CLI) start together (issue 19): one migrates, the others wait until it commits, then
# find nothing left to do. SQLite: a file lock beside the database, held until after the commit.
with sqlite_migration_lock(engine), engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        # The advisory lock is released with the transaction.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
