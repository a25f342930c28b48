"""Asks the judge model through the serving layers, with the disk cache and bounded retries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from langchain_core.messages import HumanMessage
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from evaluation.errors import JudgeError
from evaluation.judges.cache import JudgeCache, cache_key
from evaluation.settings import eval_default
from router.call import Call, ChatLayer
from router.errors import ConfigError, UnknownModelError


class Parsed(Protocol):
    @property
    def parsed(self) -> bool: ...


P = TypeVar("P", bound=Parsed)


@dataclass
class JudgeAnswer(Generic[P]):
    """The judge's last raw answer, what the parser made of it, and how many attempts it took."""

    raw: str
    result: P
    attempts: int
    cached: bool


def _retryable(exc: BaseException) -> bool:
    return not isinstance(exc, (ConfigError, UnknownModelError, asyncio.CancelledError))


class JudgeClient:
    """One judge model: every prompt is answered from the cache or by the model, and the answer is cached."""

    def __init__(self, layer: ChatLayer, *, model: str, cache: JudgeCache | None, temperature: float,
                 max_tokens: int, max_attempts: int = eval_default("eval_judge_max_attempts"), concurrency: int = 1, retry_wait_s: float = 0.5) -> None:
        self.layer = layer
        self.model = model
        self.cache = cache
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_attempts = max_attempts
        self.retry_wait_s = retry_wait_s
        self._slots = asyncio.Semaphore(concurrency)
        self.model_calls = 0

    async def _generate(self, prompt: str) -> str:
        pieces: list[str] = []
        async for chunk in self.layer.astream(Call(messages=[HumanMessage(prompt)], model=self.model)):
            if chunk.content:
                pieces.append(chunk.text)
        return "".join(pieces)

    async def answer(self, prompt: str, *, attempt: int = 0, sample: str | None = None) -> tuple[str, bool]:
        """The raw answer to `prompt` (attempt `attempt`), and whether it came from the cache; `sample` tags an
        independent sample of the same prompt with its own cache key."""
        params: dict[str, object] = {"temperature": self.temperature, "max_tokens": self.max_tokens,
                                     "attempt": attempt}
        if sample is not None:
            params["sample"] = sample
        key = cache_key(model=self.model, messages=[{"role": "user", "content": prompt}], params=params)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return hit, True
        async with self._slots:
            try:
                async for trial in AsyncRetrying(
                    stop=stop_after_attempt(self.max_attempts),
                    wait=wait_exponential(multiplier=self.retry_wait_s, max=10 * self.retry_wait_s),
                    retry=retry_if_exception(_retryable),
                    reraise=True,
                ):
                    with trial:
                        self.model_calls += 1
                        raw = await self._generate(prompt)
            except (ConfigError, UnknownModelError):
                raise
            except Exception as exc:
                raise JudgeError(f"{self.model}: {type(exc).__name__}: {exc}") from exc
        if self.cache is not None:
            self.cache.put(key, model=self.model, answer=raw)
        return raw, False

    async def ask(self, prompt: str, parse: Callable[[str], P], *, sample: str | None = None) -> JudgeAnswer[P]:
        """Asks until the answer parses, at most `max_attempts` times; a greedy judge (temperature 0) is asked once."""
        tries = self.max_attempts if self.temperature > 0 else 1
        for attempt in range(tries):
            raw, cached = await self.answer(prompt, attempt=attempt, sample=sample)
            result = parse(raw)
            if result.parsed:
                break
        return JudgeAnswer(raw=raw, result=result, attempts=attempt + 1, cached=cached)
