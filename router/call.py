"""One chat call as it flows through the serving layers (cache, shadow, router), and the layer protocol."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from langchain_core.messages import AIMessageChunk, BaseMessage

META_KEY = "peptalk"  # response_metadata key of the first chunk: what served the answer, and how

# Set per HTTP request by the app (a middleware); a call made outside a request gets a fresh id.
current_request_id: ContextVar[str | None] = ContextVar("peptalk_request_id", default=None)


@dataclass
class Call:
    """A chat call: the messages, the pep-talk request they came from, and per-call options."""

    messages: list[BaseMessage]
    request: dict[str, Any] | None = None  # PepTalkRequest.model_dump(mode="json"), when known
    model: str | None = None  # pinned `backend:model`; None lets the routing policy choose
    options: dict[str, Any] = field(default_factory=dict)  # per-call switches (e.g. cache bypass)
    request_id: str = field(default_factory=lambda: current_request_id.get() or uuid.uuid4().hex)

    @property
    def user_id(self) -> str | None:
        return (self.request or {}).get("user_id")

    @property
    def template_version(self) -> str | None:
        """The prompt template's version (`slam@<hash>`), when the caller said; part of a cache key."""
        value = self.options.get("template_version")
        return str(value) if value else None


@runtime_checkable
class ChatLayer(Protocol):
    """Anything that answers a `Call` as a stream of message chunks.

    The first chunk's `response_metadata[META_KEY]` says what served the answer (at least `model`);
    layers wrap one another (top to bottom: metrics -> rollout -> shadow -> cache -> router, as the serving
    stack orders them) and may add keys to that dict.
    """

    def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]: ...


def meta_chunk(**meta: Any) -> AIMessageChunk:
    """The empty first chunk that carries the served model and other facts about the answer."""
    return AIMessageChunk(content="", response_metadata={META_KEY: meta})
