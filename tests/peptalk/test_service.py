"""`PepTalk` in-process, without HTTP: the real embedded model, MiniLM cache and metrics; sync and async calls."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from peptalk import PepTalk, PepTalkRequest, PepTalkResponse, Settings
from peptalk.errors import BlockingCallOnEventLoop, NotStarted
from peptalk.metrics import REGISTRY
from peptalk.stack import Layer, Stack
from tests.test_langserve_app import REQUEST

EMBEDDED = "embedded:smollm2-135m"


@pytest.fixture(scope="module")
async def peptalk(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PepTalk]:
    settings = Settings(_env_file=None, max_tokens=24, log_level="WARNING",
                        data_dir=tmp_path_factory.mktemp("in-process"))
    async with PepTalk(settings) as started:
        yield started


def tokens_out(model: str = EMBEDDED) -> float:
    return REGISTRY.get_sample_value("peptalk_tokens_total", {"model": model, "direction": "out"}) or 0.0


async def test_ainvoke_answers_in_process_through_the_cache_and_metrics(peptalk: PepTalk) -> None:
    before = tokens_out()
    request = PepTalkRequest.model_validate(REQUEST | {"user_id": "in-process"})
    first = await peptalk.ainvoke(request)
    assert isinstance(first, PepTalkResponse)
    assert first.text.strip() and first.model == EMBEDDED
    assert first.metadata["cache_hit"] is False
    assert tokens_out() - before == first.metadata["usage"]["output_tokens"]  # the metrics layer saw it
    again = await peptalk.ainvoke(request)  # the same day again: served by the semantic cache
    assert again.metadata["cache_hit"] is True and again.text == first.text


async def test_astream_names_the_model_first_then_streams_text(peptalk: PepTalk) -> None:
    chunks = [chunk async for chunk in peptalk.astream(REQUEST | {"user_id": "streamer"}, cache="bypass")]
    assert chunks[0].model == EMBEDDED
    assert sum(1 for chunk in chunks if chunk.text) >= 2


async def test_abatch_answers_each_request_and_pins_a_model(peptalk: PepTalk) -> None:
    answers = await peptalk.abatch([REQUEST | {"user_id": "b1"}, REQUEST | {"user_id": "b2", "goals": []}],
                                   model=EMBEDDED, cache="bypass")
    assert [answer.model for answer in answers] == [EMBEDDED, EMBEDDED]
    assert all(answer.text.strip() for answer in answers)


async def test_the_configured_limits_apply_in_process_too(peptalk: PepTalk) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="focused_tasks"):
        await peptalk.ainvoke(REQUEST | {"focused_tasks": ["x"] * (peptalk.settings.max_items_per_list + 1)})


async def test_sync_invoke_from_a_worker_thread_runs_on_the_hosts_loop(peptalk: PepTalk) -> None:
    answer = await asyncio.to_thread(peptalk.invoke, REQUEST | {"user_id": "sync-worker"}, cache="bypass")
    assert answer.model == EMBEDDED and answer.text.strip()


async def test_sync_invoke_on_the_event_loop_thread_is_refused_not_blocking(peptalk: PepTalk) -> None:
    with pytest.raises(BlockingCallOnEventLoop, match="ainvoke"):
        peptalk.invoke(REQUEST)
    with pytest.raises(BlockingCallOnEventLoop):
        with PepTalk(peptalk.settings):
            pass


async def test_a_generation_never_blocks_the_event_loop(peptalk: PepTalk) -> None:
    """The embedded model decodes on its worker thread: the loop keeps ticking all through a generation."""
    ticks: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.005)

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    await peptalk.ainvoke(REQUEST | {"user_id": "loop-check"}, cache="bypass")
    took = time.perf_counter() - started
    done.set()
    await ticker
    gaps = [later - earlier for earlier, later in zip(ticks, ticks[1:])]
    assert len(ticks) >= 10, f"{len(ticks)} ticks in a {took:.2f} s generation"
    assert max(gaps) < took / 2, f"the loop stalled {max(gaps):.2f} s of a {took:.2f} s generation"


def test_with_block_serves_sync_code_on_a_private_loop(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings(data_dir=tmp_path, cache_enabled=False)
    with PepTalk(settings) as peptalk:
        answers = peptalk.batch([REQUEST, REQUEST | {"user_id": "grace"}])
        from_thread: list[PepTalkResponse] = []
        worker = threading.Thread(target=lambda: from_thread.append(peptalk.invoke(REQUEST)))
        worker.start()
        worker.join(timeout=300)
    assert [answer.model for answer in answers] == [EMBEDDED, EMBEDDED]
    assert from_thread and from_thread[0].text.strip()
    assert not any(thread.name == "peptalk-loop" for thread in threading.enumerate())
    with pytest.raises(NotStarted):
        peptalk.invoke(REQUEST)


async def test_a_stopped_peptalk_starts_again(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    """An app's lifespan may run more than once in one process (a TestClient per test, schemathesis)."""
    peptalk = PepTalk(make_settings(data_dir=tmp_path, cache_enabled=False))
    async with peptalk:
        pass
    assert not peptalk.started
    async with peptalk:
        answer = await peptalk.ainvoke(REQUEST)
    assert answer.model == EMBEDDED and not peptalk.started


async def test_calls_before_start_say_how_to_start(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    peptalk = PepTalk(make_settings(data_dir=tmp_path, cache_enabled=False))
    with pytest.raises(NotStarted, match="async with PepTalk"):
        await peptalk.ainvoke(REQUEST)


class Recorder:
    """A service that logs its start and stop, and can be told to fail at start."""

    def __init__(self, name: str, events: list[str], *, fail: bool = False) -> None:
        self.name, self.events, self.fail = name, events, fail

    async def start(self) -> None:
        if self.fail:
            raise RuntimeError(f"{self.name} failed to start")
        self.events.append(f"start {self.name}")

    async def aclose(self) -> None:
        self.events.append(f"stop {self.name}")

    def astream(self, call):  # noqa: ANN001, ANN201 - never called
        raise AssertionError


async def test_the_stack_starts_bottom_up_and_stops_top_down() -> None:
    events: list[str] = []
    router = Recorder("router", events)
    stack = Stack(router, [Layer(name, Recorder(name, events), Recorder(name, events))  # type: ignore[arg-type]
                           for name in ("cache", "shadow")] + [Layer("metrics", Recorder("metrics", events))])  # type: ignore[arg-type]
    await stack.start()
    await stack.aclose()
    assert events == ["start router", "start cache", "start shadow", "stop shadow", "stop cache", "stop router"]


async def test_a_failed_start_stops_what_already_started() -> None:
    events: list[str] = []
    stack = Stack(Recorder("router", events), [Layer("cache", Recorder("cache", events)),  # type: ignore[arg-type]
                                               Layer("shadow", Recorder("s", events), Recorder("shadow", events, fail=True))])  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="shadow failed"):
        await stack.start()
    assert events == ["start router", "stop router"]
