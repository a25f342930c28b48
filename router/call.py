"""One chat call as it flows through the serving layers down to the router, and the layer protocol.

Layers pass facts to one another in typed values only: `CallOptions` down with the call, `AnswerFacts` up on
the answer's first chunk (`facts_chunk`, `with_facts`, `facts_of` are the only code that touches its wire form).
The router reads only its own fields of both; the layers above attach theirs as typed extensions
(`router.extensions`), which it passes on unread.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict, TypeVar, runtime_checkable

from langchain_core.messages import AIMessageChunk, BaseMessage

from router.extensions import AnswerFact, decode_facts, find, replaced

META_KEY = "peptalk"  # response_metadata key of the first chunk: the `AnswerFacts`, as the JSON clients see

T = TypeVar("T")
F = TypeVar("F", bound=AnswerFact)

# Set per HTTP request by the app (a middleware); a call made outside a request gets a fresh id.
current_request_id: ContextVar[str | None] = ContextVar("peptalk_request_id", default=None)


@dataclass(frozen=True)
class CallOptions:
    """Per-call switches the serving layers read; `extensions` holds the upper layers' own (one per type)."""

    fallback: bool = True  # False: a pinned model answers or the call fails (calls that mirror another)
    deadline_s: float | None = None  # the router's deadline for this call; None: the configured one
    whole_answer: bool = False  # the caller joins the answer anyway, so a stored one may come as one chunk
    template_version: str | None = None  # the prompt template's version (`slam@<hash>`)
    extensions: tuple[object, ...] = ()  # typed values of the layers above the router, which passes them on unread

    def get(self, kind: type[T]) -> T | None:
        """The extension value of type `kind`, if the call has one."""
        return find(self.extensions, kind)

    def with_(self, value: object) -> CallOptions:
        """These options with `value` as the extension value of its type."""
        return dataclasses.replace(self, extensions=replaced(self.extensions, value))


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
        """The prompt template's version (`slam@<hash>`), when the caller said."""
        return self.options.template_version


class FallbackFact(TypedDict):
    """A model the router tried before the one that served, and why it gave up on it."""

    model: str
    reason: str
    detail: str


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

    Fields left `None` (and an empty `fallbacks`) are not sent. Clients see `model`, `fallbacks`, then each
    extension's keys in the order the extensions were added (lower layers first), then `error`.
    """

    model: str | None = None  # the `backend:model` that served
    fallbacks: tuple[FallbackFact, ...] = ()  # the router's failed candidates before `model`
    extensions: tuple[AnswerFact, ...] = ()  # the upper layers' facts (one per type), passed on unread
    error: ErrorFact | None = None

    def get(self, kind: type[F]) -> F | None:
        """The extension fact of type `kind`, if the answer has one."""
        return find(self.extensions, kind)

    def with_(self, fact: AnswerFact) -> AnswerFacts:
        """These facts with `fact` as the extension fact of its type."""
        return dataclasses.replace(self, extensions=replaced(self.extensions, fact))

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: the facts that are set."""
        facts: dict[str, Any] = {}
        if self.model is not None:
            facts["model"] = self.model
        if self.fallbacks:
            facts["fallbacks"] = list(self.fallbacks)
        for extension in self.extensions:
            facts.update(extension.wire())
        if self.error is not None:
            facts["error"] = self.error
        return facts

    @classmethod
    def from_dict(cls, facts: dict[str, Any]) -> AnswerFacts:
        """The facts in `facts` (the JSON form); keys no registered extension claims are kept as they came."""
        return cls(model=facts.get("model"), fallbacks=tuple(facts.get("fallbacks") or ()),
                   extensions=decode_facts(facts), error=facts.get("error"))


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

    The first chunk carries the `AnswerFacts` (at least `model`); layers wrap one another, the router at the
    bottom, and each may add its own facts to it (an extension of its own type) and pass on the rest.
    """

    def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]: ...
