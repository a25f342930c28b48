"""Fake backends for shadow tests, registered with the `Router` the same way real backends are."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from router.base import Backend

# `twin` answers like `fast` under another name: a candidate beside the default `fake:fast`, which answers the
# primary and is never mirrored to itself.
Behaviour = Literal["fast", "twin", "slow", "raise", "hang", "garbage", "midstream", "nousage"]
ANSWER = "You finished the design doc yesterday, keep going today!"


class FakeChatModel(BaseChatModel):
    """Answers `ANSWER` word by word, or misbehaves the way `behaviour` says."""

    behaviour: Behaviour = "fast"
    delay_s: float = 3.0
    calls: Any = None  # a shared list each call appends to (Any: pydantic must not copy it)

    @property
    def _llm_type(self) -> str:
        return f"fake-{self.behaviour}"

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        if self.calls is not None:
            self.calls.append(1)
        if self.behaviour == "slow":
            await asyncio.sleep(self.delay_s)
        elif self.behaviour == "hang":
            await asyncio.sleep(3600)
        elif self.behaviour == "raise":
            raise RuntimeError("candidate exploded")
        elif self.behaviour == "garbage":
            yield ChatGenerationChunk(message=AIMessageChunk(content=[{"type": "mystery", "blob": [1, 2]}]))
            yield ChatGenerationChunk(message=AIMessageChunk(content="\x00\ud800 }{<\u202e garbage \x1b[31m"))
            yield ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata={"peptalk": "not a dict"}))
            return
        words = ANSWER.split(" ")
        for index, word in enumerate(words):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word if index == 0 else " " + word))
            if self.behaviour == "midstream" and index == 2:
                raise ConnectionError("stream cut")
        if self.behaviour != "nousage":
            usage = UsageMetadata(input_tokens=42, output_tokens=len(words), total_tokens=42 + len(words))
            yield ChatGenerationChunk(message=AIMessageChunk(content="", usage_metadata=usage))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        raise NotImplementedError("the fake only streams")


class FakeBackend(Backend):
    """`fake:<behaviour>` models: one per behaviour, each a `FakeChatModel`."""

    name = "fake"

    def __init__(self, *, delay_s: float = 3.0) -> None:
        self.delay_s = delay_s
        self.calls: dict[str, list[int]] = {}

    def models(self) -> list[str]:
        return ["fast", "twin", "slow", "raise", "hang", "garbage", "midstream", "nousage"]

    def chat_model(self, model: str, *, node: str | None = None) -> BaseChatModel:
        calls = self.calls.setdefault(model, [])
        return FakeChatModel(behaviour=model, delay_s=self.delay_s, calls=calls)  # type: ignore[arg-type]
