"""Token usage for an answer whose engine sent none on its stream, counted by peptalk and marked as counted.

`llama_cpp.server` (llama-cpp-python's OpenAI-protocol server) ignores `stream_options.include_usage` and never
puts usage on a stream (its issue #1640); other engines may drop it too. The router then counts the answer's
output tokens as the text chunks it streamed (these engines stream one token per chunk) and the prompt's tokens
without a tokenizer (words and punctuation marks), and says so: `usage_source: "counted"`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata

UsageSource = Literal["backend", "counted"]  # the engine's usage data, or counted by peptalk
USAGE_SOURCE_KEY = "usage_source"  # response_metadata key of a usage chunk peptalk counted itself

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """A tokenizer-free count (words and punctuation marks), used only when a backend reports no usage."""
    return len(_TOKEN.findall(text))


def counted_usage_chunk(messages: Sequence[BaseMessage], *, text_chunks: int) -> AIMessageChunk:
    """An empty chunk with the usage peptalk counted: `text_chunks` output tokens, the prompt's words and marks."""
    input_tokens = sum(count_tokens(str(message.text)) for message in messages)
    usage = UsageMetadata(input_tokens=input_tokens, output_tokens=text_chunks,
                          total_tokens=input_tokens + text_chunks)
    return AIMessageChunk(content="", usage_metadata=usage, response_metadata={USAGE_SOURCE_KEY: "counted"})


def usage_source_of(response_metadata: Mapping[str, Any]) -> UsageSource:
    """Where a usage chunk's counts come from: `counted` when the router counted them, else the engine's."""
    return "counted" if response_metadata.get(USAGE_SOURCE_KEY) == "counted" else "backend"
