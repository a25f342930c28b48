"""Exact cache hits answered in front of LangServe: LangServe's own answers, without its per-request machinery.

LangServe's per-request machinery (callback managers, run trees, config merging) costs 8 to 17 ms of CPU per
cached answer on the 2-core development machine, and caps the service near 35 req/s even when the answer is
already cached. Answered here, a hit costs about 0.5 ms (`bench/fast_path_cost.py`, BENCHMARKS.md).

A request is answered here only when every input it carries is an exact repeat of a cached request
(same user scope, model, dates and lists) under cache mode `use`. Its calls are the chain's own
(`ChainPlan.call`), and they go through the same serving layers the chain calls (metrics -> rollout ->
shadow -> cache), so metrics, the shadow log and the cache's own statistics stay whole. The outputs are the
chain's output parser's (`output_of`), and the response around them is built by LangServe's code
(`peptalk.wire.LangServeAnswers`).

Everything else goes on to LangServe unchanged, which also keeps every error answer as it was:
- misses and near (semantic) hits;
- other cache modes;
- `/c/{config}/...` paths, `kwargs`, per-input configs and config keys other than `model` and `cache`;
- calls a live rollout would route to another model than the one the hit was looked up for (issue 24);
- anything malformed or invalid.

The `x-peptalk-fast-path: exact-cache-hit` header is sent only when every answer's facts say it was an exact
cache hit, so it never contradicts `metadata.cache`.

LangSmith gets no run for a request answered here, so the app leaves the fast path off while tracing is on.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.ai import add_ai_message_chunks
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from peptalk.cache.facts import CacheFacts, CacheMode
from peptalk.cache.layer import SemanticCacheLayer, word_chunks
from peptalk.chain import CACHE_FIELD, MODEL_FIELD, ChainPlan
from peptalk.output import output_of
from peptalk.security.parsed import ParsedRequest, parsed_request
from peptalk.wire import LangServeAnswers
from router.call import Call, ChatLayer, facts_of

log = logging.getLogger("peptalk.fast_path")

ENDPOINTS = ("invoke", "batch", "stream")
HEADER = b"x-peptalk-fast-path"  # on every answer given here: `exact-cache-hit`
CONFIGURABLE_KEYS = frozenset({MODEL_FIELD, CACHE_FIELD})


class RolloutRouting(Protocol):
    """What the fast path asks a live rollout (`peptalk.rollout.layer.RolloutLayer`)."""

    def routes_elsewhere(self, call: Call) -> bool: ...


class NotHandled(Exception):
    """The request is not one the fast path answers; LangServe gets it."""


def _stream_outputs(output: dict[str, Any]) -> list[dict[str, Any]]:
    """The outputs the chain streams for one: a text-only one as the cache layer replays it, word by word."""
    if set(output) != {"text"} or not output["text"]:
        return [output]
    return [{"text": piece} for piece in word_chunks(output["text"])]


def _cache_facts(chunk: AIMessageChunk) -> CacheFacts | None:
    """How the cache served the answer `chunk` is the first chunk of, when it says."""
    facts = facts_of(chunk)
    return facts.get(CacheFacts) if facts is not None else None


@dataclass(frozen=True)
class Configured:
    """What a request's LangServe `config` sets for the fast path: the pinned model and the cache mode."""

    model: str | None = None
    cache: CacheMode | None = None


def configured(config: Any, known_models: frozenset[str]) -> Configured:
    """The pinned model and cache mode of a LangServe `config`; `NotHandled` for anything else."""
    if config is None:
        return Configured()
    if not isinstance(config, dict) or not set(config) <= {"configurable"}:
        raise NotHandled
    configurable = config.get("configurable")
    configurable = {} if configurable is None else configurable
    if not isinstance(configurable, dict) or not set(configurable) <= CONFIGURABLE_KEYS:
        raise NotHandled
    model, cache = configurable.get(MODEL_FIELD), configurable.get(CACHE_FIELD)
    if (model is not None and model not in known_models) or cache not in (None, "use"):
        raise NotHandled
    return Configured(model, cache)


@dataclass
class Planned:
    """A request the fast path answers: its endpoint and one call per input."""

    endpoint: str
    calls: list[Call]


class ExactHitFastPath:
    """ASGI middleware, innermost: answers requests made only of exact cache hits, passes on everything else.

    It reads the request `ParseRequestMiddleware` parsed (outside it).
    """

    def __init__(self, app: Any, *, layer: ChatLayer, cache_layer: SemanticCacheLayer, plan: ChainPlan,
                 known_models: Iterable[str], answers: LangServeAnswers, rollout: RolloutRouting | None = None) -> None:
        self.app = app
        self.rollout = rollout
        self.layer = layer
        self.cache_layer = cache_layer
        self.plan = plan
        self.known_models = frozenset(known_models)
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        parsed = parsed_request(scope)
        planned = self._plan(parsed) if parsed is not None else None
        if planned is None or not await self._answer(planned, scope, receive, send):
            await self.app(scope, receive, send)

    # -- deciding

    def _plan(self, parsed: ParsedRequest) -> Planned | None:
        if parsed.endpoint not in ENDPOINTS or parsed.config_hash is not None:
            return None
        try:
            payload = parsed.payload
            if not isinstance(payload, dict) or payload.get("kwargs"):
                raise NotHandled
            inputs_key = "inputs" if parsed.endpoint == "batch" else "input"
            if not set(payload) <= {inputs_key, "config", "kwargs"} or inputs_key not in payload:
                raise NotHandled
            inputs = payload[inputs_key] if parsed.endpoint == "batch" else [payload[inputs_key]]
            if not isinstance(inputs, list) or not inputs:
                raise NotHandled
            config = configured(payload.get("config"), self.known_models)
            requests = [self.plan.request(item) for item in inputs]
            calls = [self.plan.call(request, model=config.model, cache=config.cache) for request in requests]
            if self.rollout is not None and any(self.rollout.routes_elsewhere(call) for call in calls):
                raise NotHandled  # the hit was looked up under another model than the one the rollout picks
            if not all(self.cache_layer.has_exact_hit(call) for call in calls):
                raise NotHandled
        except (NotHandled, ValidationError):
            return None
        except Exception:  # a bug here must not cost the request its answer
            log.exception("fast path could not read the request; LangServe answers it")
            return None
        for call, request in zip(calls, requests, strict=True):
            call.messages = self.plan.messages(request)
        return Planned(parsed.endpoint, calls)

    # -- answering

    async def _answer(self, planned: Planned, scope: Scope, receive: Receive, send: Send) -> bool:
        """Sends the answer; False (nothing sent) when the serving layers failed before it was complete.

        A hit is replayed from memory without suspending, so the whole answer is gathered first and sent in
        one write: a stream gets LangServe's events for the same hit, all in one piece.
        """
        template = self.plan.template_meta
        answered: list[list[AIMessageChunk]] = []
        try:
            for call in planned.calls:  # one chunk of text instead of one message object per word
                call.options = dataclasses.replace(call.options, whole_answer=True)
            if planned.endpoint == "stream":
                answered.append(await self._chunks(planned.calls[0]))
                # LangChain's chat models close every stream with an empty chunk; LangServe sends it as {"text": ""}.
                chunks = [*answered[0], AIMessageChunk(content="", chunk_position="last")]
                outputs = [piece for chunk in chunks for piece in _stream_outputs(output_of(chunk, template=template))]
            else:
                answered = [await self._chunks(call) for call in planned.calls]
                outputs = [output_of(add_ai_message_chunks(*chunks), template=template) for chunks in answered]
        except Exception:
            # Nothing was sent yet, so LangServe can still answer, with its usual status for whatever failed.
            log.warning("fast path failed before answering; LangServe answers", exc_info=True)
            return False
        # The hit was checked before the call; the answer's own facts say whether it was one (an entry evicted in
        # between, or a rollout stage changed in between, gives a live answer: then no header).
        hits = all((cache := _cache_facts(chunks[0])) is not None and cache.kind == "exact" for chunks in answered)
        if planned.endpoint == "stream":
            start, body = self.answers.stream(outputs)
            if hits:
                start["headers"] = [*start["headers"], (HEADER, b"exact-cache-hit")]
            await send(start)
            await send(body)
            return True
        response = self.answers.invoke(outputs[0]) if planned.endpoint == "invoke" else self.answers.batch(outputs)
        if hits:
            response.raw_headers.append((HEADER, b"exact-cache-hit"))
        await response(scope, receive, send)
        return True

    async def _chunks(self, call: Call) -> list[AIMessageChunk]:
        chunks = [chunk async for chunk in self.layer.astream(call)]
        if not chunks:
            raise RuntimeError("the serving layers returned no chunk")
        return chunks
