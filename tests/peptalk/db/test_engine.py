"""The shared database layer: SQLite in WAL mode, and Alembic migrations run from code."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from peptalk.db import current_revisions, make_engine, sqlite_url, upgrade
from peptalk.db.migrate import alembic_config


def test_sqlite_engine_uses_wal_and_creates_its_folder(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "nested" / "peptalk.db"))
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert (tmp_path / "nested" / "peptalk.db").exists()


def _heads_on_disk(engine: Engine) -> set[str]:
    """Every branch head in peptalk/db/migrations/versions, read by Alembic itself (not a hard-coded list)."""
    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def test_upgrade_applies_every_branch_and_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "peptalk.db"))
    heads = _heads_on_disk(engine)
    assert {"shadow", "ratings", "probes"} <= _branch_labels(engine) and len(heads) >= 3
    assert current_revisions(engine) == set()
    upgrade(engine)
    first = current_revisions(engine)
    assert first == heads  # every branch, at its head
    tables = set(inspect(engine).get_table_names())
    assert len(tables) > len(heads)  # each branch created its tables, not only alembic_version
    upgrade(engine)
    assert current_revisions(engine) == first
    assert set(inspect(engine).get_table_names()) == tables


def _branch_labels(engine: Engine) -> set[str]:
    script = ScriptDirectory.from_config(alembic_config(engine))
    return {label for revision in script.walk_revisions() for label in revision.branch_labels or ()}
