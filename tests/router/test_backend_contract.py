"""One contract, run over every backend: each is a real LangChain chat model on a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from peptalk.settings import Settings
from router import Backend, build_backends

PROMPT = "Say hello to Ada in one short sentence."


@pytest.fixture(scope="module", params=["embedded", "embedded-server", "openai", "ollama"])
async def backend(request: pytest.FixtureRequest, openai_server: str, ollama_double: str) -> AsyncIterator[Backend]:
    name, _, engine = request.param.partition("-")  # embedded-server: the embedded model on a managed llama-server
    settings = Settings(
        _env_file=None, backends=[name], max_tokens=16, openai_base_url=openai_server,
        openai_api_key="test-key", ollama_base_url=ollama_double, embedded_engine=engine or "inprocess",
        default_model={"embedded": "embedded:smollm2-135m", "openai": "openai:gpt-4",
                       "ollama": "ollama:starling-lm:7b"}[name],
    )
    built = build_backends(settings)[name]
    await built.start()
    yield built
    await built.aclose()


async def test_is_ready_and_lists_its_models(backend: Backend) -> None:
    assert backend.models() and backend.nodes()
    for node in backend.nodes():
        reachable, detail = await backend.check_node(node)
        assert reachable, detail


async def test_ainvoke_returns_text_and_usage(backend: Backend) -> None:
    message = await backend.chat_model(backend.models()[0]).ainvoke(PROMPT)
    assert isinstance(message.content, str) and message.content.strip()
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_tokens"] > 0
    assert message.usage_metadata["input_tokens"] > 0


async def test_astream_yields_several_chunks(backend: Backend) -> None:
    chunks = [chunk async for chunk in backend.chat_model(backend.models()[0]).astream(PROMPT)]
    texts = [chunk.text for chunk in chunks if chunk.text]
    assert len(texts) >= 2
    assert "".join(texts).strip()


def test_sync_invoke_and_stream(backend: Backend) -> None:
    model = backend.chat_model(backend.models()[0])
    assert model.invoke(PROMPT).content.strip()
    assert "".join(chunk.text for chunk in model.stream(PROMPT)).strip()
