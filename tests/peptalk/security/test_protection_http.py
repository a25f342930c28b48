"""API keys, rate limits, body limits and the docs/playground switches, through the HTTP app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from langserve_app import create_app
from peptalk.settings import Settings
from router.errors import ConfigError
from tests.peptalk.assemblies import ASSEMBLIES, assemble, serving_assembled
from tests.test_langserve_app import REQUEST, serving

KEYS = ["key-one", "key-two"]
INCOMPLETE = {"user_id": "ada"}  # passes the limiter, then gets a 422: no generation needed


@pytest.fixture
async def protected(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(api_keys=KEYS, rate_limit_per_key_per_minute=0, rate_limit_per_user_per_minute=0)
    async with serving(create_app(settings)) as client:
        yield client


async def test_keys_alone_switch_dev_mode_off(protected: httpx.AsyncClient) -> None:
    assert (await protected.get("/healthz")).status_code == 200  # the one open endpoint
    for path in ("/models", "/readyz", "/metrics", "/openapi.json", "/peptalk/input_schema"):
        response = await protected.get(path)
        assert response.status_code == 401, path
        assert "X-API-Key" in response.json()["detail"]
        assert response.headers["www-authenticate"].startswith("ApiKey")
    response = await protected.post("/peptalk/invoke", json={"input": REQUEST})
    assert response.status_code == 401
    assert (await protected.get("/models", headers={"X-API-Key": "wrong"})).status_code == 401


async def test_a_configured_key_in_either_header_is_accepted(protected: httpx.AsyncClient) -> None:
    assert (await protected.get("/models", headers={"X-API-Key": "key-two"})).status_code == 200
    assert (await protected.get("/metrics", headers={"Authorization": "Bearer key-one"})).status_code == 200
    response = await protected.post("/peptalk/invoke", json={"input": INCOMPLETE}, headers={"X-API-Key": "key-one"})
    assert response.status_code == 422  # through the key check, on to validation


async def test_dev_mode_true_opens_every_endpoint(make_settings: Callable[..., Settings]) -> None:
    async with serving(create_app(make_settings(api_keys=KEYS, dev_mode=True))) as client:
        assert (await client.get("/models")).status_code == 200


def test_production_without_keys_refuses_to_start(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match="PEPTALK_API_KEYS"):
        create_app(make_settings(dev_mode=False))


@pytest.mark.parametrize("kind", ASSEMBLIES)
async def test_the_user_limit_answers_429_with_retry_after(kind: str, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(rate_limit_per_key_per_minute=0, rate_limit_per_user_per_minute=2)
    async with serving_assembled(assemble(kind, settings)) as client:
        for _ in range(2):
            assert (await client.post("/peptalk/invoke", json={"input": INCOMPLETE})).status_code == 422
        refused = await client.post("/peptalk/stream", json={"input": INCOMPLETE})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 30  # one token back every 30 s
        body = refused.json()
        assert body["limit"] == "user" and "'ada'" in body["detail"] and "retry after" in body["detail"]
        other = await client.post("/peptalk/invoke", json={"input": INCOMPLETE | {"user_id": "grace"}})
        assert other.status_code == 422  # another user has their own bucket
        # A batch charges each input's user.
        batch = await client.post("/peptalk/batch", json={"inputs": [INCOMPLETE | {"user_id": "grace"}] * 2})
        assert batch.status_code == 429 and batch.json()["limit"] == "user"


async def test_the_key_limit_counts_batch_inputs(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(api_keys=KEYS, rate_limit_per_key_per_minute=3, rate_limit_per_user_per_minute=0)
    headers = {"X-API-Key": "key-one"}
    async with serving(create_app(settings)) as client:
        too_big = await client.post("/peptalk/batch", json={"inputs": [INCOMPLETE] * 4}, headers=headers)
        assert too_big.status_code == 429 and "split the batch" in too_big.json()["detail"]
        response = await client.post("/peptalk/batch", json={"inputs": [INCOMPLETE] * 3}, headers=headers)
        assert response.status_code == 422
        refused = await client.post("/peptalk/c/abc/invoke", json={"input": INCOMPLETE}, headers=headers)
        assert refused.status_code == 429 and refused.json()["limit"] == "key"
        assert int(refused.headers["retry-after"]) == 20  # 3 per minute: one token every 20 s
        other_key = await client.post("/peptalk/invoke", json={"input": INCOMPLETE}, headers={"X-API-Key": "key-two"})
        assert other_key.status_code == 422
        assert (await client.get("/models", headers=headers)).status_code == 200  # only generation is limited


@pytest.mark.parametrize("kind", ASSEMBLIES)
async def test_an_oversized_body_is_a_413(kind: str, make_settings: Callable[..., Settings]) -> None:
    async with serving_assembled(assemble(kind, make_settings(max_body_bytes=2048))) as client:
        body = {"input": REQUEST | {"goals": ["x" * 100] * 30}}
        response = await client.post("/peptalk/invoke", json=body)
        assert response.status_code == 413


async def test_docs_and_playground_can_be_switched_off(make_settings: Callable[..., Settings]) -> None:
    async with serving(create_app(make_settings(docs_enabled=False, playground_enabled=False))) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/peptalk/playground/index.html"):
            assert (await client.get(path)).status_code == 404, path
        assert (await client.get("/peptalk/input_schema")).status_code == 200
    async with serving(create_app(make_settings())) as client:
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/peptalk/playground/index.html")).status_code == 200


def test_api_keys_setting_reads_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPTALK_API_KEYS", "alpha, beta")
    settings = Settings(_env_file=None)
    assert [key.get_secret_value() for key in settings.api_keys] == ["alpha", "beta"]
    assert settings.resolved_dev_mode() is False
    assert Settings(_env_file=None, api_keys=[]).resolved_dev_mode() is True
