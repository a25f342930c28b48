"""Every replica behind nginx serves the same rollout stage, read from PostgreSQL (issue 19, with issue 18's rollout).

The stage lives in the database: a start, an approval and a rollback made there reach all three replicas within a
few refresh intervals, with no restart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from peptalk.rollout.store import RolloutStore
from tests.helpers import wait_for
from tests.peptalk.rollout.helpers import make_plan
from tests.replicas import deployment

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
ADMIN_KEY = "replica-rollout-admin"


def applied(client: httpx.Client, url: str) -> dict[str, Any] | None:
    response = client.get(f"{url}/rollout/status.json", headers={"X-Admin-Key": ADMIN_KEY})
    assert response.status_code == 200, response.text[:500]
    return response.json()["applied_here"]


@pytest.mark.timeout(600)
def test_every_replica_serves_the_same_rollout_stage(postgres_database: str, redis_url: str, tmp_path: Path) -> None:
    settings = {"PEPTALK_ROLLOUT_ENABLED": "true", "PEPTALK_ROLLOUT_REFRESH_INTERVAL_S": "0.2",
                "PEPTALK_ROLLOUT_CONTROLLER_ENABLED": "false", "PEPTALK_ADMIN_API_KEYS": ADMIN_KEY,
                "PEPTALK_CACHE_ENABLED": "false", "PEPTALK_EMBEDDED_THREADS": "1"}
    store = RolloutStore.from_url(postgres_database)
    store.migrate()
    try:
        with deployment(tmp_path, database_url=postgres_database, redis_url=redis_url, settings=settings) as app, \
                httpx.Client(timeout=60) as client:
            urls = [replica.url for replica in app.replicas]
            assert all(applied(client, url) is None for url in urls)  # no rollout yet

            def everywhere(stage: str, share: float) -> Callable[[], bool]:
                return lambda: all((state := applied(client, url)) is not None and state["stage"] == stage
                                   and state["share"] == share for url in urls)

            rollout = store.create(make_plan(), actor="operator", reason="replica test")
            wait_for(everywhere("shadow", 0.0), what="every replica serving the shadow stage")
            rollout = store.transition(rollout, kind="approve", to_stage=2, status="active", actor="operator",
                                       reason="replica test", evidence={})
            wait_for(everywhere("25", 0.25), what="every replica serving stage 25")
            versions = {applied(client, url)["version"] for url in urls}  # type: ignore[index]
            assert versions == {rollout.version}
            store.transition(rollout, kind="rollback", to_stage=0, status="rolled_back", actor="operator",
                             reason="replica test", evidence={})
            wait_for(everywhere("shadow", 0.0), what="every replica serving the shadow stage")
    finally:
        store.close()
