"""The stream contract at the router: whatever trails a backend's usage chunk, the last chunk carries the usage."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from router import Backend, Router
from router.call import Call

USAGE = {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}


class TrailingModel(BaseChatModel):
    """Streams like ChatOpenAI with `stream_usage`: text, a finish chunk, the usage chunk, then an empty trailer.

    Without `usage`, it streams like llama_cpp.server, which sends no usage on a stream.
    """

    trailer_after_usage: bool = True
    usage: bool = True

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
            if chunk.usage_metadata and not self.usage:
                continue
            yield ChatGenerationChunk(message=chunk)
        if self.trailer_after_usage:
            yield ChatGenerationChunk(message=AIMessageChunk(content="", chunk_position="last"))


class TrailingBackend(Backend):
    name = "fake"

    def models(self) -> list[str]:
        return ["trailing", "silent"]

    def chat_model(self, model: str, *, node: str | None = None) -> BaseChatModel:
        return TrailingModel(usage=model == "trailing")


async def test_the_last_chunk_carries_the_usage_and_nothing_is_lost() -> None:
    router = Router({"fake": TrailingBackend()}, default_model="fake:trailing")
    await router.start()
    chunks = [chunk async for chunk in router.astream(Call(messages=[HumanMessage("hi")]))]
    assert "".join(chunk.text for chunk in chunks) == "Keep going"
    assert chunks[-1].usage_metadata == USAGE and chunks[-1].chunk_position == "last"  # the trailer joined it
    assert [chunk for chunk in chunks[:-1] if chunk.usage_metadata] == []
    assert any(chunk.response_metadata.get("finish_reason") == "stop" for chunk in chunks)


async def test_a_stream_without_usage_gets_counted_usage_on_its_last_chunk(caplog: Any) -> None:
    router = Router({"fake": TrailingBackend()}, default_model="fake:silent")
    await router.start()
    logger = logging.getLogger("peptalk.router")
    logger.addHandler(caplog.handler)  # directly: an app built earlier in the session stops propagation
    try:
        with caplog.at_level("INFO", logger="peptalk.router"):
            chunks = [chunk async for chunk in router.astream(Call(messages=[HumanMessage("Cheer me up, please!")],
                                                                   request_id="req-usage"))]
    finally:
        logger.removeHandler(caplog.handler)
    assert "".join(chunk.text for chunk in chunks) == "Keep going"
    # Two text chunks: two output tokens; the prompt's words and marks: "Cheer me up , please !" is 6.
    assert chunks[-1].usage_metadata == {"input_tokens": 6, "output_tokens": 2, "total_tokens": 8}
    assert chunks[-1].response_metadata["usage_source"] == "counted"
    assert chunks[-1].response_metadata["finish_reason"] == "stop"  # the finish chunk joined the usage chunk
    assert [chunk for chunk in chunks[:-1] if chunk.usage_metadata] == []
    [served] = {id(record): record for record in caplog.records if record.getMessage() == "served"}.values()
    assert served.request_id == "req-usage" and served.output_tokens == 2 and served.usage_source == "counted"
