"""Helpers for router tests: a router over fault servers, a call, metric deltas and the router's retry waits."""

from __future__ import annotations

import time
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage

from peptalk.metrics import REGISTRY
from peptalk.settings import Settings
from router import Router, RouterConfig, build_backends
from router.call import META_KEY, Call

OLLAMA = "ollama:starling-lm:7b"
OPENAI = "openai:gpt-4"
EMBEDDED = "embedded:smollm2-135m"

# Fast figures for fault tests: every fault resolves in a second or two.
FAST: dict[str, Any] = {
    "timeout_s": 3.0,
    "first_token_timeout_s": 0.5,
    "deadline_s": 10.0,
    "retry": {"attempts": 3, "backoff_s": 0.05, "backoff_max_s": 0.2, "retry_after_cap_s": 2.0},
    "breaker": {"failures": 3, "cooldown_s": 1.0, "max_cooldown_s": 4.0},
    # The real SmolLM2 may be slow on a loaded machine: give it room.
    "backends": {"embedded": {"timeout_s": 120.0, "first_token_timeout_s": 60.0}},
}


def make_router(*, ollama: list[str] | None = None, openai: list[str] | None = None, embedded: bool = False,
                ollama_models: list[str] | None = None, **config: Any) -> Router:
    """A router over the given node URLs (ollama base URLs, OpenAI base URLs without `/v1`)."""
    backends = [name for name, urls in (("ollama", ollama), ("openai", openai)) if urls] + (["embedded"] if embedded else [])
    settings = Settings(_env_file=None, backends=backends, max_tokens=8, default_model=config.pop("default", None) or
                        (OLLAMA if ollama else OPENAI if openai else EMBEDDED),
                        ollama_base_urls=ollama or [], openai_base_urls=[f"{url}/v1" for url in openai or []],
                        openai_api_key="test-key", **({"ollama_models": ollama_models} if ollama_models else {}))
    merged = {**FAST, **config}
    return Router(build_backends(settings), default_model=settings.default_model,
                  config=RouterConfig.model_validate(merged))


def call(user_id: str = "ada", **kwargs: Any) -> Call:
    request = {"user_id": user_id, "today": "2026-11-22", "last_login": "2026-11-21"}
    return Call(messages=[HumanMessage("Say hello to Ada.")], request=request, **kwargs)


async def collect(router: Router, the_call: Call) -> tuple[list[AIMessageChunk], float]:
    """Every chunk of the call, and the seconds it took."""
    started = time.perf_counter()
    chunks = [chunk async for chunk in router.astream(the_call)]
    return chunks, time.perf_counter() - started


def meta(chunks: list[AIMessageChunk]) -> dict[str, Any]:
    return chunks[0].response_metadata[META_KEY]


def text(chunks: list[AIMessageChunk]) -> str:
    return "".join(chunk.text for chunk in chunks)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def retry_sleeps(caplog: pytest.LogCaptureFixture) -> list[float]:
    """The waits the router chose before each retry (its `retry` log lines), read instead of a clock."""
    return [record.sleep_s for record in caplog.records if record.getMessage() == "retry"]  # type: ignore[attr-defined]
