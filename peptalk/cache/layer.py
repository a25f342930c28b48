"""`SemanticCacheLayer`: the `ChatLayer` that answers from the semantic cache and fills it from the layer below."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.messages import AIMessageChunk

from peptalk.cache.audit import AuditCase
from peptalk.cache.cache import CacheHit, ItemVectors, Lookup, SemanticCache
from peptalk.cache.canonical import CanonicalContent
from peptalk.cache.facts import CacheFacts, CacheKind, CacheRequest, cache_mode
from peptalk.cache.keys import ANY_MODEL, CacheKey
from peptalk.metrics import CACHE_HITS, CACHE_LOOKUP_SECONDS, CACHE_LOOKUPS
from router.call import (
    AnswerFacts,
    Call,
    CallOptions,
    ChatLayer,
    facts_chunk,
    facts_of,
    with_facts,
)

log = logging.getLogger("peptalk.cache")

CacheScope = Literal["user", "shared"]
_WORD_START = re.compile(r"(?<=\s)(?=\S)")
LOOKED_KEPT = 1024  # requests the fast path found no exact hit for, remembered until their call comes down


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


def _with_cache_facts(chunk: AIMessageChunk, *, cache: CacheKind,
                      cache_miss_reason: str | None = None) -> AIMessageChunk:
    """The first chunk from below, its facts completed with how the cache served (it did not)."""
    fact = CacheFacts(hit=False, kind=cache, miss_reason=cache_miss_reason)
    return with_facts(chunk, (facts_of(chunk) or AnswerFacts()).with_(fact))


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
        self.in_flight = 0  # calls being served through this layer: the vector worker waits while there are any
        cache.vectorizer.busy = lambda: self.in_flight > 0
        self._looked: OrderedDict[tuple[str, str, str], None] = OrderedDict()  # (request id, key, content): no exact hit

    def key_for(self, call: Call, request: dict[str, Any], model: str | None = None) -> CacheKey:
        scope = "shared" if self.scope == "shared" else f"user:{request['user_id']}"
        served = (model or self.model_for(call)) if self.model_in_key else ANY_MODEL
        return CacheKey(scope=scope, model=served, today=str(request["today"]), last_login=str(request["last_login"]),
                        generation=self.cache.generation)

    def has_exact_hit(self, call: Call) -> bool:
        """Whether `astream(call)` would answer from an entry stored for this exact request; only looks.

        A "no" is remembered for the same HTTP request (its request id), so that its call through LangServe does
        not ask the database again a moment later.
        """
        if call.request is None or cache_mode(call.options) != "use":
            return False
        key, content = self.key_for(call, call.request), CanonicalContent.of(call.request)
        found = self.cache.exact(key, content, touch=False) is not None
        if not found:
            self._looked[(call.request_id, key.digest(), content.digest())] = None
            while len(self._looked) > LOOKED_KEPT:
                self._looked.popitem(last=False)
        return found

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        self.in_flight += 1
        try:
            mode = cache_mode(call.options)
            if call.request is None or mode == "bypass":
                CACHE_LOOKUPS.labels("bypass").inc()
                async for chunk in self._passthrough(call):
                    yield chunk
                return
            request = call.request  # validated upstream, maybe under other limits
            key = self.key_for(call, request)
            content = CanonicalContent.of(request)
            found = Lookup()
            started = time.perf_counter()
            try:
                # An exact repeat is answered from the database; the rest of a lookup embeds only what it compares.
                looked = self._looked.pop((call.request_id, key.digest(), content.digest()), False) is None
                hit = self.cache.exact(key, content) if mode == "use" and not looked else None
                if hit is None and mode == "use":
                    found = await self.cache.lookup(key, content)
                    hit = found.hit
            except Exception:
                log.exception("cache lookup failed; serving without the cache", extra={"request_id": call.request_id})
                CACHE_LOOKUPS.labels("error").inc()
                async for chunk in self._passthrough(call):
                    yield chunk
                return
            CACHE_LOOKUP_SECONDS.observe(time.perf_counter() - started)
            whole = call.options.whole_answer
            if hit is not None:
                CACHE_LOOKUPS.labels("hit").inc()
                CACHE_HITS.labels(hit.kind).inc()
                evidence = None
                if hit.kind == "semantic":
                    evidence = hit.evidence()
                    self._offer_audit(call, hit)
                facts = AnswerFacts(model=hit.entry.model, extensions=(
                    CacheFacts(hit=True, kind=hit.kind, similarity=round(hit.similarity, 4), evidence=evidence),))
                async for chunk in self._replay(hit.entry.text, facts, whole=whole):
                    yield chunk
                return
            CACHE_LOOKUPS.labels("miss" if mode == "use" else mode).inc()
            flight = (key.digest(), content.digest())
            pending = self._flights.get(flight) if mode == "use" else None
            if pending is not None:
                shared = await asyncio.shield(pending)
                if shared is not None:
                    CACHE_HITS.labels("exact").inc()
                    facts = AnswerFacts(model=shared.model, extensions=(
                        CacheFacts(hit=True, kind="exact", similarity=1.0, shared_flight=True),))
                    async for chunk in self._replay(shared.text, facts, whole=whole):
                        yield chunk
                    return
                # The leader failed or was cancelled; this call goes to the backend itself.
            kind: CacheKind = "miss" if mode == "use" else mode
            miss_reason = found.nearest.reason if found.nearest is not None else None
            async for chunk in self._lead(call, content, found.vectors, flight, kind, miss_reason or None):
                yield chunk
        finally:
            self.in_flight -= 1

    def _offer_audit(self, call: Call, hit: CacheHit) -> None:
        auditor = self.cache.audit
        if auditor is None or call.request is None:
            return
        case = AuditCase(request_id=call.request_id, entry_id=hit.entry.id or 0, scope=hit.entry.scope,
                         model=hit.entry.model, similarity=hit.similarity, evidence=hit.evidence(),
                         stored_request=hit.entry.request, new_request=call.request, cached_text=hit.entry.text)
        audit_call = Call(messages=list(call.messages), request=call.request, model=call.model,
                          options=CallOptions().with_(CacheRequest("bypass")), request_id=call.request_id)
        auditor.offer(case, audit_call, self.inner)

    async def _lead(self, call: Call, content: CanonicalContent, vectors: ItemVectors, flight: tuple[str, str],
                    kind: CacheKind, miss_reason: str | None) -> AsyncIterator[AIMessageChunk]:
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
                    served = (facts_of(chunk) or AnswerFacts()).model
                    chunk = _with_cache_facts(chunk, cache=kind, cache_miss_reason=miss_reason)
                    first = False
                parts.append(chunk.text)
                yield chunk
            if served is not None:
                answer = SharedAnswer("".join(parts), served)
                assert call.request is not None
                key = self.key_for(call, call.request, model=served)  # a fallback's answer is filed under its model
                try:
                    await self.cache.put(key, content, request=call.request, text=answer.text, model=served,
                                         vectors=vectors)
                    stored = (key.digest(), content.digest())
                    for looked in [looked for looked in self._looked if looked[1:] == stored]:
                        del self._looked[looked]  # a request that found nothing before now would find this
                except Exception:
                    log.exception("storing a cache entry failed", extra={"request_id": call.request_id})
        finally:
            if self._flights.get(flight) is future:
                del self._flights[flight]
            future.set_result(answer)

    async def _passthrough(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        first = True
        async for chunk in self.inner.astream(call):
            yield _with_cache_facts(chunk, cache="bypass") if first else chunk
            first = False

    @staticmethod
    async def _replay(text: str, facts: AnswerFacts, *, whole: bool) -> AsyncIterator[AIMessageChunk]:
        yield facts_chunk(facts)
        for piece in [text] if whole else word_chunks(text):
            yield AIMessageChunk(content=piece)


__all__ = ["CacheHit", "SemanticCacheLayer", "pinned_or_default_model", "word_chunks"]
