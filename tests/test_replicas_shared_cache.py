"""The semantic cache across three real replicas behind nginx, on PostgreSQL (issue 19, with issue 14's cache).

An answer stored through one replica is an exact hit through a second and a semantic hit through a third, because
the entries live in the database, not in one replica's memory; a request whose meaning changed still misses, and
another user never gets it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.replicas import deployment
from tests.test_langserve_app import REQUEST

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def pep_talk(client: httpx.Client, url: str, request: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{url}/peptalk/invoke", json={"input": request})
    assert response.status_code == 200, response.text[:500]
    return response.json()["output"]


@pytest.mark.timeout(600)
def test_a_cache_hit_stored_through_one_replica_is_served_by_another(postgres_database: str, redis_url: str,
                                                                     tmp_path: Path) -> None:
    settings = {"PEPTALK_CACHE_ENABLED": "true", "PEPTALK_CACHE_SYNC_INTERVAL_S": "0.2", "PEPTALK_MAX_TOKENS": "6",
                "PEPTALK_EMBEDDED_THREADS": "1", "PEPTALK_RATE_LIMIT_PER_USER_PER_MINUTE": "0"}
    with deployment(tmp_path, database_url=postgres_database, redis_url=redis_url, settings=settings) as app, \
            httpx.Client(timeout=180) as client:
        first, second, third = (replica.url for replica in app.replicas)
        stored = pep_talk(client, first, REQUEST)
        assert stored["metadata"]["cache"] == "miss"

        reordered = REQUEST | {"focused_tasks": ["review two PULL requests."]}  # canonically the same request
        exact = pep_talk(client, second, reordered)
        assert exact["metadata"]["cache"] == "exact" and exact["text"] == stored["text"]

        # No wait: the third replica has made no lookup since it started, more than one sync interval (0.2 s) ago,
        # so its first lookup reads the entry the second one just found in the database.
        typo = REQUEST | {"completed_tasks": ["Wrote the dseign doc"]}  # a slip that makes no word (not "desing")
        semantic = pep_talk(client, third, typo)
        assert semantic["metadata"]["cache"] == "semantic" and semantic["text"] == stored["text"]

        skipped = REQUEST | {"completed_tasks": ["Skipped the design doc"]}
        assert pep_talk(client, third, skipped)["metadata"]["cache"] == "miss"  # a changed meaning misses
        other_user = pep_talk(client, second, REQUEST | {"user_id": "grace"})
        assert other_user["metadata"]["cache"] == "miss"  # never another user's pep talk
        through_nginx = pep_talk(client, app.url, REQUEST)
        assert through_nginx["metadata"]["cache"] == "exact" and through_nginx["text"] == stored["text"]
