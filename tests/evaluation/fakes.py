"""A scripted `ChatLayer` for unit tests: answers from a function of the prompt, like a model would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from langchain_core.messages import AIMessageChunk

from router.call import Call, AnswerFacts, facts_chunk


class ScriptedLayer:
    """Streams `answer(prompt)` in two pieces after the meta chunk; counts calls; may fail the first `failures`."""

    def __init__(self, answer: Callable[[str], str], *, failures: int = 0) -> None:
        self.answer = answer
        self.failures = failures
        self.calls: list[Call] = []

    async def astream(self, call: Call) -> AsyncIterator[AIMessageChunk]:
        self.calls.append(call)
        yield facts_chunk(AnswerFacts(model=call.model or "fake:model"))
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("backend refused the connection")
        text = self.answer(str(call.messages[-1].content))
        half = len(text) // 2
        yield AIMessageChunk(content=text[:half])
        yield AIMessageChunk(content=text[half:], usage_metadata={"input_tokens": 11, "output_tokens": 5,
                                                                    "total_tokens": 16})
