"""Durability on a real uvicorn: kill -9 the app while it logs, restart it, and every committed pair is there."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from peptalk.db import sqlite_url
from peptalk.shadow import SqlShadowStore
from tests.conftest import ARTIFACTS, OLLAMA_TAG
from tests.helpers import free_port, python, running, wait_for
from tests.peptalk.shadow.helpers import REQUEST

def app_env(database: Path, ollama_double: str) -> dict[str, str]:
    # The candidate is the Ollama double: a request is never mirrored to the model that answered it.
    return {"PEPTALK_DATA_DIR": str(database.parent), "PEPTALK_DATABASE_URL": sqlite_url(database),
            "PEPTALK_MAX_TOKENS": "8", "PEPTALK_LOG_LEVEL": "INFO", "PEPTALK_BACKENDS": "embedded,ollama",
            "PEPTALK_OLLAMA_BASE_URL": ollama_double, "PEPTALK_OLLAMA_MODELS": OLLAMA_TAG,
            "PEPTALK_SHADOW_CANDIDATES": f"ollama:{OLLAMA_TAG}", "PEPTALK_SHADOW_HASH_USER_IDS": "false",
            "PEPTALK_SHADOW_BATCH_SIZE": "2", "PEPTALK_SHADOW_FLUSH_INTERVAL_S": "0.2",
            "PEPTALK_SHADOW_DRAIN_TIMEOUT_S": "250"}


def committed_pair_ids(log: Path) -> set[str]:
    """Pair ids of every batch the app logged as committed (it logs after the commit returns)."""
    ids: set[str] = set()
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"shadow batch committed"' in line:
            ids.update(json.loads(line)["pair_ids"])
    return ids


def send(url: str, users: list[str], done: list[str], stop: threading.Event) -> None:
    with httpx.Client(timeout=60) as client:
        for user in users:
            if stop.is_set():
                return
            try:
                response = client.post(f"{url}/peptalk/invoke", json={"input": REQUEST | {"user_id": user}})
            except httpx.HTTPError:
                return  # the server was killed mid-request
            if response.status_code == 200:
                done.append(user)


def start(port: int, database: Path, log: Path, ollama_double: str):  # type: ignore[no-untyped-def]
    cmd = [python(), "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port)]
    return running(cmd, f"http://127.0.0.1:{port}/readyz", log=log, env=app_env(database, ollama_double), timeout_s=120)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kill_9_loses_no_committed_pair_and_leaves_no_duplicate(tmp_path: Path, ollama_double: str) -> None:
    database = tmp_path / "peptalk.db"
    first_log = ARTIFACTS / "shadow-durability-1.log"
    port = free_port()
    sent = [f"user{index:03d}" for index in range(200)]
    done: list[str] = []
    stop = threading.Event()
    with start(port, database, first_log, ollama_double) as process:
        client = threading.Thread(target=send, args=(f"http://127.0.0.1:{port}", sent, done, stop), daemon=True)
        client.start()
        wait_for(lambda: len(committed_pair_ids(first_log)) >= 3 and len(done) >= 5, timeout_s=300, interval_s=0.2,
                 what="three committed pairs and five answers")
        process.kill()  # SIGKILL: no lifespan shutdown, no last flush
        process.wait()
        stop.set()
        client.join(timeout=70)
    committed = committed_pair_ids(first_log)
    assert len(committed) >= 3, "the app committed too little before the deadline; see " + str(first_log)

    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = SqlShadowStore.from_url(sqlite_url(database))
    rows = list(store.read())  # every row parses, with its primary and its candidate
    store.close()
    stored = {row.pair_id for row in rows}
    assert committed <= stored  # nothing acknowledged was lost
    users = [row.user_id for row in rows]
    assert len(users) == len(set(users)) and set(users) <= set(done)  # no duplicate, nothing unanswered
    for row in rows:
        assert row.primary.model == "embedded:smollm2-135m" and row.primary.response and row.primary.error is None
        assert [call.model for call in row.candidates] == [f"ollama:{OLLAMA_TAG}"] and row.candidates[0].error is None
        assert row.request["focused_tasks"] == REQUEST["focused_tasks"]

    # A restart on the same database keeps the rows and logs new pairs; SIGTERM drains the queue first.
    later = ["after-restart-1", "after-restart-2"]
    port = free_port()
    with start(port, database, ARTIFACTS / "shadow-durability-2.log", ollama_double) as process:
        with httpx.Client(timeout=120) as client:
            for user in later:
                response = client.post(f"http://127.0.0.1:{port}/peptalk/invoke",
                                       json={"input": REQUEST | {"user_id": user}})
                assert response.status_code == 200
        process.terminate()
        assert process.wait(timeout=300) in (0, -15)  # uvicorn re-raises SIGTERM once shut down
    store = SqlShadowStore.from_url(sqlite_url(database))
    after = list(store.read())
    store.close()
    assert sorted(row.user_id for row in after) == sorted(users + later)
    assert stored <= {row.pair_id for row in after}
