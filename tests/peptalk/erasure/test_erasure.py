"""Erasure of one user through real parts: the embedded model, shadow log, MiniLM+FAISS cache, SQLite/PostgreSQL.

Nothing of the erased user remains (no pair under their salted hash or raw id, no cache entry, none of their task
texts anywhere in the database, the cache's tables included), and the other user's data is untouched.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from langserve_app import create_app
from peptalk import PepTalk
from peptalk.cache import SemanticCache
from peptalk.db import sqlite_url
from peptalk.settings import Settings
from peptalk.shadow import ShadowPolicy, SqlShadowStore
from peptalk.shadow.layer import ShadowLayer
from tests.conftest import OLLAMA_TAG
from tests.helpers import ROOT, python, wait_for_async
from tests.peptalk.assemblies import ASSEMBLIES, assemble, serving_assembled
from tests.test_langserve_app import REQUEST, serving

CANDIDATE = f"ollama:{OLLAMA_TAG}"
ADMIN_KEY = "admin-key-for-tests"
SALT = "salt-for-tests"
SECRET_TASK = "Ada-private-task-7Q"  # appears only in ada's requests
OTHER_TASK = "Grace-private-task-9Z"


def request_for(user: str, task: str) -> dict[str, Any]:
    return REQUEST | {"user_id": user, "completed_tasks": [task]}


def everything_stored(database_url: str, *, cache: bool = True) -> str:
    """Every text column of every peptalk table (the cache's unless `cache=False`), as one string to search."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            pairs = connection.execute(text("SELECT user_id, request, prompt FROM shadow_pairs")).all()
            calls = connection.execute(text("SELECT response FROM shadow_calls")).all()
            cached = connection.execute(text("SELECT scope, request, canonical, items FROM cache_entries")).all() \
                if cache else []
            audits = connection.execute(text("SELECT scope, stored_request, new_request FROM cache_audits")).all() \
                if cache else []
    finally:
        engine.dispose()
    return repr(pairs) + repr(calls) + repr(cached) + repr(audits)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "peptalk.db")
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def erasure_settings(make_settings: Callable[..., Settings], database_url: str, tmp_path: Path,
                     ollama_double: str) -> Settings:
    # The candidate is another model than the one that answers (a request is never mirrored to its own model).
    return make_settings(database_url=database_url, data_dir=tmp_path / "data", max_tokens=8,
                         backends=["embedded", "ollama"], ollama_base_url=ollama_double, ollama_models=[OLLAMA_TAG],
                         shadow_candidates=[CANDIDATE], shadow_user_id_salt=SALT, shadow_flush_interval_s=0.1,
                         shadow_batch_size=1, admin_api_keys=[ADMIN_KEY])


async def populate(client: Any, peptalk: PepTalk) -> None:
    for user, task in [("ada", SECRET_TASK), ("ada", "Repainted the kitchen walls blue"), ("grace", OTHER_TASK)]:
        response = await client.post("/peptalk/invoke", json={"input": request_for(user, task)})
        assert response.status_code == 200, response.text
    shadow = peptalk.layer(ShadowLayer)
    assert shadow is not None
    store: SqlShadowStore = shadow.store

    async def all_three_committed() -> bool:  # the candidates run in the background
        return await asyncio.to_thread(store.count) == 3

    await wait_for_async(all_three_committed, timeout_s=60, interval_s=0.1, what="the three shadow pairs committed")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind", ASSEMBLIES)
async def test_the_admin_endpoint_erases_one_user_and_only_them(kind: str, erasure_settings: Settings) -> None:
    assembled = assemble(kind, erasure_settings)  # the standalone service, or a host with `include_peptalk`
    hashed = ShadowPolicy.from_settings(erasure_settings).stored_user_id
    async with serving_assembled(assembled) as client:
        await populate(client, assembled.peptalk)
        cache = assembled.peptalk.service(SemanticCache)
        assert cache is not None
        assert len(cache.store.in_scope("user:ada")) == 2 and len(cache.store.in_scope("user:grace")) == 1
        stored = everything_stored(erasure_settings.resolved_database_url())
        assert SECRET_TASK in stored and hashed("ada") in stored
        assert "'ada'" not in everything_stored(erasure_settings.resolved_database_url(), cache=False)  # hashed

        assert (await client.delete("/admin/users/ada")).status_code == 401
        assert (await client.delete("/admin/users/ada", headers={"X-Admin-Key": "wrong"})).status_code == 401
        bad = await client.delete("/admin/users/not%20valid!", headers={"X-Admin-Key": ADMIN_KEY})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["path", "user_id"]

        response = await client.delete("/admin/users/ada", headers={"X-Admin-Key": ADMIN_KEY})
        assert response.status_code == 200, response.text
        assert response.json() == {"user_id": "ada", "deleted": {"shadow_pairs": 2, "cache_entries": 2,
                                                                 "rate_limit_counters": 1}}
        assert cache.store.in_scope("user:ada") == [] and len(cache.store.in_scope("user:grace")) == 1
        again = await client.delete("/admin/users/ada", headers={"X-Admin-Key": ADMIN_KEY})
        assert set(again.json()["deleted"].values()) == {0}  # idempotent
    stored = everything_stored(erasure_settings.resolved_database_url())
    assert SECRET_TASK not in stored and hashed("ada") not in stored
    assert OTHER_TASK in stored and hashed("grace") in stored
    assert "user:ada" not in stored and "user:grace" in stored  # the cache's rows, in the database


async def test_without_admin_keys_the_endpoint_is_off(make_settings: Callable[..., Settings],
                                                      tmp_path: Path) -> None:
    app = create_app(make_settings(cache_enabled=False, data_dir=tmp_path, api_keys=["user-key"]))
    async with serving(app) as client:
        response = await client.delete("/admin/users/ada", headers={"X-Admin-Key": "anything"})
        assert response.status_code == 403 and "PEPTALK_ADMIN_API_KEYS" in response.json()["detail"]
        # An ordinary API key does not open it either.
        assert (await client.delete("/admin/users/ada", headers={"X-API-Key": "user-key"})).status_code == 403


def run_forget(user_id: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("PEPTALK_")}
    env = {**clean, "PYTHONPATH": str(ROOT), "PEPTALK_DATA_DIR": str(settings.data_dir),
           "PEPTALK_DATABASE_URL": settings.resolved_database_url(), "PEPTALK_SHADOW_USER_ID_SALT": SALT}
    return subprocess.run([python(), "-m", "peptalk.cli", "forget", user_id], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.timeout(300)
async def test_the_cli_erases_the_log_and_the_cache(erasure_settings: Settings) -> None:
    app = create_app(erasure_settings)
    async with serving(app) as client:
        await populate(client, app.peptalk)
    # The service stopped (its cache saved); `peptalk forget` works on what it left behind.
    result = await asyncio.to_thread(run_forget, "ada", erasure_settings)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "shadow_pairs: 2 deleted" in result.stdout and "cache_entries: 2 deleted" in result.stdout
    stored = everything_stored(erasure_settings.resolved_database_url())
    assert SECRET_TASK not in stored and OTHER_TASK in stored
    assert "user:ada" not in stored and "user:grace" in stored  # the cache's rows, in the database

    invalid = await asyncio.to_thread(run_forget, "not valid!", erasure_settings)
    assert invalid.returncode == 2 and "not a valid user id" in invalid.stderr and "Traceback" not in invalid.stderr
