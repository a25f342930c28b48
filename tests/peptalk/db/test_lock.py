"""The SQLite migration lock: exclusive while held, free once released, absent for in-memory databases."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from peptalk.db import make_engine, sqlite_url
from peptalk.db.lock import sqlite_migration_lock


def _free(lock_path: Path) -> bool:
    """Whether another open file description could take the lock now (what another process would see)."""
    with open(lock_path, "a") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True


def test_the_lock_is_exclusive_while_held_and_free_after(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "peptalk.db"))
    lock_path = tmp_path / "peptalk.db.migrate.lock"
    with sqlite_migration_lock(engine):
        assert lock_path.exists() and not _free(lock_path)
    assert _free(lock_path)
    with pytest.raises(RuntimeError), sqlite_migration_lock(engine):
        raise RuntimeError("a failed migration")
    assert _free(lock_path)  # released on errors too
    engine.dispose()


def test_in_memory_databases_take_no_file_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite://", "sqlite:///:memory:"):
        engine = make_engine(url)
        with sqlite_migration_lock(engine):
            pass
        engine.dispose()
    assert list(tmp_path.iterdir()) == []
