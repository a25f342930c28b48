"""The router: picks the model for a call by policy, balances over its nodes, retries, falls back, streams."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

from langchain_core.messages import AIMessageChunk
from tenacity import RetryCallState

from router import metrics
from router.base import Backend, BackendStatus, ModelRef
from router.call import AnswerFacts, Call, ErrorFact, FallbackFact, facts_chunk
from router.config import RouterConfig
from router.errors import AllBackendsFailed, BackendUnavailable, ConfigError, StreamInterrupted, UnknownModelError
from router.nodes import Node, NodePool
from router.policies import POLICIES, RoutingPolicy
from router.retry import retrying
from router.streaming import NodeStream, open_stream

log = logging.getLogger("peptalk.router")


class Router:
    """Resolves model names, routes each call by policy over healthy nodes, and is the bottom `ChatLayer`."""

    def __init__(self, backends: dict[str, Backend], *, default_model: str, config: RouterConfig | None = None) -> None:
        self.backends = backends
        self.config = config or RouterConfig()
        try:
            self.default = self.resolve(default_model)
        except UnknownModelError as exc:
            raise ConfigError(f"default model: {exc}") from exc
        self.pools: dict[ModelRef, NodePool] = {}
        for name, backend in backends.items():
            for model in backend.models():
                ref = ModelRef(name, model)
                urls = self.config.nodes_for(name, model) or backend.nodes()
                self.pools[ref] = NodePool(ref, [self._node(backend, ref, url) for url in dict.fromkeys(urls)])
        self.policy = self._policy()

    def _node(self, backend: Backend, ref: ModelRef, url: str) -> Node:
        return Node(ref, url, lambda: backend.chat_model(ref.model, node=url), self.config.breaker,
                    client_key=lambda: backend.client_key(url))

    def _refs(self, names: list[str], what: str) -> list[ModelRef]:
        try:
            return [self.resolve(name) for name in names]
        except UnknownModelError as exc:
            raise ConfigError(f"{what}: {exc}") from exc

    def _policy(self) -> RoutingPolicy:
        chain = self._refs(self.config.fallback_chain, "fallback chain") or [self.default]
        refs = self._refs(list(self.config.weights), "weights")
        weights = dict(zip(refs, self.config.weights.values(), strict=True))
        return POLICIES[self.config.policy](chain=list(dict.fromkeys(chain)), weights=weights,
                                            salt=self.config.sticky_salt)

    def known_models(self) -> list[str]:
        """Every configured `backend:model`, in configuration order."""
        return [str(ModelRef(name, model)) for name, backend in self.backends.items() for model in backend.models()]

    def resolve(self, name: str | None) -> ModelRef:
        """The `ModelRef` for `name` (the default when `None`); `UnknownModelError` when not configured."""
        if name is None:
            return self.default
        try:
            ref = ModelRef.parse(name)
        except UnknownModelError:
            raise UnknownModelError(name, self.known_models()) from None
        backend = self.backends.get(ref.backend)
        if backend is None or ref.model not in backend.models():
            raise UnknownModelError(name, self.known_models())
        return ref

    def plan(self, call: Call) -> list[ModelRef]:
        """The models `astream(call)` would try, in order; cheap, deterministic and free of side effects.

        A pinned model comes alone (followed by the chain when `pinned_fallback` is on); otherwise the
        policy decides. Which of them serves depends on node health when the call runs.
        """
        if call.model is None:
            return self.policy.candidates(call)
        pinned = self.resolve(call.model)
        if not self.config.pinned_fallback or not call.options.fallback:  # shadow calls never fall back
            return [pinned]
        return [pinned, *(ref for ref in self.policy.chain if ref != pinned)]

    def candidate_models(self, pinned: str | None = None) -> list[ModelRef]:
        """Every model a call pinned to `pinned` (or any unpinned call) might try, in no particular order."""
        if pinned is None:
            return self.policy.models()
        chain = self.policy.chain if self.config.pinned_fallback else []
        return list(dict.fromkeys([self.resolve(pinned), *chain]))

    def unavailable_reason(self, pinned: str | None = None) -> str | None:
        """Why no model a call pinned to `pinned` (or any unpinned call) could use can be tried now; None if one can."""
        refs = self.candidate_models(pinned)
        if any(self.pools[ref].any_available() for ref in refs):
            return None
        return "every node of " + ", ".join(str(ref) for ref in refs) + " is cooling down after failures"

    def seconds_until_available(self, refs: list[ModelRef]) -> float:
        return min((self.pools[ref].seconds_until_available() for ref in refs), default=0.0)

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        """Streams the answer of the first candidate that produces a first token, after a chunk naming it.

        Failures before the first token are retried (per model) and then fall back to the next
        candidate; the first chunk lists them under `fallbacks`. A failure after it raises `StreamInterrupted`.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (call.options.deadline_s or self.config.deadline_s)
        candidates = self.plan(call)
        fallbacks: list[FallbackFact] = []
        failure: BackendUnavailable | None = None
        for index, ref in enumerate(candidates):
            following = candidates[index + 1] if index + 1 < len(candidates) else None
            if loop.time() >= deadline:
                failure = BackendUnavailable(str(ref), "the request's deadline passed", retryable=False, kind="deadline")
            else:
                try:
                    stream = await self._open(ref, call, deadline)
                except BackendUnavailable as exc:
                    failure = exc
                else:
                    # aclosing: a caller that stops reading closes the node's stream now, not at garbage collection.
                    async with aclosing(self._serve(stream, call, fallbacks)) as served:
                        async for chunk in served:
                            yield chunk
                    return
            if failure.kind == "quota_exhausted":
                metrics.QUOTA_EXHAUSTED.labels(str(ref), failure.node or "").inc()
                log.error("quota exhausted", extra={"request_id": call.request_id, "model": str(ref),
                                                    "node": failure.node, "detail": failure.reason})
            fallbacks.append(FallbackFact(model=str(ref), reason=failure.kind, detail=failure.reason))
            metrics.FALLBACKS.labels(str(ref), str(following) if following else "none", failure.kind).inc()
            log.warning("fallback", extra={"request_id": call.request_id, "from_model": str(ref),
                                           "to_model": str(following) if following else None,
                                           "reason": failure.kind, "detail": failure.reason})
        retry_after = self.seconds_until_available(candidates)
        raise AllBackendsFailed([f"{entry['model']}: {entry['detail']}" for entry in fallbacks],
                                retry_after_s=retry_after or None) from failure

    async def _open(self, ref: ModelRef, call: Call, deadline: float) -> NodeStream:
        """A stream of `ref` that has its first token, after retries over its nodes; else `BackendUnavailable`."""
        loop = asyncio.get_running_loop()
        pool = self.pools[ref]
        timeouts = self.config.timeouts_for(ref.backend, in_process=self.backends[ref.backend].in_process)
        tried: list[Node] = []
        last: BackendUnavailable | None = None

        def before_sleep(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            kind = failure.kind if isinstance(failure, BackendUnavailable) else "error"
            metrics.RETRIES.labels(str(ref), kind).inc()
            log.info("retry", extra={"request_id": call.request_id, "model": str(ref), "attempt": state.attempt_number,
                                     "reason": kind, "sleep_s": round(state.upcoming_sleep, 3)})

        stream: NodeStream | None = None
        async for attempt in retrying(self.config.retry, deadline=deadline, clock=loop.time, before_sleep=before_sleep):
            with attempt:
                node = pool.pick(tried)
                if node is None:
                    if last is not None:  # the failures so far opened the breakers: report them, not the breaker
                        raise BackendUnavailable(str(ref), f"{last.reason}; every node now cooling down",
                                                 retryable=False, kind=last.kind, node=last.node)
                    wait_s = pool.seconds_until_available()
                    raise BackendUnavailable(str(ref), f"every node is cooling down (next probe in {wait_s:.1f} s)",
                                             retryable=False, kind="cooling_down")
                tried.append(node)
                await self.backends[ref.backend].refresh_node(node.url)
                now = loop.time()
                total = min(now + timeouts.total_s, deadline)
                try:
                    stream = await open_stream(node, call.messages, total_deadline=total,
                                               first_token_deadline=min(now + timeouts.first_token_s, total))
                except BackendUnavailable as exc:
                    last = exc
                    raise
        assert stream is not None  # tenacity either returned through the `with` or re-raised
        stream.attempts = len(tried)
        return stream

    async def _serve(self, stream: NodeStream, call: Call,
                     fallbacks: list[FallbackFact]) -> AsyncGenerator[AIMessageChunk, None]:
        ref, node = stream.node.ref, stream.node
        try:
            yield facts_chunk(AnswerFacts(model=str(ref), fallbacks=tuple(fallbacks)))
        except GeneratorExit:
            await stream.abandon()  # the caller stopped after the first chunk, before `rest` began
            raise
        output_tokens = 0
        usage_chunk: AIMessageChunk | None = None  # held back, so that the stream's last chunk carries the usage
        try:
            async with aclosing(stream.rest()) as rest:
                async for chunk in rest:
                    if usage_chunk is not None and not chunk.content and not chunk.usage_metadata:
                        # An empty trailer (a finish reason, the client's closing marker) joins the usage chunk.
                        usage_chunk = usage_chunk + chunk
                        continue
                    if usage_chunk is not None:
                        yield usage_chunk
                        usage_chunk = None
                    if chunk.usage_metadata:
                        output_tokens += chunk.usage_metadata.get("output_tokens", 0)
                        usage_chunk = chunk
                    else:
                        yield chunk
            if usage_chunk is not None:
                yield usage_chunk
        except StreamInterrupted as exc:
            log.error("stream interrupted", extra={"request_id": call.request_id, "model": str(ref), "node": node.url,
                                                   "reason": exc.kind, "detail": exc.reason, "chunks_sent": exc.chunks_sent})
            # Tell a streaming client why before LangServe ends the stream with its generic error event.
            error = ErrorFact(type="StreamInterrupted", reason=exc.kind, detail=exc.reason)
            yield facts_chunk(AnswerFacts(error=error))
            raise
        latency = node.latencies_s[-1] if node.latencies_s else None
        log.info("served", extra={"request_id": call.request_id, "model": str(ref), "node": node.url,
                                  "attempts": stream.attempts, "fallbacks": len(fallbacks),
                                  "latency_s": None if latency is None else round(latency, 4),
                                  "ttft_s": None if stream.first_token_s is None else round(stream.first_token_s, 4),
                                  "output_tokens": output_tokens})

    def node_states(self) -> dict[str, list[dict[str, Any]]]:
        """Each model's nodes: state (up, cooling_down, down), outstanding requests, recent latency."""
        return {str(ref): [node.snapshot() for node in pool.nodes] for ref, pool in self.pools.items()}

    def describe(self) -> dict[str, Any]:
        """The routing policy as `/models` shows it."""
        return {"policy": self.config.policy, "fallback_chain": [str(ref) for ref in self.policy.chain],
                "weights": {str(ref): weight for ref, weight in self.policy.weights.items()},
                "pinned_fallback": self.config.pinned_fallback, "deadline_s": self.config.deadline_s}

    async def start(self) -> None:
        """Starts every backend, then builds every node's client, so no first request pays for imports."""
        for backend in self.backends.values():
            await backend.start()
        for pool in self.pools.values():
            for node in pool.nodes:
                await self.backends[pool.ref.backend].prepare_node(node.url)
                node.chat_model()

    async def status(self) -> list[BackendStatus]:
        """A readiness probe of every node of every backend, run concurrently."""

        async def probe(name: str, backend: Backend) -> BackendStatus:
            urls = list(dict.fromkeys(node.url for ref, pool in self.pools.items() if ref.backend == name
                                      for node in pool.nodes))
            results = await asyncio.gather(*(backend.check_node(url) for url in urls))
            nodes = {url: {"reachable": ok, "detail": detail} for url, (ok, detail) in zip(urls, results, strict=True)}
            reachable = any(ok for ok, _ in results)
            detail = "; ".join(f"{url}: {detail}" for url, (ok, detail) in zip(urls, results, strict=True) if not ok)
            return BackendStatus(name, reachable, detail or ", ".join(urls), backend.models(), nodes)

        return list(await asyncio.gather(*(probe(name, backend) for name, backend in self.backends.items())))

    async def aclose(self) -> None:
        for backend in self.backends.values():
            await backend.aclose()
        for pool in self.pools.values():  # a later start() builds them anew, over the restarted backends
            for node in pool.nodes:
                node.forget_chat_model()


def seconds_header(value: float | None) -> str | None:
    """A `Retry-After` header value (whole seconds, at least 1) for `value` seconds."""
    return None if value is None else str(max(1, math.ceil(value)))
