"""Exact cache hits answered in front of LangServe: the same envelopes, without its per-request machinery.

LangServe's per-request machinery (callback managers, run trees, config merging, SSE framing) costs 8 to 17 ms
of CPU per cached answer on the 2-core development machine, and caps the service near 35 req/s even when the
answer is already cached. Answered here, a hit costs about 0.5 ms (`bench/fast_path_cost.py`, BENCHMARKS.md).

A request is answered here only when every input it carries is an exact repeat of a cached request
(same user scope, model, dates and lists) under cache mode `use`. It then goes through the same serving
layers the chain calls (metrics -> rollout -> shadow -> cache), so metrics, the shadow log and the cache's own
statistics stay whole. The response has LangServe's shape: `{"output", "metadata": {"run_id", ...}}`, and
the same SSE events for streams.

Everything else goes on to LangServe unchanged, which also keeps every error answer as it was:
- misses and near (semantic) hits;
- other cache modes;
- `/c/{config}/...` paths, `kwargs`, per-input configs and config keys other than `model` and `cache`;
- anything malformed or invalid.

LangSmith gets no run for a request answered here, so the app leaves the fast path off while tracing is on.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.ai import add_ai_message_chunks
from pydantic import ValidationError

from peptalk.cache.layer import WHOLE_ANSWER, SemanticCacheLayer, word_chunks
from peptalk.output import output_of
from peptalk.prompt import get_template
from peptalk.schema import PepTalkRequest
from peptalk.security.asgi import BodyTooLarge, Receive, Send, read_body, replaying, send_json
from router.call import Call, ChatLayer

log = logging.getLogger("peptalk.fast_path")

ENDPOINTS = ("invoke", "batch", "stream")
HEADER = b"x-peptalk-fast-path"  # on every answer given here: `exact-cache-hit`
CONFIGURABLE_KEYS = frozenset({"model", "cache"})
SSE_HEADERS = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
               (b"x-accel-buffering", b"no"), (HEADER, b"exact-cache-hit")]


class NotHandled(Exception):
    """The request is not one the fast path answers; LangServe gets it."""


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _dumps(value: Any) -> bytes:
    """JSON as LangServe writes outputs: compact, UTF-8."""
    return _ENCODER.encode(value).encode()


def _event(name: str, data: bytes | None = None) -> bytes:
    """One server-sent event framed as sse-starlette frames LangServe's."""
    return b"event: " + name.encode() + b"\r\n" + (b"data: " + data + b"\r\n" if data is not None else b"") + b"\r\n"


def _stream_outputs(output: dict[str, Any]) -> list[dict[str, Any]]:
    """The events LangServe streams for one output: a text-only one as the cache layer replays it, word by word."""
    if set(output) != {"text"} or not output["text"]:
        return [output]
    return [{"text": piece} for piece in word_chunks(output["text"])]


class ChainCalls:
    """Builds the `Call` the pep-talk chain would hand its serving layers, without running the chain."""

    def __init__(self, request_model: type[PepTalkRequest], known_models: Iterable[str]) -> None:
        self.request_model = request_model
        self.known = frozenset(known_models)
        self.template = get_template()
        self.prompt = self.template.chat_prompt()

    def options(self, config: Any) -> tuple[str | None, dict[str, Any]]:
        """The pinned model and call options of a LangServe `config`; `NotHandled` for anything else."""
        if config is None:
            return None, {}
        if not isinstance(config, dict) or not set(config) <= {"configurable"}:
            raise NotHandled
        configurable = config.get("configurable")
        configurable = {} if configurable is None else configurable
        if not isinstance(configurable, dict) or not set(configurable) <= CONFIGURABLE_KEYS:
            raise NotHandled
        model, cache = configurable.get("model"), configurable.get("cache")
        if (model is not None and model not in self.known) or cache not in (None, "use"):
            raise NotHandled
        return model, ({"cache": cache} if cache is not None else {})

    def call(self, payload: Any, model: str | None, options: dict[str, Any]) -> tuple[Call, PepTalkRequest]:
        """The call for one input, messages still empty; `NotHandled` when the input is invalid."""
        try:
            request = self.request_model.model_validate(payload)
        except ValidationError:
            raise NotHandled from None
        options = {**options, "template_version": self.template.version}
        return Call(messages=[], request=request.model_dump(mode="json"), model=model, options=options), request

    def add_messages(self, call: Call, request: PepTalkRequest) -> None:
        call.messages = self.prompt.format_messages(**self.template.variables(request))

    @property
    def template_meta(self) -> dict[str, str]:
        """What the chain's output parser adds to an answer's metadata about the template."""
        return {"template": self.template.id, "template_version": self.template.version}


@dataclass
class Planned:
    """A request the fast path answers: its endpoint and one call per input."""

    endpoint: str
    calls: list[Call]


class ExactHitFastPath:
    """ASGI middleware, innermost: answers requests made only of exact cache hits, passes on everything else."""

    def __init__(self, app: Any, *, prefix: str, layer: ChatLayer, cache_layer: SemanticCacheLayer,
                 calls: ChainCalls, max_body_bytes: int) -> None:
        self.app = app
        self.paths = {f"{prefix}/{endpoint}": endpoint for endpoint in ENDPOINTS}
        self.layer = layer
        self.cache_layer = cache_layer
        self.calls = calls
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        endpoint = self.paths.get(scope["path"]) if scope["type"] == "http" and scope.get("method") == "POST" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive, limit=self.max_body_bytes)
        except BodyTooLarge as exc:  # the envelope check in front answers this first, with the same limit
            await send_json(send, 413, {"detail": str(exc)})
            return
        planned = self._plan(endpoint, body)
        if planned is None or not await self._answer(planned, send):
            await self.app(scope, replaying(body, receive), send)

    # -- deciding

    def _plan(self, endpoint: str, body: bytes) -> Planned | None:
        try:
            payload = json.loads(body)
            if not isinstance(payload, dict) or payload.get("kwargs"):
                raise NotHandled
            inputs_key = "inputs" if endpoint == "batch" else "input"
            if not set(payload) <= {inputs_key, "config", "kwargs"} or inputs_key not in payload:
                raise NotHandled
            inputs = payload[inputs_key] if endpoint == "batch" else [payload[inputs_key]]
            if not isinstance(inputs, list) or not inputs:
                raise NotHandled
            model, options = self.calls.options(payload.get("config"))
            built = [self.calls.call(item, model, options) for item in inputs]
            if not all(self.cache_layer.has_exact_hit(call) for call, _ in built):
                raise NotHandled
        except (NotHandled, ValueError):
            return None
        except Exception:  # a bug here must not cost the request its answer
            log.exception("fast path could not read the request; LangServe answers it")
            return None
        for call, request in built:
            self.calls.add_messages(call, request)
        return Planned(endpoint, [call for call, _ in built])

    # -- answering

    async def _answer(self, planned: Planned, send: Send) -> bool:
        """Sends the answer; False (nothing sent) when the serving layers failed before it was complete.

        A hit is replayed from memory without suspending, so the whole answer is gathered first and sent in
        one write: a stream gets LangServe's events for the same hit, all in one piece.
        """
        try:
            for call in planned.calls:
                call.options[WHOLE_ANSWER] = True  # one chunk of text instead of one message object per word
            if planned.endpoint == "stream":
                # LangChain's chat models close every stream with an empty chunk; LangServe sends it as {"text": ""}.
                chunks = [*await self._chunks(planned.calls[0]), AIMessageChunk(content="", chunk_position="last")]
                meta = self.calls.template_meta
                outputs = [piece for chunk in chunks for piece in _stream_outputs(output_of(chunk, template=meta))]
            else:
                outputs = [output_of(add_ai_message_chunks(*await self._chunks(call)), template=self.calls.template_meta)
                           for call in planned.calls]
        except Exception:
            # Nothing was sent yet, so LangServe can still answer, with its usual status for whatever failed.
            log.warning("fast path failed before answering; LangServe answers", exc_info=True)
            return False
        if planned.endpoint == "stream":
            events = [_event("metadata", json.dumps({"run_id": str(uuid.uuid4())}).encode())]
            events += [_event("data", _dumps(output)) for output in outputs]
            events.append(_event("end"))
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            await send({"type": "http.response.body", "body": b"".join(events), "more_body": False})
            return True
        run_ids = [str(uuid.uuid4()) for _ in outputs]
        body: dict[str, Any]
        if planned.endpoint == "invoke":
            body = {"output": outputs[0], "metadata": {"run_id": run_ids[0], "feedback_tokens": []}}
        else:
            body = {"output": outputs, "metadata": {
                "responses": [{"run_id": run_id, "feedback_tokens": []} for run_id in run_ids], "run_ids": run_ids}}
        payload = _dumps(body)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
            (HEADER, b"exact-cache-hit")]})
        await send({"type": "http.response.body", "body": payload})
        return True

    async def _chunks(self, call: Call) -> list[AIMessageChunk]:
        chunks = [chunk async for chunk in self.layer.astream(call)]
        if not chunks:
            raise RuntimeError("the serving layers returned no chunk")
        return chunks
