"""Serialises migrations of one SQLite file across processes: an exclusive `flock` on `<database>.migrate.lock`."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine


@contextmanager
def sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """Held while migrating a SQLite file; another process migrating the same file waits here until it is released.

    SQLite has no advisory lock, and Alembic checks the version table before it writes, so two processes starting
    on a fresh file would both create the tables. A file lock beside the database makes the second wait, then
    find nothing left to do. Other databases (and in-memory SQLite, private to its connection) pass through.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    with open(f"{database}.migrate.lock", "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file is closed, or when the process dies
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
