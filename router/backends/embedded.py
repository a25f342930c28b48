"""The `embedded` backend: SmolLM2 run in-process by llama.cpp, so the service needs nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from router.backends.embedded_runtime import EmbeddedRuntime, TokenEvent, default_gguf_path
from router.backends.messages import to_role_dicts
from router.base import Backend
from router.errors import ConfigError
from router.generation import Generation


class EmbeddedChatModel(BaseChatModel):
    """A LangChain chat model over the shared in-process llama.cpp runtime."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    runtime: EmbeddedRuntime
    model_name: str = "smollm2-135m"
    temperature: float = 0.7
    max_tokens: int = 200
    sampling: dict[str, float | int] = Field(default_factory=dict)  # top_k, top_p, min_p, repeat_penalty
    sentence_budget: int | None = None

    @property
    def _llm_type(self) -> str:
        return "peptalk-embedded-llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "temperature": self.temperature, "max_tokens": self.max_tokens,
                **self.sampling}

    def _params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {**self.sampling, **{name: kwargs[name] for name in self.sampling if name in kwargs}}
        params.update(temperature=kwargs.get("temperature", self.temperature),
                      max_tokens=kwargs.get("max_tokens", self.max_tokens), stop=stop or [])
        if self.sentence_budget:
            params["sentence_budget"] = self.sentence_budget
        return params

    def _chunk(self, event: TokenEvent) -> ChatGenerationChunk:
        if not event.done:
            return ChatGenerationChunk(message=AIMessageChunk(content=event.text))
        usage = UsageMetadata(
            input_tokens=event.prompt_tokens,
            output_tokens=event.completion_tokens,
            total_tokens=event.prompt_tokens + event.completion_tokens,
        )
        return ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=usage,
                response_metadata={"model_name": self.model_name, "finish_reason": event.finish_reason},
                chunk_position="last",
            )
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for event in self.runtime.stream(to_role_dicts(messages), **self._params(stop, kwargs)):
            chunk = self._chunk(event)
            if run_manager and event.text:
                run_manager.on_llm_new_token(event.text, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async for event in self.runtime.astream(to_role_dicts(messages), **self._params(stop, kwargs)):
            chunk = self._chunk(event)
            if run_manager and event.text:
                await run_manager.on_llm_new_token(event.text, chunk=chunk)
            yield chunk

    @staticmethod
    def _result(chunks: list[ChatGenerationChunk]) -> ChatResult:
        merged = chunks[0]
        for chunk in chunks[1:]:
            merged = merged + chunk
        return ChatResult(generations=[ChatGeneration(message=merged.message.model_copy(update={"chunk_position": None}))])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result(list(self._stream(messages, stop, run_manager, **kwargs)))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result([chunk async for chunk in self._astream(messages, stop, run_manager, **kwargs)])


class EmbeddedBackend(Backend):
    """SmolLM2-135M-Instruct in this process; the default backend."""

    name = "embedded"
    in_process = True

    def __init__(self, *, model_name: str, model_path: str | None, n_ctx: int, n_threads: int,
                 generation: Generation) -> None:
        self.model_name = model_name
        self._model_path = model_path
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self.generation = generation
        self.runtime: EmbeddedRuntime | None = None

    def models(self) -> list[str]:
        return [self.model_name]

    async def start(self) -> None:
        from pathlib import Path

        path = Path(self._model_path) if self._model_path else default_gguf_path()
        runtime = EmbeddedRuntime(path, n_ctx=self._n_ctx, n_threads=self._n_threads)
        await asyncio.to_thread(runtime.load)
        self.runtime = runtime

    def chat_model(self, model: str, *, node: str | None = None) -> BaseChatModel:
        if self.runtime is None:
            raise ConfigError("the embedded backend was not started")
        gen = self.generation
        return EmbeddedChatModel(runtime=self.runtime, model_name=model, temperature=gen.temperature,
                                 max_tokens=gen.max_tokens, sampling=dict(gen.sampling),
                                 sentence_budget=gen.sentence_budget)

    async def check_node(self, node: str) -> tuple[bool, str]:
        loaded = self.runtime is not None and self.runtime.loaded
        return loaded, f"{self.runtime.model_path.name} loaded" if loaded and self.runtime else "model not loaded"

    async def aclose(self) -> None:
        if self.runtime is not None:
            await asyncio.to_thread(self.runtime.close)
            self.runtime = None
