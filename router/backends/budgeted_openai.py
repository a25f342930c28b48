"""The sentence budget on llama-server: the OpenAI-protocol stream cut after N sentences, its usage still counted.

Closing the stream early cancels the generation on the server, which then sends no usage. The answer's usage
is counted here instead: output tokens are the streamed pieces (llama-server streams one token per piece), and
input tokens are the prompt as the server renders and tokenizes it (`/apply-template`, `/tokenize`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any, cast

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGenerationChunk
from langchain_openai import ChatOpenAI

from router.backends.messages import to_role_dicts
from router.sentence_budget import FINISH_REASON, SentenceBudget


class _Cut:
    """One budgeted stream: which chunks pass, and the closing chunk once the budget is spent."""

    def __init__(self, sentences: int, model_name: str) -> None:
        self.budget = SentenceBudget(sentences)
        self.model_name = model_name
        self.generated = 0

    def pass_on(self, chunk: ChatGenerationChunk) -> ChatGenerationChunk | None:
        if not chunk.text:
            return chunk
        self.generated += 1
        kept = self.budget.feed(chunk.text)
        if not self.budget.exhausted:
            return chunk
        return ChatGenerationChunk(message=AIMessageChunk(content=kept)) if kept else None

    def last(self, prompt_tokens: int) -> ChatGenerationChunk:
        usage = UsageMetadata(input_tokens=prompt_tokens, output_tokens=self.generated,
                              total_tokens=prompt_tokens + self.generated)
        return ChatGenerationChunk(message=AIMessageChunk(
            content="", usage_metadata=usage, chunk_position="last",
            response_metadata={"model_name": self.model_name, "finish_reason": FINISH_REASON}))


class BudgetedChatOpenAI(ChatOpenAI):
    """`ChatOpenAI` against llama-server that stops reading after `sentence_budget` whole sentences."""

    sentence_budget: int
    server_url: str  # llama-server's root (no /v1): /apply-template and /tokenize live there

    def _template_body(self, messages: list[BaseMessage]) -> dict[str, Any]:
        return {"messages": to_role_dicts(messages)}

    async def _aprompt_tokens(self, messages: list[BaseMessage]) -> int:
        async with httpx.AsyncClient(timeout=10.0) as client:
            rendered = (await client.post(f"{self.server_url}/apply-template", json=self._template_body(messages)))
            tokens = await client.post(f"{self.server_url}/tokenize",
                                       json={"content": rendered.json()["prompt"], "add_special": True})
        return len(tokens.json()["tokens"])

    def _prompt_tokens(self, messages: list[BaseMessage]) -> int:
        with httpx.Client(timeout=10.0) as client:
            rendered = client.post(f"{self.server_url}/apply-template", json=self._template_body(messages))
            tokens = client.post(f"{self.server_url}/tokenize",
                                 json={"content": rendered.json()["prompt"], "add_special": True})
        return len(tokens.json()["tokens"])

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        cut = _Cut(self.sentence_budget, self.model_name)
        stream = cast(AsyncGenerator[ChatGenerationChunk, None],
                      super()._astream(messages, stop, run_manager, **kwargs))
        try:
            async for chunk in stream:
                passed = cut.pass_on(chunk)
                if passed is not None:
                    yield passed
                if cut.budget.exhausted:
                    break
        finally:
            await stream.aclose()  # closes the HTTP stream: the server stops generating
        if cut.budget.exhausted:
            yield cut.last(await self._aprompt_tokens(messages))

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        cut = _Cut(self.sentence_budget, self.model_name)
        stream = cast(Generator[ChatGenerationChunk, None, None],
                      super()._stream(messages, stop, run_manager, **kwargs))
        try:
            for chunk in stream:
                passed = cut.pass_on(chunk)
                if passed is not None:
                    yield passed
                if cut.budget.exhausted:
                    break
        finally:
            stream.close()
        if cut.budget.exhausted:
            yield cut.last(self._prompt_tokens(messages))
