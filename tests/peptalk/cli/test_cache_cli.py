"""`peptalk cache audit` on a real audit log (SQLite and PostgreSQL), and its answers to bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peptalk.cache import AuditCase, AuditLog, SqlCacheStore
from peptalk.cli import app
from peptalk.db import sqlite_url

runner = CliRunner()


def case(number: int, *, at: float, fresh: str | None = "a fresh talk", error: str | None = None) -> AuditCase:
    evidence = {"entry_id": number, "changed_items": [
        {"list": "focused_tasks", "stored": "review 2 pull requests", "new": "review 2 pull reqeusts",
         "similarity": 0.71}]}
    return AuditCase(request_id=f"req-{number}", entry_id=number, scope="user:ada", model="embedded:smollm2-135m",
                     similarity=0.71, evidence=evidence, stored_request={"focused_tasks": ["Review two pull requests"]},
                     new_request={"focused_tasks": ["Review two pull reqeusts"]}, cached_text="the cached talk",
                     fresh_text=fresh, fresh_model=None if error else "embedded:smollm2-135m", error=error,
                     created_at=at)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "peptalk.db") if request.param == "sqlite" else request.getfixturevalue(
        "postgres_database")
    store = SqlCacheStore.from_url(url)
    store.migrate()
    log = AuditLog(store.engine)
    now = time.time()
    log.write(case(1, at=now - 10 * 86400))
    log.write(case(2, at=now - 3600, fresh="the cached talk"))
    log.write(case(3, at=now - 60, fresh=None, error="AllBackendsFailed: down"))
    store.close()
    return url


def test_the_summary_and_the_latest_cases(database_url: str) -> None:
    result = runner.invoke(app, ["cache", "audit", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "3 audited semantic hits: 1 could not be regenerated, 1 fresh answers identical" in result.output
    assert "focused_tasks 3" in result.output and "reqeusts" in result.output
    recent = runner.invoke(app, ["cache", "audit", "--database-url", database_url, "--since", "2d", "--json"])
    rows = [json.loads(line) for line in recent.output.splitlines()]
    assert [row["request_id"] for row in rows] == ["req-3", "req-2"]
    assert rows[1]["new_request"] == {"focused_tasks": ["Review two pull reqeusts"]}


def test_bad_input_is_a_clear_error() -> None:
    result = runner.invoke(app, ["cache", "audit", "--since", "last tuesday"])
    assert result.exit_code == 2 and "--since" in result.output
    result = runner.invoke(app, ["cache", "audit", "--database-url", "nosuchdb://x"])
    assert result.exit_code == 1 and "cannot read the cache audit log" in result.output
