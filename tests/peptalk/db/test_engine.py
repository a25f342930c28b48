"""The shared database layer: SQLite in WAL mode, and Alembic migrations run from code."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from peptalk.db import current_revisions, make_engine, sqlite_url, upgrade


def test_sqlite_engine_uses_wal_and_creates_its_folder(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "nested" / "peptalk.db"))
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert (tmp_path / "nested" / "peptalk.db").exists()


def test_upgrade_applies_every_branch_and_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "peptalk.db"))
    upgrade(engine)
    first = current_revisions(engine)
    upgrade(engine)
    assert current_revisions(engine) == first
