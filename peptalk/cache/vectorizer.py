"""The background worker that computes cache entries' MiniLM vectors after their answers were sent.

Like shadow traffic: offering a job never waits, and a full queue drops it (the entry stays without vectors, which
is never a wrong hit, only an entry a vector search cannot find yet; maintenance offers it again). One worker
thread, at a lower OS priority than serving (`PEPTALK_CACHE_VECTOR_NICE`), waits for a moment with no request in
flight (at most `MAX_WAIT_S`), then takes every job queued (up to `batch`), embeds their items in one call and
writes their vectors in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from peptalk.cache.base import CacheStore, Embedder
from peptalk.cache.settings import cache_default

log = logging.getLogger("peptalk.cache")
MAX_WAIT_S = 1.0  # the longest a job waits for a moment without requests in flight
IDLE_POLL_S = 0.01


def summary_vector(vectors: np.ndarray, dim: int) -> np.ndarray:
    """The normalised mean of item vectors (zeros for a request with no items)."""
    if not len(vectors):
        return np.zeros(dim, np.float32)
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def item_matrix(items: Sequence[str], vectors: dict[str, np.ndarray], dim: int) -> np.ndarray:
    """The vectors of `items`, one row each, in that order."""
    return np.stack([vectors[item] for item in items]) if items else np.empty((0, dim), np.float32)


@dataclass(frozen=True)
class VectorJob:
    """An entry stored without vectors: its id, its distinct canonical items, and the vectors already known."""

    entry_id: int
    items: tuple[str, ...]
    known: dict[str, np.ndarray] = field(default_factory=dict)


def _lower_priority(nice: int) -> None:
    """Runs in the worker thread: on Linux `setpriority` on a thread id changes only that thread."""
    if nice > 0:
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                           os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) + nice)


class VectorWorker:
    """Embeds queued entries off the hot path and writes their vectors; `on_vectors` gets each batch's summaries."""

    def __init__(self, embedder: Embedder, store: CacheStore, *, queue_size: int,
                 on_vectors: Callable[[dict[int, np.ndarray]], None], nice: int = cache_default("cache_vector_nice"),
                 batch: int = 64) -> None:
        self.embedder = embedder
        self.nice = nice
        self.store = store
        self.on_vectors = on_vectors
        self.batch = batch
        self.embedded = 0  # entries whose vectors this worker wrote
        self.dropped = 0  # jobs refused by a full queue
        self.busy: Callable[[], bool] = lambda: False  # whether requests are being served (set by the layer)
        self._queue: asyncio.Queue[VectorJob] = asyncio.Queue(maxsize=queue_size)
        self._queued: set[int] = set()  # ids queued or being embedded
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="peptalk-cache-vectors")

    def queued(self, entry_id: int) -> bool:
        return entry_id in self._queued

    def room(self) -> int:
        """How many more jobs the queue takes now."""
        return self._queue.maxsize - self._queue.qsize()

    def offer(self, job: VectorJob) -> bool:
        """Queues the job without waiting; False (and the entry stays without vectors) when the queue is full."""
        if job.entry_id in self._queued:
            return True
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        self._queued.add(job.entry_id)
        return True

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            waited = loop.time() + MAX_WAIT_S
            while self.busy() and loop.time() < waited:  # between requests, or a batch of what came meanwhile
                await asyncio.sleep(IDLE_POLL_S)
            while len(jobs) < self.batch and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peptalk-cache-vectors",
                                                        initializer=_lower_priority, initargs=(self.nice,))
                summaries = await loop.run_in_executor(self._executor, self.compute, jobs)
                self.embedded += len(summaries)
                self.on_vectors(summaries)
            except Exception:
                log.exception("computing cache vectors failed; maintenance offers the entries again")
            finally:
                for job in jobs:
                    self._queued.discard(job.entry_id)
                    self._queue.task_done()

    def compute(self, jobs: Sequence[VectorJob]) -> dict[int, np.ndarray]:
        """Embeds every job's missing items in one call and writes their vectors in one transaction; returns the
        summaries of the entries that still existed."""
        known: dict[str, np.ndarray] = {}
        for job in jobs:
            known.update(job.known)
        missing = list(dict.fromkeys(item for job in jobs for item in job.items if item not in known))
        if missing:
            known.update(zip(missing, self.embedder.embed(missing), strict=True))
        vectors = {}
        for job in jobs:
            matrix = item_matrix(job.items, known, self.embedder.dim)
            vectors[job.entry_id] = (matrix, summary_vector(matrix, self.embedder.dim))
        return {entry_id: vectors[entry_id][1] for entry_id in self.store.set_vectors(vectors)}

    async def drain(self) -> None:
        """Waits until every queued job is done."""
        await self._queue.join()

    async def aclose(self) -> None:
        """Stops the worker; queued jobs are left to maintenance (of this process after a restart, or another)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


__all__ = ["VectorJob", "VectorWorker", "item_matrix", "summary_vector"]
