"""The OpenAI doubles send what the real API sends beyond plain errors (issue 26): reasoning models' refusals, each
429 variant, an error event inside a 200 stream; and the GPT-4 stand-in passes token limits on untranslated."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from tests.doubles.openai_canned import create_double
from tests.doubles.openai_proxy import create_proxy
from tests.doubles.openai_rules import OpenAIError, validate_chat
from tests.helpers import serving

GOOD = {"model": "gpt-4", "messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": 8}


@pytest.mark.parametrize(("model", "field", "value"), [
    ("o1", "temperature", 0.7), ("o3-mini", "temperature", 0.2), ("o4-mini-2025-04-16", "top_p", 0.5),
    ("gpt-5", "temperature", 0.0), ("gpt-5-mini", "top_p", 0.9)])
def test_a_reasoning_model_refuses_a_non_default_sampling_value(model: str, field: str, value: float) -> None:
    with pytest.raises(OpenAIError) as raised:
        validate_chat(GOOD | {"model": model, field: value}, target="openai")
    error = raised.value.body()["error"]
    assert raised.value.status == 400 and (error["code"], error["param"]) == ("unsupported_value", field)
    assert error["message"] == (f"Unsupported value: '{field}' does not support {value:g} with this model. "
                                "Only the default (1) value is supported.")


def test_what_a_reasoning_model_accepts() -> None:
    validate_chat(GOOD | {"model": "o3", "temperature": 1, "top_p": 1.0}, target="openai")  # the defaults
    validate_chat(GOOD | {"model": "o4-mini"}, target="openai")
    validate_chat(GOOD | {"model": "gpt-5-chat-latest", "temperature": 0.2}, target="openai")  # not a reasoning model
    validate_chat(GOOD | {"model": "gpt-4", "temperature": 0.2}, target="openai")
    validate_chat(GOOD | {"model": "o3", "temperature": 0.2}, target="vllm")  # a self-hosted engine's own model


@pytest.mark.parametrize(("action", "headers", "code"), [
    ("429", {}, "rate_limit_exceeded"), ("429:3", {"retry-after": "3"}, "rate_limit_exceeded"),
    ("429ms:0.25", {"retry-after-ms": "250"}, "rate_limit_exceeded"), ("quota", {}, "insufficient_quota")])
def test_each_429_variant_as_the_api_sends_it(action: str, headers: dict[str, str], code: str) -> None:
    with serving(create_double(script=[action, "ok"])) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test", max_retries=0)
        with pytest.raises(openai.RateLimitError) as raised:
            client.chat.completions.create(**GOOD)
        sent = {name: value for name, value in raised.value.response.headers.items()
                if name in ("retry-after", "retry-after-ms")}
        assert sent == headers and raised.value.code == code
        if code == "insufficient_quota":
            assert raised.value.type == "insufficient_quota"


@pytest.mark.parametrize("after", [0, 3])
def test_an_error_event_inside_the_200_stream(after: int) -> None:
    """`event:N`: N tokens, then `data: {"error": ...}`; the `openai` client raises `APIError` with no status."""
    with serving(create_double(script=[f"event:{after}"])) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test", max_retries=0)
        received: list[str] = []
        with pytest.raises(openai.APIError) as raised:
            for chunk in client.chat.completions.create(**GOOD, stream=True):
                received += [choice.delta.content for choice in chunk.choices if choice.delta.content]
        assert not isinstance(raised.value, openai.APIStatusError)  # the response was a 200
        assert len(received) == after and raised.value.type == "server_error"
        not_streamed = httpx.post(f"{url}/v1/chat/completions", json=GOOD, headers={"Authorization": "Bearer k"})
        assert not_streamed.status_code == 500  # not streamed, the same failure is the status


def _recording_llama_cpp() -> tuple[FastAPI, list[dict[str, Any]]]:
    """A stand-in for llama_cpp.server that records each chat body and answers two tokens."""
    app = FastAPI()
    bodies: list[dict[str, Any]] = []

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        bodies.append(await request.json())

        async def events() -> AsyncIterator[bytes]:
            for piece in ("Hi", "!"):
                yield f"data: {json.dumps({'choices': [{'delta': {'content': piece}}]})}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/extras/tokenize/count")
    async def count() -> dict[str, int]:
        return {"count": 3}

    return app, bodies


@pytest.mark.parametrize("limits", [{"max_completion_tokens": 8}, {"max_tokens": 8}])
def test_the_proxy_passes_the_token_limit_on_as_it_came(limits: dict[str, int]) -> None:
    """No translation: `max_completion_tokens` alone reaches llama.cpp as such (which ignores it), as on a real node."""
    upstream, bodies = _recording_llama_cpp()
    with serving(upstream) as upstream_url:
        with serving(create_proxy(f"{upstream_url}/v1", models=["gpt-4"])) as url:
            body = {key: value for key, value in GOOD.items() if key != "max_completion_tokens"} | limits
            response = httpx.post(f"{url}/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"})
            listing = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer k"}).json()
    assert response.status_code == 200, response.text
    [sent] = bodies
    assert {key: sent[key] for key in ("max_tokens", "max_completion_tokens") if key in sent} == limits
    assert listing["data"][0]["owned_by"] == "me"  # llama_cpp.server's owner: peptalk sees the engine
