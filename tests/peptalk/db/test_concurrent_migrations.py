"""Replicas (or the app and a CLI) migrate one database at the same time: one does the work, the others wait.

PostgreSQL serialises them with an advisory lock (issue 19), SQLite with a file lock beside the database."""

from __future__ import annotations

import os
import subprocess

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from peptalk.db import current_revisions, make_engine, sqlite_url
from peptalk.db.migrate import alembic_config
from tests.helpers import ROOT, python

MIGRATE = "import sys; from peptalk.db import make_engine, upgrade; upgrade(make_engine(sys.argv[1]))"


def _upgrade_at_once(url: str, processes: int) -> None:
    """Starts `processes` upgrades of `url` at once and checks each succeeded and every branch is at its head."""
    # Alembic's command API is not thread-safe, and replicas are processes anyway.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = [subprocess.Popen([python(), "-c", MIGRATE, url], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(processes)]
    outputs = [process.communicate(timeout=240)[0] for process in started]
    assert [process.returncode for process in started] == [0] * processes, "\n".join(outputs)[-4000:]
    engine = make_engine(url)
    try:
        heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
        assert {"cache_0001", "ratings_0002", "rollout_0002", "shadow_0002"} <= heads
        assert current_revisions(engine) == heads  # every branch, at its head
    finally:
        engine.dispose()


def test_concurrent_upgrades_of_one_postgresql_database_all_succeed(postgres_database: str) -> None:
    _upgrade_at_once(postgres_database, 4)


@pytest.mark.parametrize("round_", range(2))  # without the lock, most rounds failed
def test_concurrent_upgrades_of_one_sqlite_file_all_succeed(tmp_path: Path, round_: int) -> None:
    database = tmp_path / "peptalk.db"
    _upgrade_at_once(sqlite_url(database), 6)
    assert (tmp_path / "peptalk.db.migrate.lock").exists()  # the lock file the processes took turns on
