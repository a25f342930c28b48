"""`ChatOpenAI` whose stream fails, instead of ending quietly, when the engine closes it without a finish reason.

An OpenAI-protocol stream ends with a chunk that says why (`stop`, `length` ...). A stream closed without one was
cut off: llama_cpp.server closes a running stream with `[DONE]` when another request arrives (unless started with
`--interrupt_requests False`), and the client would otherwise pass the cut answer on as a whole one.
Imported only when an `openai` chat model is built (langchain-openai is loaded lazily).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from langchain_core.outputs import ChatGenerationChunk
from langchain_openai import ChatOpenAI

from router.errors import StreamCutOff

CUT_OFF = ("the engine closed the stream without a finish reason after {chunks} chunks (llama_cpp.server does "
           "this to a running stream when another request arrives, unless started with --interrupt_requests False)")


class FinishCheckedChatOpenAI(ChatOpenAI):
    """`ChatOpenAI` that raises `StreamCutOff` when a stream ends without a finish reason."""

    async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        finished = False
        chunks = 0
        async for chunk in super()._astream(*args, **kwargs):
            chunks += 1
            # BaseChatModel copies `generation_info` into `response_metadata` only after `_astream`.
            info = {**(chunk.generation_info or {}), **chunk.message.response_metadata}
            finished = finished or bool(info.get("finish_reason"))
            yield chunk
        if not finished:
            raise StreamCutOff(CUT_OFF.format(chunks=chunks))
