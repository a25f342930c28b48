"""`RoutedChatModel`: the chat model in the pep-talk chain; it hands each call to the serving layers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from router.call import META_KEY, Call, ChatLayer

__all__ = ["META_KEY", "RoutedChatModel"]


class RoutedChatModel(BaseChatModel):
    """A LangChain chat model whose answers come from a `ChatLayer` stack (router at the bottom).

    `model`, `options` and `cache_mode` are set per call through LangServe's configurable fields; the
    pep-talk request itself arrives as the bound kwarg `peptalk_request`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    layer: ChatLayer
    model: str | None = None
    options: dict[str, Any] = {}
    # Per-call semantic-cache mode ("use", "bypass", "refresh"), configurable as `cache`; not BaseChatModel's
    # own `cache` field, which is LangChain's exact-match LLM cache.
    cache_mode: str | None = None

    @property
    def _llm_type(self) -> str:
        return "peptalk-router"

    def _call(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> Call:
        options = dict(self.options)
        if self.cache_mode is not None:
            options["cache"] = self.cache_mode
        if kwargs.get("peptalk_template_version"):
            options["template_version"] = kwargs["peptalk_template_version"]
        return Call(messages=messages, request=kwargs.get("peptalk_request"), model=self.model, options=options)

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
