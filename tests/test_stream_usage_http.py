"""Every backend's stream ends with `metadata.usage`, and the `served` log line counts the streamed tokens.

Over HTTP (the app in-process, real backends): the embedded llama.cpp model, `llama_cpp.server` itself as the
OpenAI-protocol engine (no proxy: it sends no usage on streams, so peptalk counts it), and the Ollama double.
The same app mirrors every request to `openai:gpt-4`, except the one that `openai:gpt-4` answered itself.
A second `llama_cpp.server`, started as a reader would start it (it cuts a running stream off when another
request arrives), shows that a cut stream is an error naming the model and the cause, not a short answer.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from langserve_app import create_app
from peptalk.logs import JsonFormatter
from peptalk.settings import Settings
from peptalk.shadow import SqlShadowStore
from router.backends.openai import OpenAIBackend
from router.errors import StreamCutOff
from tests.conftest import ARTIFACTS, OLLAMA_TAG, OPENAI_ALIAS
from tests.helpers import free_port, python, running
from tests.test_langserve_app import REQUEST, serving, sse_events

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
MODELS = {"embedded:smollm2-135m": "backend", f"openai:{OPENAI_ALIAS}": "counted", f"ollama:{OLLAMA_TAG}": "backend"}
MIRROR = f"openai:{OPENAI_ALIAS}"
Streamed = tuple[dict[str, list[dict]], list[dict], Settings]  # chunks per model, JSON log lines, the settings


@pytest.fixture(scope="module")
async def streamed(llama_cpp_server: str, ollama_double: str,
                   tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Streamed]:
    """One stream per model (request id = the model), the JSON log lines, and the settings (for the shadow log)."""
    settings = Settings(_env_file=None, backends=["embedded", "openai", "ollama"], openai_base_url=llama_cpp_server,
                        openai_api_key="test-key", openai_models=[OPENAI_ALIAS], ollama_base_url=ollama_double,
                        ollama_models=[OLLAMA_TAG], max_tokens=24, log_level="INFO", cache_enabled=False,
                        shadow_candidates=[MIRROR], shadow_hash_user_ids=False, shadow_flush_interval_s=0.1,
                        shadow_timeout_s=600, shadow_drain_timeout_s=600, request_timeout_s=600,
                        first_token_timeout_s=600, request_deadline_s=900,
                        data_dir=tmp_path_factory.mktemp("stream-usage"))
    app = create_app(settings)
    handler = next(h for h in logging.getLogger("peptalk").handlers if isinstance(h.formatter, JsonFormatter))
    sink = io.StringIO()
    previous = handler.setStream(sink)
    chunks: dict[str, list[dict]] = {}
    try:
        async with serving(app) as client:
            for model in MODELS:
                body = {"input": REQUEST | {"user_id": f"usage-{model}"}, "config": {"configurable": {"model": model}}}
                response = await client.post("/peptalk/stream", json=body, headers={"X-Request-ID": model},
                                             timeout=600)
                assert response.status_code == 200, response.text
                events = sse_events(response.text)
                assert [name for name, _ in events].count("error") == 0, events
                chunks[model] = [json.loads(data) for name, data in events if name == "data"]
        # Leaving `serving` ran the lifespan's shutdown: the shadow queue was drained and committed.
    finally:
        handler.setStream(previous)
    logged = [json.loads(line) for line in sink.getvalue().splitlines() if line.strip()]
    yield chunks, logged, settings


@pytest.mark.parametrize("model", MODELS)
def test_the_last_chunk_carries_usage_and_the_served_line_counts_it(streamed, model: str) -> None:
    chunks, logged, _ = streamed
    received = chunks[model]
    assert received[0]["model"] == model and received[0]["text"] == ""
    texts = [chunk for chunk in received if chunk.get("text")]
    assert len(texts) >= 2
    last = received[-1]["metadata"]
    assert last["usage"]["output_tokens"] >= 1 and last["usage"]["input_tokens"] >= 1, received[-1]
    assert last["usage_source"] == MODELS[model]  # llama_cpp.server sends none on a stream: counted
    assert all("usage" not in (chunk.get("metadata") or {}) for chunk in received[:-1])  # only on the last
    if MODELS[model] == "counted":
        assert last["usage"]["output_tokens"] == len(texts)  # one token per streamed chunk
    [served] = [line for line in logged if line["msg"] == "served" and line.get("request_id") == model
                and line["model"] == model]
    assert served["output_tokens"] == last["usage"]["output_tokens"] > 0
    assert served["usage_source"] == MODELS[model]


def test_no_request_is_mirrored_to_the_model_that_answered_it(streamed) -> None:
    _, _, settings = streamed
    store = SqlShadowStore.from_url(settings.resolved_database_url())
    rows = {row.request_id: row for row in store.read()}
    store.close()
    assert set(rows) == {model for model in MODELS if model != MIRROR}  # the request gpt-4 answered: no pair
    for request_id, row in rows.items():
        assert row.primary.model == request_id
        [candidate] = row.candidates
        assert candidate.model == MIRROR and candidate.error is None and candidate.response
        assert candidate.usage_source == "counted" and candidate.output_tokens > 0


@pytest.fixture
def interrupting_server(gguf_path: Path) -> Iterator[str]:
    """llama_cpp.server with its defaults: a new request cuts the running stream off."""
    port = free_port()
    cmd = [python(), "-m", "llama_cpp.server", "--model", str(gguf_path), "--model_alias", OPENAI_ALIAS,
           "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2"]
    with running(cmd, f"http://127.0.0.1:{port}/v1/models", log=ARTIFACTS / "llama-server-interrupting.log"):
        yield f"http://127.0.0.1:{port}/v1"


async def test_a_stream_the_engine_cuts_off_is_an_error_naming_the_cause(interrupting_server: str) -> None:
    backend = OpenAIBackend(models=[OPENAI_ALIAS], base_url=interrupting_server, api_key=None, temperature=0.0,
                            max_tokens=200, timeout_s=600, target="auto", api_version="2024-10-21")
    await backend.start()
    model = backend.chat_model(OPENAI_ALIAS)
    first_token = asyncio.Event()

    async def answer(prompt: str, signal: Callable[[], None] | None = None) -> str:
        pieces = []
        async for chunk in model.astream(prompt):
            pieces.append(chunk.text)
            if chunk.text and signal is not None:
                signal()
        return "".join(pieces)

    first = asyncio.create_task(answer("Write a long story about a cat who learns to sail.", first_token.set))
    await asyncio.wait_for(first_token.wait(), timeout=600)
    second = await answer("Say hello.")  # arrives while the first streams: the server cuts the first off
    with pytest.raises(StreamCutOff, match="--interrupt_requests False"):
        await first
    assert second.strip()
