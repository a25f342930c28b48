"""The exact-hit fast path in the real app: the embedded model, real MiniLM and FAISS, real shadow log.

LangServe's answers to the same cache hits are the reference: a first app (fast path off) fills the cache
and records them, and a second app on the same data folder (fast path on) must answer alike.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from langchain_core.messages import AIMessageChunk

from langserve_app import create_app
from peptalk.chain import ChainPlan, build_chain
from peptalk.fast_path import Configured, NotHandled, configured
from peptalk.metrics import REGISTRY
from peptalk.schema import PepTalkRequest
from peptalk.settings import Settings
from peptalk.shadow import SqlShadowStore
from router import registry
from router.call import Call, AnswerFacts, facts_chunk
from router.registry import build_backends, build_router
from tests.peptalk.assemblies import ASSEMBLIES, assemble, serving_assembled
from tests.peptalk.cache.test_cache_http import BASE as ADA
from tests.peptalk.shadow.fakes import FakeBackend
from tests.test_langserve_app import serving, sse_events

MODEL = "embedded:smollm2-135m"
GRACE = ADA | {"user_id": "grace"}
HITS = {
    "invoke": ("invoke", {"input": ADA}),
    "invoke, pinned, cache use": ("invoke", {"input": ADA, "config": {"configurable": {"model": MODEL, "cache": "use"}}}),
    "batch": ("batch", {"inputs": [ADA, GRACE], "kwargs": {}}),
    "stream": ("stream", {"input": GRACE}),
}
FAST = "x-peptalk-fast-path"


def app_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"max_tokens": 16, "temperature": 0.0, "log_level": "WARNING", "data_dir": data_dir}
    return Settings(_env_file=None, **(values | overrides))


def comparable(endpoint: str, response: httpx.Response) -> Any:
    """The response without its run ids (fresh per request), with the shape of its metadata kept."""
    if endpoint == "stream":
        events = sse_events(response.text)
        return [(name, sorted(json.loads(data)) if name == "metadata" else data) for name, data in events]
    body = response.json()
    return body["output"], {key: len(value) if isinstance(value, list) else sorted(value) if isinstance(value, dict)
                            else type(value).__name__ for key, value in body["metadata"].items()}


async def post(client: httpx.AsyncClient, endpoint: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/peptalk/{endpoint}", json=body)


@pytest.fixture(scope="module")
async def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, httpx.Response]]:
    """A data folder whose cache holds ada's and grace's answers, and LangServe's answers to the HITS."""
    data_dir = tmp_path_factory.mktemp("fast-path")
    async with serving(create_app(app_settings(data_dir, cache_fast_path=False))) as client:
        for payload in (ADA, GRACE):
            response = await post(client, "invoke", {"input": payload})
            assert response.status_code == 200 and response.json()["output"]["metadata"]["cache_hit"] is False
        reference = {name: await post(client, endpoint, body) for name, (endpoint, body) in HITS.items()}
    return data_dir, reference


@pytest.fixture(scope="module", params=ASSEMBLIES)
async def fast(filled: tuple[Path, dict[str, httpx.Response]], request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The standalone service, and a host with `include_peptalk`: the same fast path in front of both, each on its
    own copy of the filled data folder (a miss one of them stores must stay a miss for the other)."""
    data_dir = tmp_path_factory.mktemp(f"fast-path-{request.param}") / "data"
    shutil.copytree(filled[0], data_dir)
    async with serving_assembled(assemble(request.param, app_settings(data_dir))) as client:  # loads the snapshot
        yield client


@pytest.mark.parametrize("name", list(HITS))
async def test_exact_hits_get_langserves_answer_from_the_fast_path(name: str, filled, fast) -> None:
    endpoint, body = HITS[name]
    reference = filled[1][name]
    assert reference.status_code == 200 and FAST not in reference.headers
    response = await post(fast, endpoint, body)
    assert response.status_code == 200, response.text
    assert response.headers[FAST] == "exact-cache-hit"
    assert response.headers["content-type"] == reference.headers["content-type"]
    assert comparable(endpoint, response) == comparable(endpoint, reference)
    assert "cache_hit" in response.text and response.headers["x-request-id"]


PARAPHRASE = ADA | {"completed_tasks": ["Wrote design doc"],
                    "focused_tasks": ["Review 2 pull requests", "Call the bank about my loan"]}
PASSED_ON = {
    "near hit": ("invoke", {"input": PARAPHRASE}, 200),
    "miss": ("invoke", {"input": ADA | {"today": "2026-11-23"}}, 200),
    "cache bypass": ("invoke", {"input": ADA, "config": {"configurable": {"cache": "bypass"}}}, 200),
    "cache refresh": ("stream", {"input": GRACE, "config": {"configurable": {"cache": "refresh"}}}, 200),
    "batch with one miss": ("batch", {"inputs": [ADA, ADA | {"user_id": "linus"}]}, 200),
    "invalid input": ("invoke", {"input": ADA | {"today": "someday"}}, 422),
    "unknown model": ("invoke", {"input": ADA, "config": {"configurable": {"model": "ollama:nope"}}}, 422),
    "empty batch": ("batch", {"inputs": []}, 200),
}


@pytest.mark.parametrize("name", list(PASSED_ON))
async def test_everything_else_is_answered_by_langserve(name: str, fast) -> None:
    endpoint, body, status = PASSED_ON[name]
    response = await post(fast, endpoint, body)
    assert response.status_code == status, response.text
    assert FAST not in response.headers
    if status == 422:
        assert "today" in response.text or "model" in response.text


async def test_a_near_hit_is_still_a_semantic_hit_behind_the_fast_path(fast) -> None:
    output = (await post(fast, "invoke", {"input": PARAPHRASE})).json()["output"]
    assert output["metadata"]["cache_hit"] is True and output["metadata"]["similarity"] < 1.0


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_fast_path_hits_are_counted_and_shadowed(filled, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "build_backends",
                        lambda settings: {**build_backends(settings), "fake": FakeBackend(delay_s=0.0)})
    # The shadow log shares the database with the cache (issue 14), so the filled data folder's database it is.
    settings = app_settings(filled[0], shadow_candidates="fake:fast", shadow_hash_user_ids=False,
                            shadow_flush_interval_s=0.1)
    hits_before = sample("peptalk_cache_lookups_total", result="hit")
    served_before = sample("peptalk_requests_total", route="/peptalk/invoke", model=MODEL, status="200")
    async with serving(create_app(settings)) as client:
        response = await post(client, "invoke", {"input": ADA})
        assert response.headers[FAST] == "exact-cache-hit"
    assert sample("peptalk_cache_lookups_total", result="hit") == hits_before + 1
    assert sample("peptalk_requests_total", route="/peptalk/invoke", model=MODEL, status="200") == served_before + 1
    rows = list(SqlShadowStore.from_url(settings.resolved_database_url()).read())
    assert len(rows) == 1
    assert rows[0].request_id == response.headers["x-request-id"]
    assert rows[0].primary.cache_hit is True and rows[0].primary.model == MODEL
    assert rows[0].candidates[0].model == "fake:fast" and rows[0].candidates[0].response


async def test_exact_hits_still_need_an_api_key_and_count_against_the_rate_limit(filled) -> None:
    settings = app_settings(filled[0], dev_mode=False, api_keys="key-1", rate_limit_per_user_per_minute=2)
    async with serving(create_app(settings)) as client:
        refused = await post(client, "invoke", {"input": ADA})
        answered = [await client.post("/peptalk/invoke", json={"input": ADA}, headers={"X-API-Key": "key-1"})
                    for _ in range(3)]
    assert refused.status_code == 401 and FAST not in refused.headers
    assert [response.status_code for response in answered] == [200, 200, 429]
    assert answered[0].headers[FAST] == "exact-cache-hit" and "retry-after" in answered[2].headers


async def test_tracing_turns_the_fast_path_off(filled, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    monkeypatch.setenv("LANGSMITH_API_KEY", "lsv2-test")
    monkeypatch.setenv("LANGSMITH_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: traces are dropped
    async with serving(create_app(app_settings(filled[0]))) as client:
        response = await post(client, "invoke", {"input": ADA})
    assert response.status_code == 200 and FAST not in response.headers


KNOWN = frozenset([MODEL, "openai:gpt-4"])
PLAN = ChainPlan(PepTalkRequest)


@pytest.mark.parametrize(("config", "expected"), [
    (None, Configured()),
    ({}, Configured()),
    ({"configurable": None}, Configured()),
    ({"configurable": {"model": MODEL}}, Configured(model=MODEL)),
    ({"configurable": {"cache": "use", "model": None}}, Configured(cache="use")),
])
def test_configs_the_fast_path_takes(config: Any, expected: Configured) -> None:
    assert configured(config, KNOWN) == expected


@pytest.mark.parametrize("config", [
    {"configurable": {"cache": "bypass"}}, {"configurable": {"cache": "refresh"}},
    {"configurable": {"model": "ollama:unknown"}}, {"configurable": {"temperature": 1}},
    {"configurable": []}, {"tags": ["x"]}, [{"configurable": {}}], "use",
])
def test_configs_it_leaves_to_langserve(config: Any) -> None:
    with pytest.raises(NotHandled):
        configured(config, KNOWN)


class Capturing:
    """A serving layer that records the call the chain hands it and answers one word."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        self.calls.append(call)
        yield facts_chunk(AnswerFacts(model=MODEL))
        yield AIMessageChunk(content="Go!")


@pytest.mark.parametrize("cache", [None, "use", "bypass"])
async def test_the_call_is_the_one_the_chain_builds(cache: Any) -> None:
    capturing = Capturing()
    chain = build_chain(build_router(Settings(_env_file=None)), layer=capturing, plan=PLAN)
    await chain.ainvoke(ADA, config={"configurable": {"model": MODEL, "cache": cache}})
    expected = capturing.calls[0]
    request = PLAN.request(ADA)
    call = PLAN.call(request, model=MODEL, cache=cache, messages=PLAN.messages(request))
    assert (call.messages, call.request, call.model, call.options) == (
        expected.messages, expected.request, expected.model, expected.options)
    assert call.options.template_version == PLAN.spec.version
