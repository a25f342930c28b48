"""Replicas migrate one PostgreSQL database at the same time: one does the work, the others wait (issue 19)."""

from __future__ import annotations

import os
import subprocess

from alembic.script import ScriptDirectory

from peptalk.db import current_revisions, make_engine
from peptalk.db.migrate import alembic_config
from tests.helpers import ROOT, python

MIGRATE = "import sys; from peptalk.db import make_engine, upgrade; upgrade(make_engine(sys.argv[1]))"


def test_concurrent_upgrades_of_one_postgresql_database_all_succeed(postgres_database: str) -> None:
    # Alembic's command API is not thread-safe, and replicas are processes anyway: start four at once.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([python(), "-c", MIGRATE, postgres_database], env=env, cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(4)]
    outputs = [process.communicate(timeout=240)[0] for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, "\n".join(outputs)[-4000:]
    engine = make_engine(postgres_database)
    try:
        heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
        assert {"ratings_0002", "shadow_0002"} <= heads and current_revisions(engine) == heads  # every branch, at its head
    finally:
        engine.dispose()
