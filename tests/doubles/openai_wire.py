"""What OpenAI's chat completions look like on the wire: error responses, completions, and SSE chunks.

Shared by the OpenAI-protocol doubles so that each answers in the same shape as the real API: streamed
chunks carry `"usage": null` when the client asked for usage, followed by a last chunk with empty
`choices` and the usage, then `data: [DONE]`. Production code never imports this module.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi.responses import JSONResponse

from tests.doubles.openai_rules import OpenAIError


def error_response(error: OpenAIError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def completion(model: str, text: str, usage_: dict[str, int], *, finish_reason: str = "stop") -> dict[str, Any]:
    """A non-streamed chat completion."""
    return {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "system_fingerprint": "fp_double", "usage": usage_,
            "choices": [{"index": 0, "finish_reason": finish_reason, "logprobs": None,
                         "message": {"role": "assistant", "content": text, "refusal": None}}]}


class ChunkWriter:
    """The SSE events of one streamed completion, shaped as `stream_options` asks."""

    def __init__(self, model: str, body: dict[str, Any]) -> None:
        self.model = model
        self.include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.ident = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())

    def _event(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        chunk: dict[str, Any] = {"id": self.ident, "object": "chat.completion.chunk", "created": self.created,
                                 "model": self.model, "system_fingerprint": "fp_double", "choices": choices}
        if self.include_usage:
            chunk["usage"] = None
        chunk.update(extra)
        return f"data: {json.dumps(chunk)}\n\n".encode()

    def delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        return self._event([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}])

    def error(self, error: dict[str, Any]) -> bytes:
        """An error event (`data: {"error": {...}}`): the API's way to fail a stream it already answered 200."""
        return f"data: {json.dumps(error)}\n\n".encode()

    def opening(self) -> bytes:
        return self.delta({"role": "assistant", "content": "", "refusal": None})

    def closing(self, usage_: dict[str, int], finish_reason: str = "stop") -> Iterator[bytes]:
        """The finish chunk, the usage chunk when asked for, and `[DONE]`."""
        yield self.delta({}, finish_reason)
        if self.include_usage:
            yield self._event([], usage=usage_)
        yield b"data: [DONE]\n\n"


def prompt_words(body: dict[str, Any]) -> int:
    """A rough prompt-token count for canned answers (words of every message's text)."""
    count = 0
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
        count += len(str(content or "").split())
    return count
