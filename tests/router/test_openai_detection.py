"""Engine detection that cannot leave a node unbounded, and per-model parameter rules (issue 26).

A self-hosted node that has not said which engine it is gets `max_tokens`, the limit every engine reads, and is
asked again until it answers; a reasoning model is sent no sampling value it refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from peptalk.settings import Settings
from router.backends.openai import OpenAIBackend
from router.registry import build_backends
from tests.conftest import ARTIFACTS, OPENAI_ALIAS
from tests.doubles.openai_canned import create_double
from tests.helpers import free_port, python, running, serving
from tests.router.routing_kit import OPENAI, call, collect, make_router, meta

pytestmark = pytest.mark.timeout(300)
LIMIT = 8  # make_router's max_tokens


def _backend(router_backends: dict[str, object]) -> OpenAIBackend:
    backend = router_backends["openai"]
    assert isinstance(backend, OpenAIBackend)
    return backend


async def test_an_unknown_node_is_sent_max_tokens_and_asked_again_until_it_answers() -> None:
    app = create_double()
    front = app.state.front
    front.models_status = 503  # GET /v1/models fails: a node still loading, or behind a gateway
    with serving(app) as url:
        node = f"{url}/v1"
        router = make_router(openai=[url])
        backend = _backend(router.backends)
        backend.reprobe_s = 0.0
        await router.start()
        assert backend.target(node) == "unknown" and front.models_asked == 1

        chunks, _ = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI
        body = front.requests[-1].body
        assert body["max_tokens"] == LIMIT and "max_completion_tokens" not in body  # every engine reads it
        assert front.models_asked == 2  # asked again before the request, not cached as unknown

        backend.reprobe_s = 3600.0  # at most once per reprobe_s: no question on this request
        await collect(router, call())
        assert front.models_asked == 2

        backend.reprobe_s = 0.0
        front.models_status = 200  # the node answers now: OpenAI's owner
        await collect(router, call())
        assert backend.target(node) == "openai" and front.models_asked == 3
        body = front.requests[-1].body  # the node's client was built again, for the target it named
        assert body["max_completion_tokens"] == LIMIT and "max_tokens" not in body
        await collect(router, call())
        assert front.models_asked == 3  # known: never asked again


async def test_a_node_started_after_peptalk_gets_the_limit(gguf_path: Path) -> None:
    """llama_cpp.server, down while peptalk starts and up at the first request, stops at the limit."""
    port = free_port()
    router = make_router(openai=[f"http://127.0.0.1:{port}"],
                         deadline_s=180.0, backends={"openai": {"timeout_s": 120.0, "first_token_timeout_s": 60.0}})
    await router.start()  # nothing listens yet: GET /models is refused
    backend = _backend(router.backends)
    assert backend.target(f"http://127.0.0.1:{port}/v1") == "unknown"
    cmd = [python(), "-m", "llama_cpp.server", "--model", str(gguf_path), "--model_alias", OPENAI_ALIAS,
           "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2", "--n_ctx", "2048"]
    with running(cmd, f"http://127.0.0.1:{port}/v1/models", log=ARTIFACTS / "late-llama-cpp-server.log"):
        chunks, _ = await collect(router, call())
    assert meta(chunks)["model"] == OPENAI
    tokens = [chunk for chunk in chunks if chunk.content]  # llama_cpp.server streams a token a chunk, no usage
    assert 1 <= len(tokens) <= LIMIT  # llama.cpp read the limit; `max_completion_tokens` alone it ignores


async def test_a_reasoning_model_is_sent_no_temperature_it_refuses(make_settings: Callable[..., Settings]) -> None:
    models = ["gpt-4", "o4-mini", "o3", "gpt-5-chat-latest"]
    app = create_double(model_names=tuple(models))
    front = app.state.front
    with serving(app) as url:
        settings = make_settings(backends=["embedded", "openai"], openai_base_url=f"{url}/v1", openai_api_key="sk-t",
                                 openai_models=models, openai_target="openai", temperature=0.2)
        backend = _backend(build_backends(settings))
        for model in models:
            answer = await backend.chat_model(model).ainvoke([HumanMessage("Hi")])
            assert answer.content, model
    bodies = {request.body["model"]: request.body for request in front.requests}
    assert [request.status for request in front.requests] == [200] * len(models)
    assert "temperature" not in bodies["o4-mini"] and "temperature" not in bodies["o3"]
    assert bodies["gpt-4"]["temperature"] == 0.2 and bodies["gpt-5-chat-latest"]["temperature"] == 0.2
