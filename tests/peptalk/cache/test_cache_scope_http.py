"""The README's cache key settings over HTTP: `PEPTALK_CACHE_SCOPE=shared` and `PEPTALK_CACHE_MODEL_IN_KEY=false`.

Real FAISS and MiniLM; the answers come from the strict OpenAI-protocol double serving two models.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from langserve_app import create_app
from peptalk.settings import Settings
from tests.doubles.openai_canned import create_double
from tests.helpers import serving as serving_in_thread
from tests.test_langserve_app import REQUEST, serving

MODELS = ["gpt-4", "gpt-4o"]


@pytest.fixture(scope="module")
def double() -> Iterator[tuple[str, Any]]:
    app = create_double(model_names=tuple(MODELS), api_keys=["sk-test"])
    with serving_in_thread(app) as url:
        yield url, app.state.front


def _settings(tmp_path: Path, url: str, **overrides: Any) -> Settings:
    return Settings(_env_file=None, backends=["openai"], default_model="openai:gpt-4", openai_base_url=f"{url}/v1",
                    openai_api_key="sk-test", openai_models=MODELS, max_tokens=24, log_level="WARNING",
                    data_dir=tmp_path, **overrides)


async def _invoke(http: httpx.AsyncClient, payload: dict[str, Any], model: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"input": payload}
    if model:
        body["config"] = {"configurable": {"model": model}}
    response = await http.post("/peptalk/invoke", json=body)
    assert response.status_code == 200, response.text
    return response.json()["output"]


@pytest.mark.parametrize(("scope", "other_user_hits"), [("shared", True), ("user", False)])
async def test_shared_scope_answers_another_user_from_the_cache(double: tuple[str, Any], tmp_path: Path,
                                                                 scope: str, other_user_hits: bool) -> None:
    url, front = double
    async with serving(create_app(_settings(tmp_path, url, cache_scope=scope))) as http:
        first = await _invoke(http, REQUEST | {"user_id": "ada"})
        calls = len(front.requests)
        other = await _invoke(http, REQUEST | {"user_id": "grace"})
    assert first["metadata"]["cache_hit"] is False
    assert other["metadata"]["cache_hit"] is other_user_hits
    assert len(front.requests) == calls + (0 if other_user_hits else 1)  # a hit costs no backend call
    if other_user_hits:
        assert other["text"] == first["text"] and other["metadata"]["similarity"] == pytest.approx(1.0)


@pytest.mark.parametrize(("model_in_key", "other_model_hits"), [(False, True), (True, False)])
async def test_model_in_key_false_serves_one_answer_for_every_model(double: tuple[str, Any], tmp_path: Path,
                                                                    model_in_key: bool, other_model_hits: bool) -> None:
    url, front = double
    async with serving(create_app(_settings(tmp_path, url, cache_model_in_key=model_in_key))) as http:
        first = await _invoke(http, REQUEST, model="openai:gpt-4")
        calls = len(front.requests)
        other = await _invoke(http, REQUEST, model="openai:gpt-4o")
    assert first["model"] == "openai:gpt-4" and first["metadata"]["cache_hit"] is False
    assert other["metadata"]["cache_hit"] is other_model_hits
    assert len(front.requests) == calls + (0 if other_model_hits else 1)
    # A hit reports the model that wrote the cached answer, not the one asked for.
    assert other["model"] == ("openai:gpt-4" if other_model_hits else "openai:gpt-4o")
