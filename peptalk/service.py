"""`PepTalk`: peptalk in-process, the serving stack built from `Settings`, started and stopped in one place.

The HTTP service (`create_app`) and the FastAPI plugin (`include_peptalk`) are thin wrappers over it, so a
call made in-process goes through the same routing, cache, shadow traffic and metrics as one made over HTTP.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

from langchain_core.runnables import Runnable, RunnableConfig
from prometheus_client import CollectorRegistry

from peptalk.chain import CACHE_FIELD, MODEL_FIELD, ChainPlan, build_chain
from peptalk.errors import BlockingCallOnEventLoop, NotStarted
from peptalk.metrics import expose_in
from peptalk.schema import PepTalkRequest, PepTalkResponse, RequestLimits, request_model_for
from peptalk.security.limiter import RateLimiter, build_limiter
from peptalk.settings import Settings, get_settings
from peptalk.stack import LAYERS, LayerFactory, Stack, build_stack
from peptalk.cache.facts import CacheMode
from router.router import Router

T = TypeVar("T")
Request = PepTalkRequest | Mapping[str, Any]


class PepTalk:
    """The pep-talk chain over its serving stack (router <- cache <- shadow <- rollout <- metrics), with its lifecycle.

    Use it as an async context manager on the host's event loop (`async with PepTalk(settings) as peptalk`),
    or, from code without an event loop, as a plain one (`with PepTalk(settings) as peptalk`), which runs
    peptalk on a private loop thread. Sync calls (`invoke`, `batch`) from other threads run on that loop.
    """

    def __init__(self, settings: Settings | None = None, *, registry: CollectorRegistry | None = None,
                 layers: Sequence[LayerFactory] = LAYERS) -> None:
        self.settings = settings or get_settings()
        self.limits = RequestLimits(self.settings.max_items_per_list, self.settings.max_item_chars,
                                    self.settings.max_total_chars)
        self.request_model = request_model_for(self.limits)
        self.stack: Stack = build_stack(self.settings, layers=layers)
        self.chain_plan = ChainPlan(self.request_model)  # how the chain builds its calls (the fast path's too)
        # One limiter for every route peptalk serves (in-process buckets, or shared ones in Redis); closed at stop.
        self.rate_limiter: RateLimiter | None = build_limiter(self.settings)
        self.runnable: Runnable = build_chain(self.stack.router, layer=self.stack.top, plan=self.chain_plan)
        if registry is not None:
            expose_in(registry)  # peptalk's metrics, also served by the host's own /metrics
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the services run on, while started
        self._lifecycle = asyncio.Lock()
        self._thread: _LoopThread | None = None

    @property
    def router(self) -> Router:
        return self.stack.router

    @property
    def started(self) -> bool:
        return self._loop is not None

    def layer(self, kind: type[T]) -> T | None:
        """The serving layer of type `kind` (`SemanticCacheLayer`, `ShadowLayer`, ...); None when switched off."""
        return self.stack.layer(kind)

    def service(self, kind: type[T]) -> T | None:
        """A layer's running service of type `kind` (`SemanticCache`, `RolloutService`); None when switched off."""
        return self.stack.service(kind)

    # -- lifecycle

    async def start(self) -> None:
        """Starts every service bottom-up (router, cache, shadow writer, rollout); a no-op when already started.

        A stopped PepTalk may start again (an app's lifespan may run more than once, e.g. one TestClient per test).
        """
        async with self._lifecycle:
            if self._loop is not None:
                return
            await self.stack.start()
            self._loop = asyncio.get_running_loop()

    async def aclose(self) -> None:
        """Stops every service top-down (the shadow queue drains while the router is still open), then the
        rate limiter's connections."""
        async with self._lifecycle:
            if self._loop is None:
                return
            self._loop = None
            try:
                await self.stack.aclose()
            finally:
                if self.rate_limiter is not None:
                    await self.rate_limiter.aclose()

    async def __aenter__(self) -> PepTalk:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.aclose()

    def __enter__(self) -> PepTalk:
        _refuse_on_event_loop("`with PepTalk(...)`", "`async with PepTalk(...)`")
        thread = _LoopThread()
        try:
            thread.run(self.start())
        except BaseException:
            thread.close()
            raise
        self._thread = thread
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            try:
                thread.run(self.aclose())
            finally:
                thread.close()

    # -- calls

    async def ainvoke(self, request: Request, *, model: str | None = None, cache: CacheMode | None = None,
                      config: RunnableConfig | None = None) -> PepTalkResponse:
        """One pep talk; `model` pins a `backend:model`, `cache` sets the cache mode for this call."""
        self._check_started()
        output = await self.runnable.ainvoke(self._payload(request), self._config(model, cache, config))
        return PepTalkResponse.model_validate(output)

    async def astream(self, request: Request, *, model: str | None = None, cache: CacheMode | None = None,
                      config: RunnableConfig | None = None) -> AsyncIterator[PepTalkResponse]:
        """The pep talk in pieces: the first names the served model, each later one carries the next text."""
        self._check_started()
        async for chunk in self.runnable.astream(self._payload(request), self._config(model, cache, config)):
            yield PepTalkResponse.model_validate(chunk)

    async def abatch(self, requests: Sequence[Request], *, model: str | None = None,
                     cache: CacheMode | None = None, config: RunnableConfig | None = None) -> list[PepTalkResponse]:
        """One pep talk per request, generated concurrently (the router bounds each node's concurrency)."""
        self._check_started()
        outputs = await self.runnable.abatch([self._payload(request) for request in requests],
                                             self._config(model, cache, config))
        return [PepTalkResponse.model_validate(output) for output in outputs]

    def invoke(self, request: Request, *, model: str | None = None, cache: CacheMode | None = None,
               timeout_s: float | None = None) -> PepTalkResponse:
        """`ainvoke` for sync code (a worker, a sync view): runs on peptalk's loop and waits for the answer.

        Never call it on a thread that runs an event loop: it would block that loop (`BlockingCallOnEventLoop`).
        """
        return self._wait(self.ainvoke(request, model=model, cache=cache), timeout_s)

    def batch(self, requests: Sequence[Request], *, model: str | None = None, cache: CacheMode | None = None,
              timeout_s: float | None = None) -> list[PepTalkResponse]:
        """`abatch` for sync code, with the same rule as `invoke`."""
        return self._wait(self.abatch(requests, model=model, cache=cache), timeout_s)

    # -- helpers

    def _check_started(self) -> None:
        if self._loop is None:
            raise NotStarted("peptalk is not started: use `async with PepTalk(settings)` (or `with` from sync "
                             "code), or `include_peptalk(app)`, which starts it with the app")

    def _wait(self, call: Coroutine[Any, Any, T], timeout_s: float | None) -> T:
        loop = self._loop
        try:
            _refuse_on_event_loop("PepTalk.invoke/batch", "`await peptalk.ainvoke(...)` / `abatch`")
            if loop is None:
                self._check_started()
        except Exception:
            call.close()
            raise
        assert loop is not None
        future = asyncio.run_coroutine_threadsafe(call, loop)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise

    def _payload(self, request: Request) -> dict[str, Any]:
        """What the chain validates (against the configured limits, so a plain `PepTalkRequest` is re-checked)."""
        if isinstance(request, PepTalkRequest):
            return request.model_dump(mode="json")
        return dict(request)

    @staticmethod
    def _config(model: str | None, cache: CacheMode | None, config: RunnableConfig | None) -> RunnableConfig:
        merged: RunnableConfig = dict(config or {})  # type: ignore[assignment]
        configurable = dict(merged.get("configurable") or {})
        if model is not None:
            configurable[MODEL_FIELD] = model
        if cache is not None:
            configurable[CACHE_FIELD] = cache
        if configurable:
            merged["configurable"] = configurable
        return merged


def _refuse_on_event_loop(call: str, instead: str) -> None:
    """`BlockingCallOnEventLoop` when this thread runs an event loop, which a blocking call would stall."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise BlockingCallOnEventLoop(f"{call} blocks, and this thread runs an event loop; use {instead} here")


class _LoopThread:
    """A private event loop on a daemon thread, for `with PepTalk(...)` in code that has no loop of its own."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="peptalk-loop", daemon=True)
        self.thread.start()

    def run(self, call: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(call, self.loop).result()

    def close(self) -> None:
        self.run(self.loop.shutdown_asyncgens())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()
