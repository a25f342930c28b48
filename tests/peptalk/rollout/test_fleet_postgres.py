"""Two app processes on one PostgreSQL database serve the same stage, and both follow a rollback within seconds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from peptalk.cli import app as cli
from peptalk.rollout.assign import serves_candidate
from peptalk.rollout.store import RolloutStore
from tests.conftest import OLLAMA_TAG, OPENAI_ALIAS
from tests.helpers import wait_for
from tests.peptalk.rollout.apps import app_env, app_process, invoke, status
from tests.peptalk.rollout.helpers import make_plan

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(600)]
CANDIDATE, PRIMARY = f"ollama:{OLLAMA_TAG}", f"openai:{OPENAI_ALIAS}"


@pytest.fixture
def store(postgres_database: str) -> Iterator[RolloutStore]:
    rollout_store = RolloutStore.from_url(postgres_database)
    rollout_store.migrate()
    yield rollout_store
    rollout_store.close()


def test_two_processes_serve_the_same_stage_and_follow_a_rollback(openai_server: str, ollama_double: str,
                                                                  store: RolloutStore, postgres_database: str,
                                                                  tmp_path: Path) -> None:
    rollout = store.create(make_plan(mirror_rate=0.0), actor="operator", reason="fleet")
    rollout = store.transition(rollout, kind="approve", to_stage=3, status="active", actor="operator", reason="50%")
    salt = rollout.plan.assignment_salt
    users = [f"fleet-{index}" for index in range(60)]
    picked = [next(u for u in users if serves_candidate(u, 0.5, salt)),
              next(u for u in users if not serves_candidate(u, 0.5, salt)),
              [u for u in users if serves_candidate(u, 0.5, salt)][1]]
    # The controller runs in neither app here: this test is about the stage each process applies.
    common = {"PEPTALK_ROLLOUT_CONTROLLER_ENABLED": "false"}
    env_a = app_env(openai_server=openai_server, ollama_url=ollama_double, database_url=postgres_database,
                    data_dir=tmp_path / "a", **common)
    env_b = app_env(openai_server=openai_server, ollama_url=ollama_double, database_url=postgres_database,
                    data_dir=tmp_path / "b", **common)
    with app_process(env_a, "fleet-a") as url_a, app_process(env_b, "fleet-b") as url_b, httpx.Client() as client:
        for url in (url_a, url_b):
            assert status(client, url)["applied_here"]["stage"] == "50"
        for user in picked:
            expected = CANDIDATE if serves_candidate(user, 0.5, salt) else PRIMARY
            assert invoke(client, url_a, user)["model"] == expected
            assert invoke(client, url_b, user)["model"] == expected  # same stage, same user, same model
        result = CliRunner().invoke(cli, ["rollout", "rollback", "--reason", "fleet drill", "--database-url",
                                          postgres_database])
        assert result.exit_code == 0, result.output
        rolled_back = time.monotonic()
        seen: dict[str, float] = {}

        def both_applied() -> bool:
            for url in (url_a, url_b):
                if url not in seen and status(client, url)["applied_here"]["share"] == 0.0:
                    seen[url] = time.monotonic() - rolled_back
            return len(seen) == 2

        wait_for(both_applied, what="both processes applying the rollback")  # they refresh every 0.2 s
        assert invoke(client, url_a, picked[0])["model"] == PRIMARY
        assert invoke(client, url_b, picked[0])["model"] == PRIMARY
    print(f"rollback applied by both processes after {max(seen.values()):.2f} s")
