"""The backend interface: one class per kind of model server, each making LangChain chat models."""

from __future__ import annotations

import abc
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Literal

from langchain_core.language_models import BaseChatModel

from router.errors import UnknownModelError

NodeState = Literal["up", "cooling_down", "down", "unknown"]


@dataclass(frozen=True, order=True)
class ModelRef:
    """`backend:model`, e.g. `ollama:starling-lm:7b` (the model part may itself contain colons)."""

    backend: str
    model: str

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        backend, sep, model = text.strip().partition(":")
        if not sep or not backend or not model:
            raise UnknownModelError(text, [])
        return cls(backend, model)

    def __str__(self) -> str:
        return f"{self.backend}:{self.model}"


@dataclass
class BackendStatus:
    """What a readiness probe found out about one backend."""

    backend: str
    reachable: bool
    detail: str = ""
    models: list[str] = field(default_factory=list)
    nodes: dict[str, dict[str, object]] = field(default_factory=dict)  # node -> {"reachable", "detail"}


class Backend(abc.ABC):
    """A kind of model server (embedded llama.cpp, OpenAI-compatible, Ollama)."""

    name: str
    in_process: bool = False  # True: answers in this process (no network between the router and the model)

    @abc.abstractmethod
    def models(self) -> list[str]:
        """The model names this backend is configured to serve."""

    def nodes(self) -> list[str]:
        """The nodes (base URLs) this backend's models are served from; `local` for an in-process model."""
        return ["local"]

    @abc.abstractmethod
    def chat_model(self, model: str, *, node: str | None = None) -> BaseChatModel:
        """A LangChain chat model that answers with `model` on this backend (on `node`, default the first)."""

    async def start(self) -> None:
        """Loads or connects what the backend needs; raises `ConfigError` when it cannot."""

    async def prepare_node(self, node: str) -> None:
        """Learns what it needs about `node` (a router-config node included) before its client is built."""

    async def refresh_node(self, node: str) -> None:
        """Called before each request to `node`: may learn again what `prepare_node` could not (cheap otherwise)."""

    def client_key(self, node: str) -> Hashable:
        """What `node`'s client was built from; when it changes, the router builds the client again."""
        return None

    async def check_node(self, node: str) -> tuple[bool, str]:
        """Whether `node` can answer now, and a one-line detail (`Router.status` asks every node, for `/readyz`)."""
        return True, node

    async def aclose(self) -> None:
        """Releases what `start` acquired."""
