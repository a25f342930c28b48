"""`RoutedChatModel`: the chat model in the pep-talk chain; it hands each call to the serving layers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from peptalk.cache.facts import CacheMode, CacheRequest
from router.call import Call, CallOptions, ChatLayer

__all__ = ["REQUEST_KWARG", "TEMPLATE_VERSION_KWARG", "RoutedChatModel", "chain_call"]

REQUEST_KWARG = "peptalk_request"  # bound kwarg: the validated pep-talk request, as JSON
TEMPLATE_VERSION_KWARG = "peptalk_template_version"  # bound kwarg: the prompt template's version


def chain_call(messages: list[BaseMessage], *, request: dict[str, Any] | None, model: str | None,
               cache: CacheMode | None, template_version: str | None) -> Call:
    """The `Call` the chat model hands its layers; the exact-hit fast path builds its calls here too."""
    options = CallOptions(template_version=template_version or None)
    return Call(messages=messages, request=request, model=model,
                options=options.with_(CacheRequest(cache)) if cache else options)


class RoutedChatModel(BaseChatModel):
    """A LangChain chat model whose answers come from a `ChatLayer` stack (router at the bottom).

    `model` and `cache_mode` are set per call through LangServe's configurable fields; the pep-talk request
    and the template's version arrive as the bound kwargs `peptalk_request` and `peptalk_template_version`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    layer: ChatLayer
    model: str | None = None
    # Per-call semantic-cache mode ("use", "bypass", "refresh"), configurable as `cache`; not BaseChatModel's
    # own `cache` field, which is LangChain's exact-match LLM cache.
    cache_mode: CacheMode | None = None

    @property
    def _llm_type(self) -> str:
        return "peptalk-router"

    def _call(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> Call:
        return chain_call(messages, request=kwargs.get(REQUEST_KWARG), model=self.model, cache=self.cache_mode,
                          template_version=kwargs.get(TEMPLATE_VERSION_KWARG))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async for chunk in self.layer.astream(self._call(messages, kwargs)):
            generation = ChatGenerationChunk(message=chunk)
            if run_manager and chunk.content:
                await run_manager.on_llm_new_token(chunk.text, chunk=generation)
            yield generation

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        merged: ChatGenerationChunk | None = None
        async for chunk in self._astream(messages, stop, run_manager, **kwargs):
            merged = chunk if merged is None else merged + chunk
        if merged is None:
            raise RuntimeError("the serving layers returned no chunk")
        message = merged.message.model_copy(update={"chunk_position": None})
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # The serving path is async; a sync caller gets the same code on a private event loop.
        return asyncio.run(self._agenerate(messages, stop, None, **kwargs))
