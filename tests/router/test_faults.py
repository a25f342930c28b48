"""Real faults on loopback, on the router object: fallback, retry count, breaker open and close, total time."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from router import AllBackendsFailed, StreamInterrupted
from router.call import CallOptions
from tests.doubles.faults import TOKENS, FaultServer, closed_port_url
from tests.helpers import GENEROUS_S
from tests.router.routing_kit import OLLAMA, OPENAI, call, collect, make_router, meta, metric, retry_sleeps, text

pytestmark = pytest.mark.timeout(180)
FULL_TEXT = "".join(TOKENS)


async def test_closed_port_falls_back_then_skips_the_open_breaker() -> None:
    closed = closed_port_url()
    with FaultServer(["ok"], tags=("gpt-4",)) as gpt:
        router = make_router(ollama=[closed], openai=[gpt.url], fallback_chain=[OLLAMA, OPENAI])
        await router.start()
        retries_before = metric("peptalk_retries_total", model=OLLAMA, reason="connect")
        fallbacks_before = metric("peptalk_fallbacks_total", from_model=OLLAMA, to_model=OPENAI, reason="connect")

        chunks, elapsed = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI and text(chunks) == FULL_TEXT
        [fallback] = meta(chunks)["fallbacks"]
        assert fallback["model"] == OLLAMA and fallback["reason"] == "connect" and closed in fallback["detail"]
        assert metric("peptalk_retries_total", model=OLLAMA, reason="connect") - retries_before == 2  # 3 tries
        assert metric("peptalk_fallbacks_total", from_model=OLLAMA, to_model=OPENAI, reason="connect") - fallbacks_before == 1
        [node] = router.pools[router.resolve(OLLAMA)].nodes
        assert node.state == "cooling_down" and node.failed == 3 and node.breaker.opened_total == 1
        assert metric("peptalk_breaker_state", model=OLLAMA, node=closed) == 1
        assert elapsed < GENEROUS_S

        # The open breaker skips the node at once: no connection attempt, no waiting.
        chunks, elapsed = await collect(router, call())
        assert meta(chunks)["fallbacks"][0]["reason"] == "cooling_down"
        assert node.failed == 3 and elapsed < GENEROUS_S  # no connection attempt: the count did not move

        # After the cooldown one probe goes out; it fails, so the node is down, for a doubled cooldown.
        await asyncio.sleep(1.05)
        chunks, _ = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI
        assert node.failed == 4 and node.state == "down" and node.breaker.cooldown_s == 2.0
        assert metric("peptalk_breaker_state", model=OLLAMA, node=closed) == 2


async def test_hanging_server_times_out_on_first_token_then_recovers() -> None:
    with FaultServer(["hang"]) as hanging, FaultServer(["ok"], tags=("gpt-4",)) as gpt:
        router = make_router(ollama=[hanging.url], openai=[gpt.url], fallback_chain=[OLLAMA, OPENAI])
        await router.start()
        chunks, elapsed = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI
        assert meta(chunks)["fallbacks"][0]["reason"] == "first_token_timeout"
        assert hanging.chat_requests == 3  # the first try and two retries, each cut at 0.5 s
        assert 1.5 <= elapsed < GENEROUS_S  # three first-token timeouts of 0.5 s, not the 3600 s hang
        node = router.pools[router.resolve(OLLAMA)].nodes[0]
        assert node.state == "cooling_down"

        # The server heals; after the cooldown the probe succeeds and the breaker closes.
        hanging.set_script(["ok"])
        await asyncio.sleep(1.05)
        chunks, elapsed = await collect(router, call())
        assert meta(chunks)["model"] == OLLAMA and "fallbacks" not in meta(chunks)
        assert text(chunks) == FULL_TEXT and node.state == "up" and elapsed < GENEROUS_S
        assert metric("peptalk_breaker_state", model=OLLAMA, node=hanging.url) == 0


async def test_429_waits_for_retry_after_then_succeeds_on_the_same_model(caplog: pytest.LogCaptureFixture) -> None:
    with FaultServer(["429:1", "ok"], tags=("gpt-4",)) as gpt:
        router = make_router(openai=[gpt.url])
        await router.start()
        before = metric("peptalk_retries_total", model=OPENAI, reason="rate_limited")
        with caplog.at_level(logging.INFO, logger="peptalk.router"):
            chunks, _ = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI and "fallbacks" not in meta(chunks)
        assert text(chunks) == FULL_TEXT
        assert gpt.chat_requests == 2
        assert retry_sleeps(caplog) == [1.0]  # the router chose Retry-After: 1 (read from its log, not a clock)
        assert gpt.request_times[1] - gpt.request_times[0] >= 0.95  # ... and waited it
        assert metric("peptalk_retries_total", model=OPENAI, reason="rate_limited") - before == 1
        assert router.pools[router.resolve(OPENAI)].nodes[0].state == "up"


async def test_429_retry_after_is_capped(caplog: pytest.LogCaptureFixture) -> None:
    with FaultServer(["429:120", "ok"], tags=("gpt-4",)) as gpt:
        router = make_router(openai=[gpt.url], retry={"attempts": 3, "backoff_s": 0.05, "retry_after_cap_s": 0.3})
        await router.start()
        with caplog.at_level(logging.INFO, logger="peptalk.router"):
            chunks, _ = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI and gpt.chat_requests == 2
        # The server asked for 120 s; the router chose the 0.3 s cap (its log, not a clock) and waited at least it.
        assert retry_sleeps(caplog) == [0.3]
        assert gpt.request_times[1] - gpt.request_times[0] >= 0.3


async def test_500_retries_opens_the_breaker_and_falls_back() -> None:
    with FaultServer(["500"]) as failing, FaultServer(["ok"], tags=("gpt-4",)) as gpt:
        router = make_router(ollama=[failing.url], openai=[gpt.url], fallback_chain=[OLLAMA, OPENAI])
        await router.start()
        before = metric("peptalk_retries_total", model=OLLAMA, reason="server_error")
        chunks, elapsed = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI
        assert meta(chunks)["fallbacks"][0]["reason"] == "server_error"
        assert "500" in meta(chunks)["fallbacks"][0]["detail"]
        assert failing.chat_requests == 3
        assert metric("peptalk_retries_total", model=OLLAMA, reason="server_error") - before == 2
        node = router.pools[router.resolve(OLLAMA)].nodes[0]
        assert node.breaker.opened_total == 1 and elapsed < GENEROUS_S

        failing.set_script(["ok"])
        await asyncio.sleep(1.05)
        chunks, _ = await collect(router, call())
        assert meta(chunks)["model"] == OLLAMA and node.state == "up" and failing.chat_requests == 4


@pytest.mark.parametrize("protocol", ["ollama", "openai"])
async def test_stream_dying_mid_way_raises_a_typed_error(protocol: str) -> None:
    with FaultServer(["die:2"], tags=("starling-lm:7b", "gpt-4")) as dying, \
            FaultServer(["ok"], tags=("gpt-4",)) as gpt:
        if protocol == "ollama":
            router = make_router(ollama=[dying.url], openai=[gpt.url], fallback_chain=[OLLAMA, OPENAI])
            model = OLLAMA
        else:
            router = make_router(openai=[dying.url], fallback_chain=[OPENAI])
            model = OPENAI
        await router.start()
        received = []
        started = time.perf_counter()
        with pytest.raises(StreamInterrupted) as info:
            async for chunk in router.astream(call()):
                received.append(chunk)
        assert time.perf_counter() - started < GENEROUS_S
        assert received[0].response_metadata["peptalk"]["model"] == model
        assert "".join(chunk.text for chunk in received) == "".join(TOKENS[:2])  # what was sent stays sent
        assert received[-1].response_metadata["peptalk"]["error"]["type"] == "StreamInterrupted"
        assert info.value.model == model and info.value.chunks_sent >= 2
        assert dying.chat_requests == 1 and gpt.chat_requests == 0  # no retry, no fallback after tokens went out
        assert router.pools[router.resolve(model)].nodes[0].failed == 1


async def test_stream_dying_before_its_first_token_falls_back_transparently() -> None:
    with FaultServer(["die:0"]) as dying, FaultServer(["ok"], tags=("gpt-4",)) as gpt:
        router = make_router(ollama=[dying.url], openai=[gpt.url], fallback_chain=[OLLAMA, OPENAI],
                             retry={"attempts": 1})
        await router.start()
        chunks, elapsed = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI and text(chunks) == FULL_TEXT
        assert meta(chunks)["fallbacks"][0]["reason"] == "connect" and elapsed < GENEROUS_S


async def test_everything_down_fails_fast_and_faster_once_breakers_open() -> None:
    router = make_router(ollama=[closed_port_url()], openai=[closed_port_url()], fallback_chain=[OLLAMA, OPENAI])
    await router.start()
    started = time.perf_counter()
    with pytest.raises(AllBackendsFailed) as info:
        await collect(router, call())
    assert time.perf_counter() - started < GENEROUS_S
    assert [line.split(":")[0] for line in info.value.attempts] == ["ollama", "openai"]
    assert router.unavailable_reason() is not None

    failed_before = [node.failed for pool in router.pools.values() for node in pool.nodes]
    started = time.perf_counter()
    with pytest.raises(AllBackendsFailed) as info:
        await collect(router, call())
    assert time.perf_counter() - started < GENEROUS_S
    assert [node.failed for pool in router.pools.values() for node in pool.nodes] == failed_before  # nothing tried
    assert all("cooling down" in line for line in info.value.attempts)
    assert info.value.retry_after_s is not None and 0 < info.value.retry_after_s <= 1.0


async def test_the_overall_deadline_bounds_the_whole_request() -> None:
    with FaultServer(["hang"]) as first, FaultServer(["hang"], tags=("gpt-4",)) as second:
        router = make_router(ollama=[first.url], openai=[second.url], fallback_chain=[OLLAMA, OPENAI],
                             timeout_s=60.0, first_token_timeout_s=60.0, deadline_s=1.0)
        await router.start()
        started = time.perf_counter()
        with pytest.raises(AllBackendsFailed) as info:
            await collect(router, call())
        elapsed = time.perf_counter() - started
        assert 0.9 <= elapsed < GENEROUS_S  # the 1 s deadline, not the 60 s timeouts, ended it
        assert "deadline" in " ".join(info.value.attempts) and second.chat_requests == 0


async def test_pinned_model_does_not_fall_back_unless_configured() -> None:
    with FaultServer(["500"]) as failing, FaultServer(["ok"], tags=("gpt-4",)) as gpt:
        router = make_router(ollama=[failing.url], openai=[gpt.url], fallback_chain=[OPENAI], retry={"attempts": 1})
        await router.start()
        with pytest.raises(AllBackendsFailed):
            await collect(router, call(model=OLLAMA))
        assert gpt.chat_requests == 0

        lenient = make_router(ollama=[failing.url], openai=[gpt.url], fallback_chain=[OPENAI], retry={"attempts": 1},
                              pinned_fallback=True)
        await lenient.start()
        chunks, _ = await collect(lenient, call(model=OLLAMA))
        assert meta(chunks)["model"] == OPENAI and meta(chunks)["fallbacks"][0]["model"] == OLLAMA

        # A shadow call must hear from its candidate or fail: `fallback: False` overrides the setting.
        served = gpt.chat_requests
        with pytest.raises(AllBackendsFailed):
            await collect(lenient, call(model=OLLAMA, options=CallOptions(fallback=False)))
        assert gpt.chat_requests == served


async def test_fallback_to_the_real_embedded_model(gguf_path: object) -> None:
    router = make_router(ollama=[closed_port_url()], embedded=True, fallback_chain=[OLLAMA, "embedded:smollm2-135m"],
                         deadline_s=150.0)
    await router.start()
    try:
        chunks, _ = await collect(router, call())
    finally:
        await router.aclose()
    assert meta(chunks)["model"] == "embedded:smollm2-135m"
    assert meta(chunks)["fallbacks"][0]["reason"] == "connect"
    assert text(chunks).strip()
