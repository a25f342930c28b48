"""peptalk's real OpenAI-protocol requests pass each target's rules, and bound the answer by the limit it reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from peptalk.settings import Settings
from router.backends.openai import OpenAIBackend
from router.backends.openai_targets import target_from_models, target_from_url
from router.registry import build_backends
from tests.conftest import OPENAI_ALIAS, TEST_MAX_TOKENS
from tests.doubles.openai_canned import create_double
from tests.doubles.openai_rules import TargetName, token_limit, validate_chat
from tests.helpers import serving

MESSAGES = [SystemMessage("You write pep talks."), HumanMessage("Yesterday I finished the report.")]
MAX_TOKENS = 5


@pytest.fixture(scope="module")
def double() -> Iterator[tuple[str, Any]]:
    app = create_double(api_keys=["sk-test"])
    with serving(app) as url:
        yield url, app.state.front


def _backend(settings: Settings) -> OpenAIBackend:
    backend = build_backends(settings)["openai"]
    assert isinstance(backend, OpenAIBackend)
    return backend


async def _call_both_ways(backend: OpenAIBackend, front: Any) -> list[Any]:
    """Invokes and streams once; returns the two requests as the double received them."""
    model = backend.chat_model(OPENAI_ALIAS)
    front.requests.clear()
    answer = await model.ainvoke(MESSAGES)
    chunks = [chunk async for chunk in model.astream(MESSAGES)]
    assert answer.content and answer.usage_metadata["output_tokens"] == MAX_TOKENS
    assert "".join(str(chunk.content) for chunk in chunks)
    with_usage = [index for index, chunk in enumerate(chunks) if chunk.usage_metadata]
    with_text = [index for index, chunk in enumerate(chunks) if chunk.content]
    assert len(with_usage) == 1 and with_usage[0] > with_text[-1]  # usage came once, after the text
    assert chunks[with_usage[0]].usage_metadata["output_tokens"] == MAX_TOKENS
    assert [request.status for request in front.requests] == [200, 200], [r.body for r in front.requests]
    return front.requests


async def test_the_default_config_gpt4_request_gets_200_from_the_strict_double(
        double: tuple[str, Any], make_settings: Callable[..., Settings]) -> None:
    """No base URL: the request that would go to api.openai.com, sent to the double instead, unchanged."""
    url, front = double
    settings = make_settings(backends=["embedded", "openai"], openai_api_key="sk-test", max_tokens=MAX_TOKENS)
    backend = _backend(settings)
    assert backend.target() == "openai" and backend.base_url == "https://api.openai.com/v1"
    model = backend.chat_model(OPENAI_ALIAS)
    for client in (model.root_client, model.root_async_client):
        client.base_url = httpx.URL(f"{url}/v1/")  # only the host changes; headers and body are peptalk's own
    front.requests.clear()
    await model.ainvoke(MESSAGES)
    [request] = front.requests
    assert request.status == 200
    assert "max_tokens" not in request.body and request.body["max_completion_tokens"] == MAX_TOKENS
    assert request.headers["authorization"] == "Bearer sk-test"


@pytest.mark.parametrize("target", ["openai", "azure", "vllm", "llamacpp", "ollama"])
async def test_each_target_gets_requests_it_accepts(double: tuple[str, Any], target: TargetName,
                                                    make_settings: Callable[..., Settings]) -> None:
    url, front = double
    base = url if target == "azure" else f"{url}/v1"
    settings = make_settings(backends=["embedded", "openai"], openai_base_url=base, openai_api_key="sk-test",
                             openai_target=target, max_tokens=MAX_TOKENS)
    backend = _backend(settings)
    non_streamed, streamed = await _call_both_ways(backend, front)
    for request in (non_streamed, streamed):
        validate_chat(request.body, target=target, known_models=None if target == "azure" else [OPENAI_ALIAS])
        validate_chat(request.body, target="vllm" if target in ("llamacpp", "ollama") else target)
        assert token_limit(request.body, target=target) == MAX_TOKENS  # the engine reads the configured limit
    assert streamed.body["stream"] is True and streamed.body["stream_options"] == {"include_usage": True}
    assert "stream_options" not in non_streamed.body
    expected_path = "/openai/deployments/gpt-4/chat/completions" if target == "azure" else "/v1/chat/completions"
    assert non_streamed.path == expected_path
    if target == "azure":
        assert streamed.headers["api-key"] == "sk-test" and "authorization" not in streamed.headers
    ok, detail = await backend.check_node(backend.base_url)
    assert ok, detail


async def test_llamacpp_target_bounds_the_real_server(llama_cpp_server: str,
                                                      make_settings: Callable[..., Settings]) -> None:
    """llama_cpp.server ignores `max_completion_tokens`; with its target the answer stops at the limit."""
    settings = make_settings(backends=["embedded", "openai"], openai_base_url=llama_cpp_server, max_tokens=4)
    backend = _backend(settings)
    assert backend.target() == "unknown"  # before start(): a self-hosted URL has not said which engine it is
    await backend.start()
    assert backend.target() == "llamacpp"  # llama_cpp.server's GET /models says owned_by "me"
    answer = await backend.chat_model(OPENAI_ALIAS).ainvoke(MESSAGES)
    assert 1 <= answer.usage_metadata["output_tokens"] <= 4


async def test_auto_target_reads_the_engine_behind_the_proxy(openai_server: str,
                                                             make_settings: Callable[..., Settings]) -> None:
    """The GPT-4 stand-in says what llama_cpp.server says of its models, and passes the limit on untranslated."""
    settings = make_settings(backends=["embedded", "openai"], openai_base_url=openai_server, openai_api_key="sk-t",
                             max_tokens=4)
    backend = _backend(settings)
    await backend.start()  # the stand-in checks keys as OpenAI does, GET /v1/models included
    assert backend.target() == "llamacpp"
    answer = await backend.chat_model(OPENAI_ALIAS).ainvoke(MESSAGES)
    assert 1 <= answer.usage_metadata["output_tokens"] <= 4


def test_target_detection_rules() -> None:
    assert target_from_url(None) == "openai"
    assert target_from_url("https://api.openai.com/v1") == "openai"
    assert target_from_url("https://peptalk.openai.azure.com") == "azure"
    assert target_from_url("http://gpu-node-1:8001/v1") is None
    assert target_from_models({"data": [{"id": "m", "owned_by": "vllm"}]}) == "vllm"
    assert target_from_models({"data": [{"id": "m", "owned_by": "llamacpp"}]}) == "llamacpp"
    assert target_from_models({"data": [{"id": "gpt-4", "owned_by": "openai"}]}) == "openai"
    assert target_from_models({"data": [{"id": "o3", "owned_by": "system"}, {"id": "ft", "owned_by": "user-x1"}]}) \
        == "openai"
    # Ollama's /v1/models: `owned_by` is the model's namespace (openai/openai.go, ToListCompletion).
    assert target_from_models({"data": [{"id": "llama3.2:1b", "owned_by": "library"}]}) == "ollama"
    assert target_from_models({"data": [{"id": "m", "owned_by": "sglang"}]}) == "unknown"  # sent max_tokens
    assert target_from_models({}) == "unknown"


async def test_an_unreachable_node_is_unknown_and_sent_max_tokens(make_settings: Callable[..., Settings]) -> None:
    from tests.doubles.faults import closed_port_url

    backend = _backend(make_settings(backends=["embedded", "openai"], openai_base_url=closed_port_url("/v1")))
    await backend.start()
    assert backend.target() == "unknown"
    model = backend.chat_model(OPENAI_ALIAS)
    assert model.extra_body == {"max_tokens": TEST_MAX_TOKENS} and model.max_tokens is None


def test_bad_target_setting_is_rejected() -> None:
    with pytest.raises(ValueError, match="openai_target"):
        Settings(_env_file=None, openai_target="gpt")


async def test_router_config_nodes_are_asked_too(llama_cpp_server: str, double: tuple[str, Any],
                                                 make_settings: Callable[..., Settings], tmp_path: Any) -> None:
    """A node set only in the router YAML (GPT-4 and a self-hosted engine on one backend) gets its own target."""
    from router.registry import build_router

    url, _ = double
    config = tmp_path / "router.yaml"
    config.write_text(f'models:\n  "openai:gpt-4": {{nodes: ["{llama_cpp_server}"]}}\n')
    router = build_router(make_settings(backends=["embedded", "openai"], openai_base_url=f"{url}/v1",
                                        openai_api_key="sk-test", router_config=config))
    await router.start()
    backend = router.backends["openai"]
    assert isinstance(backend, OpenAIBackend)
    assert backend.target(f"{url}/v1") == "openai" and backend.target(llama_cpp_server) == "llamacpp"
    [node] = router.pools[router.resolve("openai:gpt-4")].nodes
    assert node.url == llama_cpp_server and node.chat_model().extra_body == {"max_tokens": 24}
