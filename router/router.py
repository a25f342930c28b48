"""The router: knows the configured backends and turns a `backend:model` name into a chat model."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk

from router.base import Backend, BackendStatus, ModelRef
from router.call import Call, meta_chunk
from router.errors import ConfigError, UnknownModelError

log = logging.getLogger("peptalk.router")


class Router:
    """Resolves model names against the enabled backends, owns their life cycle, and is the bottom `ChatLayer`."""

    def __init__(self, backends: dict[str, Backend], *, default_model: str) -> None:
        self.backends = backends
        self._chat_models: dict[ModelRef, BaseChatModel] = {}
        try:
            self.default = self.resolve(default_model)
        except UnknownModelError as exc:
            raise ConfigError(f"default model: {exc}") from exc

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

    def chat_model(self, ref: ModelRef) -> BaseChatModel:
        """The (cached) LangChain chat model for `ref`."""
        model = self._chat_models.get(ref)
        if model is None:
            model = self.backends[ref.backend].chat_model(ref.model)
            self._chat_models[ref] = model
        return model

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        """Streams the answer of the pinned (or default) model, after a first chunk naming it."""
        ref = self.resolve(call.model)
        started = time.perf_counter()
        first_token_s: float | None = None
        output_tokens = 0
        yield meta_chunk(model=str(ref))
        async for chunk in self.chat_model(ref).astream(call.messages):
            if first_token_s is None and chunk.content:
                first_token_s = time.perf_counter() - started
            if chunk.usage_metadata:
                output_tokens += chunk.usage_metadata.get("output_tokens", 0)
            yield chunk
        log.info("served", extra={"request_id": call.request_id, "model": str(ref),
                                  "latency_s": round(time.perf_counter() - started, 4),
                                  "ttft_s": None if first_token_s is None else round(first_token_s, 4),
                                  "output_tokens": output_tokens})

    async def start(self) -> None:
        """Starts every backend; the first failure stops start-up with its `ConfigError`."""
        for backend in self.backends.values():
            await backend.start()

    async def status(self) -> list[BackendStatus]:
        """A readiness probe of every backend, run concurrently."""
        return list(await asyncio.gather(*(backend.check() for backend in self.backends.values())))

    async def aclose(self) -> None:
        for backend in self.backends.values():
            await backend.aclose()
        self._chat_models.clear()
