"""The exact-hit fast path under a live rollout (issue 24), in the real app: the embedded model, real MiniLM and
FAISS, the rollout read from SQLite. A user the rollout sends to the candidate is not answered from the primary's
cache entry, and the fast path's header never contradicts `metadata.cache`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from langserve_app import create_app
from peptalk.rollout.assign import user_point
from peptalk.rollout.plan import parse_plan
from peptalk.rollout.store import RolloutStore
from router import registry
from router.registry import build_backends
from tests.peptalk.shadow.fakes import FakeBackend
from tests.peptalk.test_fast_path import ADA, FAST, GRACE, MODEL, app_settings, filled, post  # noqa: F401 - fixture
from tests.test_langserve_app import serving

CANDIDATE = "fake:fast"
SALT = "issue-24-0"  # puts grace at 0.375 and ada at 0.722


def start_rollout(url: str) -> float:
    """A rollout of the fake candidate at a share that sends grace to it and keeps ada on the primary."""
    ada, grace = user_point("ada", SALT), user_point("grace", SALT)
    assert grace < ada
    share = (ada + grace) / 2
    store = RolloutStore.from_url(url)
    store.migrate()
    plan = parse_plan({"candidate": CANDIDATE, "primary": MODEL, "salt": SALT, "mirror_rate": 0.0,
                       "judge": {"model": "openai:judge"},
                       "stages": [{"name": "shadow", "share": 0.0}, {"name": "canary", "share": share}]})
    rollout = store.create(plan, actor="operator", reason="test")
    store.transition(rollout, kind="advance", to_stage=1, status="active", actor="operator", reason="test")
    store.close()
    return share


async def test_the_fast_path_does_not_answer_for_a_user_the_rollout_routes_to_the_candidate(
        filled, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(registry, "build_backends",
                        lambda settings: {**build_backends(settings), "fake": FakeBackend(delay_s=0.0)})
    settings = app_settings(filled[0], rollout_enabled=True, rollout_controller_enabled=False,
                            rollout_refresh_interval_s=0.1)
    start_rollout(settings.resolved_database_url())
    async with serving(create_app(settings)) as client:
        grace = await post(client, "invoke", {"input": GRACE})  # cached for the primary; the rollout says candidate
        assert grace.status_code == 200, grace.text
        output = grace.json()["output"]
        assert output["metadata"]["rollout"]["arm"] == "candidate" and output["model"] == CANDIDATE
        assert output["metadata"]["cache"] != "exact" and FAST not in grace.headers  # LangServe answered it
        ada = await post(client, "invoke", {"input": ADA})  # the primary's arm: its cache hit, on the fast path
        assert ada.status_code == 200, ada.text
        output = ada.json()["output"]
        assert output["metadata"]["rollout"]["arm"] == "primary" and output["model"] == MODEL
        assert ada.headers[FAST] == "exact-cache-hit" and output["metadata"]["cache"] == "exact"
        ready = (await client.get("/readyz")).json()
        assert ready["rollout"]["state"] == "applied" and ready["rollout"]["stage"] == "canary"


async def test_the_header_follows_the_answers_facts(filled) -> None:  # noqa: ANN001
    """Every fast-path answer with the header is an exact hit by its own metadata, stream included."""
    async with serving(create_app(app_settings(filled[0]))) as client:
        for endpoint, body in (("invoke", {"input": ADA}), ("batch", {"inputs": [ADA, GRACE]})):
            response = await post(client, endpoint, body)
            outputs = [response.json()["output"]] if endpoint == "invoke" else response.json()["output"]
            assert response.headers.get(FAST) == "exact-cache-hit"
            assert all(output["metadata"]["cache"] == "exact" for output in outputs)
