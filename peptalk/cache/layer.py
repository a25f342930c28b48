"""`SemanticCacheLayer`: the `ChatLayer` that answers from the semantic cache and fills it from the layer below."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from langchain_core.messages import AIMessageChunk

from peptalk.cache.audit import AuditCase
from peptalk.cache.cache import CacheHit, ItemVectors, SemanticCache
from peptalk.cache.canonical import CanonicalContent
from peptalk.cache.keys import ANY_MODEL, CacheKey
from peptalk.metrics import CACHE_HITS, CACHE_LOOKUP_SECONDS, CACHE_LOOKUPS
from router.call import META_KEY, Call, ChatLayer, meta_chunk

log = logging.getLogger("peptalk.cache")

CacheMode = Literal["use", "bypass", "refresh"]  # per request: `config={"configurable": {"cache": ...}}`
WHOLE_ANSWER = "whole_answer"  # call option: the caller joins the answer anyway, so a hit comes as one chunk
CACHE_MODES: tuple[str, ...] = get_args(CacheMode)
CacheScope = Literal["user", "shared"]
_WORD_START = re.compile(r"(?<=\s)(?=\S)")


def pinned_or_default_model(router: Any, call: Call) -> str:
    """The model a call will be served by, for the cache key: the pinned one, else the routing policy's first pick.

    `Router.plan` is cheap and side-effect-free; its first model is the one the call tries first (a fallback
    may still serve it from another model).
    """
    return call.model or str(router.plan(call)[0])


def word_chunks(text: str) -> list[str]:
    """`text` cut before each word, whitespace kept, so the pieces join back to it exactly."""
    return [piece for piece in _WORD_START.split(text) if piece]


@dataclass(frozen=True)
class SharedAnswer:
    """What the leader of a single flight got from the backend, handed to its followers."""

    text: str
    model: str


def _with_facts(chunk: AIMessageChunk, **facts: Any) -> AIMessageChunk:
    meta = {**(chunk.response_metadata.get(META_KEY) or {}), **facts}
    return chunk.model_copy(update={"response_metadata": {**chunk.response_metadata, META_KEY: meta}})


class SemanticCacheLayer:
    """Serves hits from the cache as a stream of word chunks; misses stream through and are stored when complete.

    Every answer says how it was served (`cache`: `exact`, `semantic`, `miss`, `bypass` or `refresh`); a semantic
    hit carries its evidence. Concurrent identical misses (same key and canonical content) make one call below:
    the first leads, the rest wait for its answer and get it as a hit.
    """

    def __init__(self, inner: ChatLayer, cache: SemanticCache, *, model_for: Callable[[Call], str],
                 scope: CacheScope = "user", model_in_key: bool = True) -> None:
        self.inner = inner
        self.cache = cache
        self.model_for = model_for
        self.scope = scope
        self.model_in_key = model_in_key
        self._flights: dict[tuple[str, str], asyncio.Future[SharedAnswer | None]] = {}

    def key_for(self, call: Call, request: dict[str, Any], model: str | None = None) -> CacheKey:
        scope = "shared" if self.scope == "shared" else f"user:{request['user_id']}"
        served = (model or self.model_for(call)) if self.model_in_key else ANY_MODEL
        return CacheKey(scope=scope, model=served, today=str(request["today"]), last_login=str(request["last_login"]),
                        generation=self.cache.generation)

    def has_exact_hit(self, call: Call) -> bool:
        """Whether `astream(call)` would answer from an entry stored for this exact request; only looks."""
        if call.request is None or (call.options.get("cache") or "use") != "use":
            return False
        content = CanonicalContent.of(call.request)
        return self.cache.exact(self.key_for(call, call.request), content, touch=False) is not None

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        mode = call.options.get("cache") or "use"
        if call.request is None or mode == "bypass":
            CACHE_LOOKUPS.labels("bypass").inc()
            async for chunk in self._passthrough(call):
                yield chunk
            return
        request = call.request  # validated upstream, maybe under other limits
        key = self.key_for(call, request)
        content = CanonicalContent.of(request)
        vectors: ItemVectors = {}
        miss_reason: str | None = None
        started = time.perf_counter()
        try:
            # An exact repeat is answered before embedding: MiniLM is the only slow step of a lookup.
            hit = self.cache.exact(key, content) if mode == "use" else None
            if hit is None:
                vectors = await self.cache.embed(content.items())
                if mode == "use":
                    hit, nearest = self.cache.lookup(key, content, vectors)
                    miss_reason = nearest.reason if nearest is not None else None
        except Exception:
            log.exception("cache lookup failed; serving without the cache", extra={"request_id": call.request_id})
            CACHE_LOOKUPS.labels("error").inc()
            async for chunk in self._passthrough(call):
                yield chunk
            return
        CACHE_LOOKUP_SECONDS.observe(time.perf_counter() - started)
        whole = bool(call.options.get(WHOLE_ANSWER))
        if hit is not None:
            CACHE_LOOKUPS.labels("hit").inc()
            CACHE_HITS.labels(hit.kind).inc()
            facts: dict[str, Any] = {"cache": hit.kind}
            if hit.kind == "semantic":
                facts["cache_evidence"] = hit.evidence()
                self._offer_audit(call, hit)
            async for chunk in self._replay(hit.entry.text, model=hit.entry.model, similarity=hit.similarity,
                                            whole=whole, **facts):
                yield chunk
            return
        CACHE_LOOKUPS.labels("miss" if mode == "use" else mode).inc()
        flight = (key.digest(), content.digest())
        pending = self._flights.get(flight) if mode == "use" else None
        if pending is not None:
            shared = await asyncio.shield(pending)
            if shared is not None:
                CACHE_HITS.labels("exact").inc()
                async for chunk in self._replay(shared.text, model=shared.model, similarity=1.0, shared_flight=True,
                                                whole=whole, cache="exact"):
                    yield chunk
                return
            # The leader failed or was cancelled; this call goes to the backend itself.
        facts = {"cache": "miss" if mode == "use" else mode}
        if miss_reason:
            facts["cache_miss_reason"] = miss_reason
        async for chunk in self._lead(call, content, vectors, flight, facts):
            yield chunk

    def _offer_audit(self, call: Call, hit: CacheHit) -> None:
        auditor = self.cache.audit
        if auditor is None or call.request is None:
            return
        case = AuditCase(request_id=call.request_id, entry_id=hit.entry.id or 0, scope=hit.entry.scope,
                         model=hit.entry.model, similarity=hit.similarity, evidence=hit.evidence(),
                         stored_request=hit.entry.request, new_request=call.request, cached_text=hit.entry.text)
        audit_call = Call(messages=list(call.messages), request=call.request, model=call.model,
                          options={"cache": "bypass"}, request_id=call.request_id)
        auditor.offer(case, audit_call, self.inner)

    async def _lead(self, call: Call, content: CanonicalContent, vectors: ItemVectors, flight: tuple[str, str],
                    facts: dict[str, Any]) -> AsyncIterator[AIMessageChunk]:
        """Calls the layer below, streams its answer, and stores it only once it completed."""
        future: asyncio.Future[SharedAnswer | None] = asyncio.get_running_loop().create_future()
        self._flights.setdefault(flight, future)
        answer: SharedAnswer | None = None
        try:
            served: str | None = None
            parts: list[str] = []
            first = True
            async for chunk in self.inner.astream(call):
                if first:
                    served = (chunk.response_metadata.get(META_KEY) or {}).get("model")
                    chunk = _with_facts(chunk, cache_hit=False, **facts)
                    first = False
                parts.append(chunk.text)
                yield chunk
            if served is not None:
                answer = SharedAnswer("".join(parts), served)
                assert call.request is not None
                key = self.key_for(call, call.request, model=served)  # a fallback's answer is filed under its model
                try:
                    await self.cache.put(key, content, vectors, request=call.request, text=answer.text, model=served)
                except Exception:
                    log.exception("storing a cache entry failed", extra={"request_id": call.request_id})
        finally:
            if self._flights.get(flight) is future:
                del self._flights[flight]
            future.set_result(answer)

    async def _passthrough(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        first = True
        async for chunk in self.inner.astream(call):
            yield _with_facts(chunk, cache_hit=False, cache="bypass") if first else chunk
            first = False

    @staticmethod
    async def _replay(text: str, *, model: str, similarity: float, whole: bool = False,
                      **facts: Any) -> AsyncIterator[AIMessageChunk]:
        yield meta_chunk(model=model, cache_hit=True, similarity=round(similarity, 4), **facts)
        for piece in [text] if whole else word_chunks(text):
            yield AIMessageChunk(content=piece)


__all__ = ["CACHE_MODES", "WHOLE_ANSWER", "CacheHit", "CacheMode", "SemanticCacheLayer", "pinned_or_default_model",
           "word_chunks"]
