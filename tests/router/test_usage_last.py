"""The stream contract at the router: whatever trails a backend's usage chunk, the last chunk carries the usage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from router import Backend, Router
from router.call import Call

USAGE = {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}


class TrailingModel(BaseChatModel):
    """Streams like ChatOpenAI with `stream_usage`: text, a finish chunk, the usage chunk, then an empty trailer."""

    trailer_after_usage: bool = True

    @property
    def _llm_type(self) -> str:
        return "trailing"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        raise NotImplementedError

    async def _astream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in (AIMessageChunk(content="Keep"), AIMessageChunk(content=" going"),
                      AIMessageChunk(content="", response_metadata={"finish_reason": "stop"}),
                      AIMessageChunk(content="", usage_metadata=USAGE)):  # type: ignore[arg-type]
            yield ChatGenerationChunk(message=chunk)
        if self.trailer_after_usage:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", chunk_position="last"))


class TrailingBackend(Backend):
    name = "fake"

    def models(self) -> list[str]:
        return ["trailing"]

    def chat_model(self, model: str, *, node: str | None = None) -> BaseChatModel:
        return TrailingModel()


async def test_the_last_chunk_carries_the_usage_and_nothing_is_lost() -> None:
    router = Router({"fake": TrailingBackend()}, default_model="fake:trailing")
    await router.start()
    chunks = [chunk async for chunk in router.astream(Call(messages=[HumanMessage("hi")]))]
    assert "".join(chunk.text for chunk in chunks) == "Keep going"
    assert chunks[-1].usage_metadata == USAGE and chunks[-1].chunk_position == "last"  # the trailer joined it
    assert [chunk for chunk in chunks[:-1] if chunk.usage_metadata] == []
    assert any(chunk.response_metadata.get("finish_reason") == "stop" for chunk in chunks)
