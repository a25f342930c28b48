"""One chat call as it flows through the serving layers (cache, shadow, router), and the layer protocol.

Layers pass facts to one another in typed values only: `CallOptions` down with the call, `AnswerFacts` up on
the answer's first chunk (`facts_chunk`, `with_facts`, `facts_of` are the only code that touches its wire form).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypedDict, get_args, runtime_checkable

from langchain_core.messages import AIMessageChunk, BaseMessage

META_KEY = "peptalk"  # response_metadata key of the first chunk: the `AnswerFacts`, as the JSON clients see

CacheMode = Literal["use", "bypass", "refresh"]  # per request: `config={"configurable": {"cache": ...}}`
CACHE_MODES: tuple[CacheMode, ...] = get_args(CacheMode)  # the one list of them
CacheKind = Literal["exact", "semantic", "miss", "bypass", "refresh"]  # how the cache layer served an answer
RolloutArm = Literal["candidate", "primary", "fallback"]  # fallback: the candidate failed first, the primary answered

# Set per HTTP request by the app (a middleware); a call made outside a request gets a fresh id.
current_request_id: ContextVar[str | None] = ContextVar("peptalk_request_id", default=None)


@dataclass(frozen=True)
class CallOptions:
    """Per-call switches the serving layers read."""

    cache: CacheMode = "use"  # the semantic cache's mode for this call
    fallback: bool = True  # False: a pinned model answers or the call fails (shadow and rollout mirrors)
    deadline_s: float | None = None  # the router's deadline for this call; None: the configured one
    whole_answer: bool = False  # the caller joins the answer anyway, so a cache hit may come as one chunk
    template_version: str | None = None  # the prompt template's version (`slam@<hash>`); part of a cache key


@dataclass
class Call:
    """A chat call: the messages, the pep-talk request they came from, and per-call options."""

    messages: list[BaseMessage]
    request: dict[str, Any] | None = None  # PepTalkRequest.model_dump(mode="json"), when known
    model: str | None = None  # pinned `backend:model`; None lets the routing policy choose
    options: CallOptions = CallOptions()  # frozen, so one shared default is safe
    request_id: str = field(default_factory=lambda: current_request_id.get() or uuid.uuid4().hex)

    @property
    def user_id(self) -> str | None:
        return (self.request or {}).get("user_id")

    @property
    def template_version(self) -> str | None:
        """The prompt template's version (`slam@<hash>`), when the caller said; part of a cache key."""
        return self.options.template_version


class FallbackFact(TypedDict):
    """A model the router tried before the one that served, and why it gave up on it."""

    model: str
    reason: str
    detail: str


class RolloutFact(TypedDict):
    """The rollout stage that routed an answer, the rollout's version then, and the arm that answered."""

    stage: str
    version: int
    arm: RolloutArm


class ErrorFact(TypedDict):
    """Why a stream stopped after its first chunk (sent before LangServe's generic error event)."""

    type: str
    reason: str
    detail: str
    model: str  # the `backend:model` whose stream failed
    request_id: str


@dataclass(frozen=True)
class AnswerFacts:
    """What served an answer, and how: carried by its first chunk (and by an error chunk, `error` only).

    Fields left `None` (and an empty `fallbacks`) are not sent; the field order is the order clients see.
    """

    model: str | None = None  # the `backend:model` that served
    fallbacks: tuple[FallbackFact, ...] = ()  # the router's failed candidates before `model`
    cache_hit: bool | None = None  # set by the cache layer on every answer through it
    similarity: float | None = None  # a cache hit's similarity (1.0 for exact)
    cache: CacheKind | None = None
    cache_evidence: dict[str, Any] | None = None  # a semantic hit's evidence
    cache_miss_reason: str | None = None  # why the nearest entry was not a hit
    shared_flight: bool | None = None  # a hit that waited for an identical request's answer
    rollout: RolloutFact | None = None  # set by the rollout layer on every answer it routes
    error: ErrorFact | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: the fields that are set."""
        facts: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            if value is None or (name == "fallbacks" and not value):
                continue
            facts[name] = list(value) if name == "fallbacks" else value
        return facts

    @classmethod
    def from_dict(cls, facts: dict[str, Any]) -> AnswerFacts:
        """The facts in `facts` (the JSON form); keys of no field are ignored."""
        known = {name: facts[name] for name in _FIELDS if name in facts}
        if "fallbacks" in known:
            known["fallbacks"] = tuple(known["fallbacks"] or ())
        return cls(**known)


_FIELDS = tuple(item.name for item in dataclasses.fields(AnswerFacts))


def facts_chunk(facts: AnswerFacts) -> AIMessageChunk:
    """The empty first chunk that carries the served model and other facts about the answer."""
    return AIMessageChunk(content="", response_metadata={META_KEY: facts.as_dict()})


def with_facts(chunk: AIMessageChunk, facts: AnswerFacts) -> AIMessageChunk:
    """`chunk` carrying `facts` instead of any it had."""
    return chunk.model_copy(update={"response_metadata": {**chunk.response_metadata, META_KEY: facts.as_dict()}})


def facts_of(message: BaseMessage) -> AnswerFacts | None:
    """The facts a chunk (or a whole message, its chunks added up) carries; None when it carries none."""
    facts = message.response_metadata.get(META_KEY)
    return AnswerFacts.from_dict(facts) if isinstance(facts, dict) else None


@runtime_checkable
class ChatLayer(Protocol):
    """Anything that answers a `Call` as a stream of message chunks.

    The first chunk carries the `AnswerFacts` (at least `model`); layers wrap one another (top to bottom:
    metrics -> rollout -> shadow -> cache -> router, as the serving stack orders them) and may add facts to it.
    """

    def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]: ...
