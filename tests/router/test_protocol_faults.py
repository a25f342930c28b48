"""OpenAI-protocol failures the real API sends, through the real `openai` client and the router (issue 26).

An error event inside a 200 stream, a 429 of spent quota, a 429 with Azure's `retry-after-ms` or with no wait at
all: each from the fault server on loopback, each as the API words it (`tests/doubles/openai_rules.py`).
"""

from __future__ import annotations

import logging

import pytest

from router import StreamInterrupted
from tests.doubles.faults import TOKENS, FaultServer
from tests.helpers import GENEROUS_S
from tests.router.routing_kit import OLLAMA, OPENAI, call, collect, make_router, meta, metric, retry_sleeps, text

pytestmark = pytest.mark.timeout(180)
FULL_TEXT = "".join(TOKENS)


async def test_an_error_event_before_the_first_token_is_retried_and_counts_toward_the_breaker() -> None:
    """`data: {"error": {"type": "server_error"}}` in a 200 stream: the 500 it names, retried on the same model."""
    with FaultServer(["crash:0", "ok"], tags=("gpt-4",)) as gpt:
        router = make_router(openai=[gpt.url])
        await router.start()  # builds the clients: no first-use import inside the first-token timeout
        before = metric("peptalk_retries_total", model=OPENAI, reason="server_error")
        chunks, elapsed = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI and "fallbacks" not in meta(chunks) and text(chunks) == FULL_TEXT
        assert gpt.chat_requests == 2
        assert metric("peptalk_retries_total", model=OPENAI, reason="server_error") - before == 1
        [node] = router.pools[router.resolve(OPENAI)].nodes
        assert node.failed == 1 and "error event in the stream" in (node.last_error or "")
        assert elapsed < GENEROUS_S


async def test_error_events_before_the_first_token_open_the_breaker_and_fall_back() -> None:
    with FaultServer(["crash:0"], tags=("gpt-4",)) as gpt, FaultServer(["ok"]) as ollama:
        router = make_router(openai=[gpt.url], ollama=[ollama.url], fallback_chain=[OPENAI, OLLAMA], default=OPENAI)
        await router.start()
        chunks, _ = await collect(router, call())
        assert meta(chunks)["model"] == OLLAMA
        [fallback] = meta(chunks)["fallbacks"]
        assert fallback["reason"] == "server_error" and "error event in the stream" in fallback["detail"]
        [node] = router.pools[router.resolve(OPENAI)].nodes
        assert gpt.chat_requests == 3 and node.breaker.opened_total == 1 and node.state == "cooling_down"


async def test_an_error_event_after_the_first_token_interrupts_the_stream() -> None:
    with FaultServer(["crash:2"], tags=("gpt-4",)) as gpt:
        router = make_router(openai=[gpt.url])
        await router.start()
        received = []
        with pytest.raises(StreamInterrupted) as raised:
            async for chunk in router.astream(call()):
                received.append(chunk)
        assert raised.value.kind == "server_error" and raised.value.chunks_sent >= 2
        assert "".join(chunk.text for chunk in received).startswith("".join(TOKENS[:2]))
        assert received[-1].response_metadata["peptalk"]["error"]["reason"] == "server_error"
        assert gpt.chat_requests == 1  # tokens were sent: no retry


async def test_insufficient_quota_skips_the_model_at_once() -> None:
    """A 429 `insufficient_quota`: no retry, no breaker count, its own fallback reason, and a metric."""
    with FaultServer(["quota"], tags=("gpt-4",)) as gpt, FaultServer(["ok"]) as ollama:
        router = make_router(openai=[gpt.url], ollama=[ollama.url], fallback_chain=[OPENAI, OLLAMA], default=OPENAI)
        await router.start()
        quota_before = metric("peptalk_quota_exhausted_total", model=OPENAI, node=f"{gpt.url}/v1")
        retries_before = metric("peptalk_retries_total", model=OPENAI, reason="rate_limited")
        fallbacks_before = metric("peptalk_fallbacks_total", from_model=OPENAI, to_model=OLLAMA,
                                  reason="quota_exhausted")
        for _ in range(4):  # more than the breaker's three failures: it must stay closed
            chunks, _ = await collect(router, call())
            assert meta(chunks)["model"] == OLLAMA and text(chunks) == FULL_TEXT
            [fallback] = meta(chunks)["fallbacks"]
            assert fallback["reason"] == "quota_exhausted" and "insufficient_quota" in fallback["detail"]
        assert gpt.chat_requests == 4  # one request per call: never retried
        [node] = router.pools[router.resolve(OPENAI)].nodes
        assert node.failed == 0 and node.breaker.failures_in_row == 0 and node.state == "up"
        assert metric("peptalk_quota_exhausted_total", model=OPENAI, node=f"{gpt.url}/v1") - quota_before == 4
        assert metric("peptalk_retries_total", model=OPENAI, reason="rate_limited") == retries_before
        assert metric("peptalk_fallbacks_total", from_model=OPENAI, to_model=OLLAMA,
                      reason="quota_exhausted") - fallbacks_before == 4


async def test_a_429_without_retry_after_waits_the_backoff(caplog: pytest.LogCaptureFixture) -> None:
    with FaultServer(["429", "ok"], tags=("gpt-4",)) as gpt:
        router = make_router(openai=[gpt.url], retry={"attempts": 3, "backoff_s": 0.05, "backoff_max_s": 0.2,
                                                      "retry_after_cap_s": 5.0})
        await router.start()
        with caplog.at_level(logging.INFO, logger="peptalk.router"):
            chunks, _ = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI and text(chunks) == FULL_TEXT and gpt.chat_requests == 2
        [sleep_s] = retry_sleeps(caplog)
        assert 0.05 <= sleep_s <= 0.2  # the backoff's first step (with jitter), no header to follow


async def test_azures_retry_after_ms_is_honoured(caplog: pytest.LogCaptureFixture) -> None:
    with FaultServer(["429ms:0.8", "ok"], tags=("gpt-4",)) as gpt:
        router = make_router(openai=[gpt.url])
        await router.start()
        with caplog.at_level(logging.INFO, logger="peptalk.router"):
            chunks, _ = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI and gpt.chat_requests == 2
        assert retry_sleeps(caplog) == [0.8]  # retry-after-ms: 800
        assert gpt.request_times[1] - gpt.request_times[0] >= 0.75
