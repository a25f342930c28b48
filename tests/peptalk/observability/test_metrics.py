"""`/metrics` through the HTTP app and the real models: per route and served model, TTFT, tokens, cost, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from langchain_core.messages import AIMessageChunk
from prometheus_client.parser import text_string_to_metric_families

from langserve_app import create_app
from peptalk.metrics import REGISTRY
from peptalk.observability import MetricsLayer, RequestFacts, current_request_facts, load_prices
from peptalk.settings import Settings
from router.call import Call, AnswerFacts, facts_chunk
from tests.test_langserve_app import REQUEST, serving

EMBEDDED = "embedded:smollm2-135m"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def client(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(make_settings(max_tokens=6))) as http:
        yield http


async def test_invoke_and_stream_are_counted_by_route_and_served_model(client: httpx.AsyncClient) -> None:
    before = {route: sample("peptalk_requests_total", route=route, model=EMBEDDED, status="200")
              for route in ("/peptalk/invoke", "/peptalk/stream")}
    ttft_before = sample("peptalk_time_to_first_token_seconds_count", model=EMBEDDED)
    out_before = sample("peptalk_tokens_total", model=EMBEDDED, direction="out")
    in_before = sample("peptalk_tokens_total", model=EMBEDDED, direction="in")

    invoked = (await client.post("/peptalk/invoke", json={"input": REQUEST})).json()["output"]
    assert (await client.post("/peptalk/stream", json={"input": REQUEST})).status_code == 200

    for route, count in before.items():
        assert sample("peptalk_requests_total", route=route, model=EMBEDDED, status="200") == count + 1
        assert sample("peptalk_request_latency_seconds_count", route=route, model=EMBEDDED) >= 1
    assert sample("peptalk_time_to_first_token_seconds_count", model=EMBEDDED) == ttft_before + 2
    assert sample("peptalk_tokens_total", model=EMBEDDED, direction="in") - in_before >= invoked["metadata"]["usage"]["input_tokens"]
    assert sample("peptalk_tokens_total", model=EMBEDDED, direction="out") - out_before >= invoked["metadata"]["usage"]["output_tokens"]
    assert sample("peptalk_estimated_cost_usd_total", model=EMBEDDED) == 0.0  # self-hosted

    exposition = (await client.get("/metrics")).text
    names = {family.name for family in text_string_to_metric_families(exposition)}
    assert {"peptalk_requests", "peptalk_request_errors", "peptalk_request_latency_seconds",
            "peptalk_time_to_first_token_seconds", "peptalk_tokens", "peptalk_estimated_cost_usd",
            "peptalk_cache_lookups", "peptalk_breaker_state", "peptalk_shadow_queue_depth"} <= names


async def test_422_and_503_are_counted_as_errors(make_settings: Callable[..., Settings]) -> None:
    from tests.helpers import free_port

    settings = make_settings(backends=["embedded", "ollama"], ollama_base_url=f"http://127.0.0.1:{free_port()}",
                             default_model="ollama:starling-lm:7b")
    async with serving(create_app(settings)) as client:
        errors_422 = sample("peptalk_request_errors_total", route="/peptalk/invoke", model="none", error="http_422")
        errors_503 = sample("peptalk_request_errors_total", route="/readyz", model="none", error="http_503")
        assert (await client.post("/peptalk/invoke", json={"input": {"user_id": "ada"}})).status_code == 422
        assert (await client.get("/readyz")).status_code == 503
        assert sample("peptalk_request_errors_total", route="/peptalk/invoke", model="none", error="http_422") == errors_422 + 1
        assert sample("peptalk_request_errors_total", route="/readyz", model="none", error="http_503") == errors_503 + 1
        assert sample("peptalk_requests_total", route="/readyz", model="none", status="503") >= 1


class PricedLayer:
    """Answers like GPT-4 would: the model first, then text, then the usage."""

    async def astream(self, call: Call):
        yield facts_chunk(AnswerFacts(model="openai:gpt-4"))
        yield AIMessageChunk(content="You can do it.")
        yield AIMessageChunk(content="", usage_metadata={"input_tokens": 300, "output_tokens": 50, "total_tokens": 350})


async def test_gpt4_usage_is_priced_per_1k_tokens() -> None:
    before = sample("peptalk_estimated_cost_usd_total", model="openai:gpt-4")
    tokens_in = sample("peptalk_tokens_total", model="openai:gpt-4", direction="in")
    chunks = [chunk async for chunk in MetricsLayer(PricedLayer(), prices=load_prices()).astream(Call(messages=[]))]
    assert len(chunks) == 3  # the layer passes every chunk through
    assert sample("peptalk_estimated_cost_usd_total", model="openai:gpt-4") - before == pytest.approx(
        (300 * 0.03 + 50 * 0.06) / 1000)
    assert sample("peptalk_tokens_total", model="openai:gpt-4", direction="in") == tokens_in + 300


class FailingLayer:
    async def astream(self, call: Call):
        yield facts_chunk(AnswerFacts(model="openai:gpt-4"))
        yield AIMessageChunk(content="half")
        raise TimeoutError("backend stalled")


async def test_a_failure_after_the_first_chunk_is_recorded_for_the_request() -> None:
    facts = RequestFacts()
    token = current_request_facts.set(facts)
    try:
        with pytest.raises(TimeoutError):
            async for _ in MetricsLayer(FailingLayer()).astream(Call(messages=[])):
                pass
    finally:
        current_request_facts.reset(token)
    assert facts.models == ["openai:gpt-4"] and facts.error == "TimeoutError"
    assert facts.model_label() == "openai:gpt-4"


def test_prices_come_from_the_cost_models_table(tmp_path) -> None:
    prices = load_prices()  # peptalk/prices/api.yaml, December 2023
    assert prices.cost_usd("openai:gpt-4", 1000, 1000) == pytest.approx(0.09)
    assert prices.cost_usd("openai:gpt-3.5-turbo", 1000, 1000) == pytest.approx(0.003)
    assert prices.cost_usd("embedded:smollm2-135m", 1000, 1000) == 0.0
    assert prices.cost_usd("ollama:gpt-4", 1000, 1000) == 0.0  # self-hosted, whatever its name
    assert prices.cost_usd("openai:my-vllm-model", 1000, 1000) == 0.0  # not in the table
    custom = tmp_path / "prices.yaml"
    custom.write_text('as_of: "2026-11"\nmodels:\n  gpt-4:\n    input_per_1k: "1"\n    output_per_1k: "2"\n')
    assert load_prices(custom).cost_usd("openai:gpt-4", 1000, 1000) == pytest.approx(3.0)


def test_a_bad_price_table_stops_start_up_with_a_config_error(tmp_path) -> None:
    from router.errors import ConfigError

    broken = tmp_path / "prices.yaml"
    broken.write_text("models: [")
    with pytest.raises(ConfigError, match="PEPTALK_PRICE_TABLE"):
        load_prices(broken)
