"""Watches one streamed answer and turns it into a `CallRecord`: text, timing, tokens and what served it."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from peptalk.records import CallRecord
from peptalk.records import UsageSource
from peptalk.cache.facts import CacheFacts
from router.call import facts_of
from router.usage import count_tokens, usage_source_of

__all__ = ["StreamRecorder", "count_tokens", "describe_error", "prompt_text"]


def prompt_text(messages: Sequence[BaseMessage]) -> str:
    """The rendered prompt: the text of every message, in order."""
    return "\n\n".join(str(message.text) for message in messages)


def describe_error(error: BaseException) -> str:
    """`Type: message`, short enough to store."""
    message = str(error).strip()
    return f"{type(error).__name__}: {message}"[:2000] if message else type(error).__name__


class StreamRecorder:
    """Collects what one stream of `AIMessageChunk`s said and how fast; `observe` each chunk, then `finish`."""

    def __init__(self, model: str | None = None) -> None:
        self.model = model
        self.cache_hit = False
        self.started_at = dt.datetime.now(dt.timezone.utc)
        self._t0 = time.perf_counter()
        self._parts: list[str] = []
        self._ttft_s: float | None = None
        self._input_tokens: int | None = None
        self._output_tokens: int | None = None
        self._seen_meta = False
        self._finish_reason: str | None = None
        self._usage_source: UsageSource | None = None

    def observe(self, chunk: Any) -> None:
        """Takes one chunk into account; raises on a chunk that is not a message chunk."""
        facts = facts_of(chunk)
        if facts is not None:
            if not self._seen_meta and facts.model:
                self.model = facts.model
            self._seen_meta = True
            cache = facts.get(CacheFacts)
            self.cache_hit = self.cache_hit or (cache is not None and cache.hit)
        reason = (chunk.response_metadata or {}).get("finish_reason") or (chunk.response_metadata or {}).get(
            "done_reason")
        if reason:
            self._finish_reason = str(reason)
        text = str(chunk.text)
        if text:
            if self._ttft_s is None:
                self._ttft_s = time.perf_counter() - self._t0
            self._parts.append(text)
        usage = chunk.usage_metadata
        if usage:
            self._input_tokens = (self._input_tokens or 0) + int(usage.get("input_tokens") or 0)
            self._output_tokens = (self._output_tokens or 0) + int(usage.get("output_tokens") or 0)
            self._usage_source = usage_source_of(chunk.response_metadata or {})

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def finish(self, *, prompt: str, error: BaseException | str | None = None) -> CallRecord:
        """The record of the call, ending now; tokens are counted when the backend reported none."""
        latency_s = time.perf_counter() - self._t0
        text = self.text
        from_backend = self._input_tokens is not None or self._output_tokens is not None
        input_tokens = self._input_tokens if self._input_tokens is not None else count_tokens(prompt)
        output_tokens = self._output_tokens if self._output_tokens is not None else count_tokens(text)
        if isinstance(error, BaseException):
            error = describe_error(error)
        return CallRecord(
            model=self.model or "unknown",
            response=text if text or error is None else None,  # a failed call keeps its partial text
            error=error,
            latency_s=latency_s,
            ttft_s=self._ttft_s,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_hit=self.cache_hit,
            started_at=self.started_at,
            source="shadow",
            usage_source=(self._usage_source or "backend") if from_backend else "counted",
            finish_reason=self._finish_reason,
            truncated=self._finish_reason == "length",
        )
