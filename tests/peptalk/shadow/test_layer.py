"""`ShadowLayer` over fake backends: the primary passes through untouched, candidates run in the background."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from peptalk.metrics import SHADOW_CALLS, SHADOW_DROPPED
from peptalk.shadow.recorder import count_tokens
from router.call import CallOptions
from router.errors import AllBackendsFailed, ConfigError
from tests.peptalk.shadow.fakes import ANSWER
from tests.helpers import GENEROUS_S, wait_for_async
from tests.peptalk.shadow.helpers import CacheHitLayer, collect, fake_router, make_call, make_layer


def summary(chunks: list) -> tuple[str, list[dict]]:
    return "".join(str(chunk.text) for chunk in chunks), [dict(chunk.response_metadata) for chunk in chunks]


async def test_misbehaving_candidates_never_change_the_primary(tmp_path: Path) -> None:
    router = fake_router()
    baseline = summary(await collect(router, make_call()))
    layer = make_layer(tmp_path, ("fake:raise", "fake:hang", "fake:garbage", "fake:midstream"), router=router,
                       timeout_s=3.0)
    errors_before = SHADOW_CALLS.labels(model="fake:raise", outcome="error")._value.get()
    await layer.start()
    started = time.perf_counter()
    chunks = await collect(layer, make_call())
    assert time.perf_counter() - started < GENEROUS_S
    assert layer.store.count() == 0  # the pair waits for its candidates: the primary did not wait for the hang
    assert summary(chunks) == baseline
    await layer.aclose()

    [row] = list(layer.store.read())
    by_model = {record.model: record for record in row.candidates}
    assert by_model["fake:raise"].error.startswith("AllBackendsFailed")  # the router's typed error (issue 3)
    assert "RuntimeError: candidate exploded" in by_model["fake:raise"].error
    assert by_model["fake:hang"].error.startswith("TimeoutError")
    assert 2.9 <= by_model["fake:hang"].latency_s < GENEROUS_S  # cut at its 3 s timeout
    # The router types a failure after the first token (issue 3) and keeps the cause in the message.
    assert by_model["fake:midstream"].error.startswith("StreamInterrupted")
    assert "ConnectionError: stream cut" in by_model["fake:midstream"].error
    assert by_model["fake:midstream"].response == ANSWER.split(" ")[0] + " " + " ".join(ANSWER.split(" ")[1:3])
    garbage = by_model["fake:garbage"]
    assert garbage.error is None and "garbage" in garbage.response and "\x00" not in garbage.response
    assert row.primary.response == ANSWER and row.primary.error is None
    assert SHADOW_CALLS.labels(model="fake:raise", outcome="error")._value.get() == errors_before + 1


async def test_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    layer = make_layer(tmp_path, ("fake:hang",), max_in_flight=1, queue_size=2, timeout_s=3600, drain_timeout_s=0.3)
    metric_before = SHADOW_DROPPED.labels(reason="queue_full")._value.get()
    await layer.start()
    await collect(layer, make_call())
    await wait_for_async(lambda: layer.queue_depth == 0, what="the single worker taking the first job")  # it hangs
    started = time.perf_counter()
    for index in range(9):
        chunks = await collect(layer, make_call(f"user{index}"))
        assert "".join(str(chunk.text) for chunk in chunks) == ANSWER
    assert time.perf_counter() - started < GENEROUS_S  # not held up by the 3600 s candidate
    assert layer.queue_depth == 2
    assert layer.dropped["queue_full"] == 7
    assert SHADOW_DROPPED.labels(reason="queue_full")._value.get() == metric_before + 7
    started = time.perf_counter()
    await layer.aclose()  # the hung job and the queued ones give up at the drain timeout
    assert time.perf_counter() - started < GENEROUS_S  # the 0.3 s drain timeout, not the 3600 s hang
    assert layer.dropped["shutdown"] == 3  # the hung job and the two queued behind it
    assert layer.store.count() == 0


async def test_candidates_bypass_the_cache_and_the_pair_records_everything(tmp_path: Path) -> None:
    router = fake_router(delay_s=0.05)
    cache = CacheHitLayer(router)
    layer = make_layer(tmp_path, ("fake:slow", "fake:nousage"), router=router, inner=cache, hash_user_ids=True,
                       user_id_salt=b"pepper")
    await layer.start()
    await collect(layer, make_call("grace"))
    await layer.aclose()
    backend = router.backends["fake"]
    assert cache.calls == 1  # only the primary went through the cache
    assert len(backend.calls["fast"]) == 1 and len(backend.calls["slow"]) == 1 and len(backend.calls["nousage"]) == 1

    [row] = list(layer.store.read())
    assert row.user_id == layer.policy.stored_user_id("grace") != "grace" and len(row.user_id) == 64
    assert row.request["focused_tasks"] == ["Review two pull requests"] and row.request["user_id"] == row.user_id
    assert row.prompt == "Write Ada a pep talk."
    assert row.request_id and row.pair_id and row.created_at.tzinfo is not None
    primary = row.primary
    assert primary.model == "fake:fast" and primary.cache_hit is True
    assert primary.response == ANSWER and primary.error is None
    assert 0 < primary.ttft_s <= primary.latency_s
    assert (primary.input_tokens, primary.output_tokens, primary.usage_source) == (42, len(ANSWER.split()), "backend")
    slow, nousage = row.candidates
    assert slow.model == "fake:slow" and slow.cache_hit is False and slow.usage_source == "backend"
    # No usage from the backend: the router counts one token per streamed chunk, and the prompt's words and marks.
    assert nousage.usage_source == "counted"
    assert nousage.output_tokens == len(ANSWER.split()) and nousage.input_tokens == count_tokens(row.prompt)


async def test_a_request_is_never_mirrored_to_the_model_that_answered_it(tmp_path: Path) -> None:
    router = fake_router()
    layer = make_layer(tmp_path, ("fake:fast", "fake:nousage"), router=router)
    only = make_layer(tmp_path / "only", ("fake:fast",), router=router)
    skipped_before = SHADOW_DROPPED.labels(reason="candidate_answered")._value.get()
    await layer.start()
    await only.start()
    await collect(layer, make_call("pinned", model="fake:fast"))  # pinned to a candidate: mirrored to the other
    await collect(layer, make_call("routed"))  # the default (fake:fast) answers: likewise
    await collect(only, make_call("alone", model="fake:fast"))  # the only candidate answered: no job at all
    await layer.aclose()
    await only.aclose()
    rows = sorted(layer.store.read(), key=lambda row: row.user_id)
    assert [row.user_id for row in rows] == ["pinned", "routed"]
    for row in rows:
        assert row.primary.model == "fake:fast"
        assert [candidate.model for candidate in row.candidates] == ["fake:nousage"]
    assert list(only.store.read()) == [] and only.dropped["candidate_answered"] == 1
    assert SHADOW_DROPPED.labels(reason="candidate_answered")._value.get() == skipped_before + 1
    assert len(router.backends["fake"].calls["fast"]) == 3  # the three primaries, no mirror to fake:fast


async def test_a_failing_primary_fails_as_before_and_is_still_compared(tmp_path: Path) -> None:
    layer = make_layer(tmp_path, ("fake:fast",))
    await layer.start()
    with pytest.raises(AllBackendsFailed, match="candidate exploded") as info:
        await collect(layer, make_call(model="fake:raise"))
    assert isinstance(info.value.__cause__.__cause__, RuntimeError)  # the backend's own error, kept as the cause
    await layer.aclose()
    [row] = list(layer.store.read())
    assert row.primary.model == "fake:raise" and row.primary.error.startswith("AllBackendsFailed")
    assert "RuntimeError: candidate exploded" in row.primary.error
    assert row.primary.response is None
    assert row.candidates[0].response == ANSWER


async def test_sampling_allow_list_and_a_stopped_layer_pass_the_primary_through(tmp_path: Path) -> None:
    layer = make_layer(tmp_path, ("fake:twin",), allow_users=("acme:*",))
    await layer.start()
    for user in ("ada", "acme:bob", "acme:eve", "other:acme"):
        await collect(layer, make_call(user))
    await layer.aclose()
    assert sorted(row.user_id for row in layer.store.read()) == ["acme:bob", "acme:eve"]
    chunks = await collect(layer, make_call("acme:late"))  # after shutdown: served, not shadowed
    assert "".join(str(chunk.text) for chunk in chunks) == ANSWER
    assert layer.dropped["stopped"] == 1

    never = make_layer(tmp_path / "off", ("fake:twin",), sample_rate=0.0)
    await never.start()
    await collect(never, make_call())
    await never.aclose()
    assert never.store.count() == 0 and not never.dropped


def test_an_unknown_candidate_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="openai:gpt-5"):
        make_layer(tmp_path, ("openai:gpt-5",))


async def test_retention_runs_on_a_schedule(tmp_path: Path) -> None:
    import datetime as dt

    from tests.peptalk.shadow.test_store_contract import pair

    layer = make_layer(tmp_path, ("fake:twin",), retention_days=30, prune_interval_s=0.1)
    layer.store.migrate()
    now = dt.datetime.now(dt.timezone.utc)
    layer.store.write([pair(1, created_at=now - dt.timedelta(days=31)), pair(2, created_at=now - dt.timedelta(days=29))])
    await layer.start()

    def only_the_recent_pair_left() -> bool:
        return [row.pair_id for row in layer.store.read()] == ["pair-00002"]

    await wait_for_async(only_the_recent_pair_left, what="the first pruning")
    layer.store.write([pair(3, created_at=now - dt.timedelta(days=40))])  # expires while the app runs
    await wait_for_async(only_the_recent_pair_left, what="a later pruning")
    await layer.aclose()


async def test_the_pair_records_the_template_version_and_a_truncated_answer(tmp_path: Path) -> None:
    from langchain_core.messages import AIMessageChunk

    from peptalk.shadow.recorder import StreamRecorder

    layer = make_layer(tmp_path, ("fake:twin",))
    await layer.start()
    call = make_call()
    call.options = CallOptions(template_version="slam@0123456789ab")
    await collect(layer, call)
    await layer.aclose()
    [row] = list(layer.store.read())
    assert row.template_version == "slam@0123456789ab"
    # A backend that stops at the token limit says `length` (OpenAI, llama.cpp) or `done_reason` (Ollama).
    for key in ("finish_reason", "done_reason"):
        recorder = StreamRecorder("fake:fast")
        recorder.observe(AIMessageChunk(content="cut sho", response_metadata={key: "length"}))
        record = recorder.finish(prompt="p")
        assert record.truncated and record.finish_reason == "length"
    assert not StreamRecorder("x").finish(prompt="p").truncated
