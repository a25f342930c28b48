"""The README's stream contract, and stream_log / stream_events, over HTTP on a real uvicorn, for every backend.

The GPT-4 stand-in is llama_cpp.server behind the OpenAI-rules proxy; Ollama is the strict double.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ARTIFACTS
from tests.helpers import free_port, python, running
from tests.test_http_e2e import MODELS, REQUEST, app_env
from tests.test_langserve_app import sse_events

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def app_url(openai_server: str, ollama_double: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    cmd = [python(), "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port)]
    env = app_env(openai_server, ollama_double, PEPTALK_DATA_DIR=str(tmp_path_factory.mktemp("stream-contract")),
                  PEPTALK_CACHE_ENABLED="false")  # every stream below is generated, none replayed
    with running(cmd, f"http://127.0.0.1:{port}/healthz", log=ARTIFACTS / "uvicorn-stream-contract.log", env=env):
        yield f"http://127.0.0.1:{port}"


def _post(app_url: str, endpoint: str, model: str, user: str) -> list[tuple[str, str]]:
    body = {"input": REQUEST | {"user_id": user}, "config": {"configurable": {"model": model}}}
    response = httpx.post(f"{app_url}/peptalk/{endpoint}", json=body, timeout=600)
    assert response.status_code == 200, response.text
    events = sse_events(response.text)
    assert "error" not in [name for name, _ in events], events
    return events


@pytest.mark.parametrize("model", MODELS)
def test_first_chunk_is_empty_and_names_the_model_the_last_carries_usage(app_url: str, model: str) -> None:
    events = _post(app_url, "stream", model, f"contract-{model}")
    chunks = [json.loads(data) for name, data in events if name == "data"]
    assert events[-1][0] == "end"
    assert chunks[0]["text"] == "" and chunks[0]["model"] == model
    assert sum(1 for chunk in chunks[1:] if chunk.get("text")) >= 2
    usage = chunks[-1]["metadata"]["usage"]
    assert usage["output_tokens"] >= 1 and usage["input_tokens"] >= 1, chunks[-1]
    assert all("usage" not in (chunk.get("metadata") or {}) for chunk in chunks[:-1])  # only the last


@pytest.mark.parametrize("model", MODELS)
def test_stream_log_over_http(app_url: str, model: str) -> None:
    events = _post(app_url, "stream_log", model, f"log-{model}")
    ops = [op for name, data in events if name == "data" for op in json.loads(data)["ops"]]
    streamed = [op["value"] for op in ops if op["path"] == "/streamed_output/-"]
    assert streamed[0]["model"] == model and streamed[0]["text"] == ""
    assert "".join(chunk.get("text", "") for chunk in streamed).strip()
    assert any(op["path"].startswith("/final_output") for op in ops)


@pytest.mark.parametrize("model", MODELS)
def test_stream_events_over_http(app_url: str, model: str) -> None:
    events = _post(app_url, "stream_events", model, f"events-{model}")
    payloads = [json.loads(data) for name, data in events if name == "data"]
    kinds = [payload["event"] for payload in payloads]
    assert kinds[0] == "on_chain_start" and kinds[-1] == "on_chain_end"
    streamed = [payload["data"]["chunk"] for payload in payloads
                if payload["event"] == "on_chain_stream" and not payload.get("parent_ids")]
    assert streamed[0]["model"] == model
    assert "".join(chunk.get("text", "") for chunk in streamed).strip()
    final = payloads[-1]["data"]["output"]  # the chunks added up: the whole answer, not the last chunk
    assert final["model"] == model and final["text"] == "".join(chunk.get("text", "") for chunk in streamed)
    assert final["metadata"]["usage"]["output_tokens"] >= 1
