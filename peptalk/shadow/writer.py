"""Batches finished pairs into the store: one commit per `batch_size` rows or per `flush_interval_s`."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from peptalk.metrics import SHADOW_DROPPED
from peptalk.records import ShadowExportRow
from peptalk.shadow.base import ShadowStore

log = logging.getLogger("peptalk.shadow")


class BatchWriter:
    """Buffers rows in memory and commits them in batches; a row is acknowledged once its batch commits.

    A failed commit is retried on the next tick (writes are idempotent on `pair_id`). A batch that keeps
    failing is written row by row, and only the rows that still fail are dropped and counted.
    """

    def __init__(self, store: ShadowStore, *, batch_size: int, flush_interval_s: float,
                 max_pending: int = 10_000, max_attempts: int = 3) -> None:
        self.store = store
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_pending = max_pending
        self.max_attempts = max_attempts
        self.committed = 0  # rows acknowledged by this writer
        self._pending: list[ShadowExportRow] = []
        self._failures = 0
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="shadow-writer")

    def add(self, row: ShadowExportRow) -> None:
        """Queues `row` for the next commit; never blocks."""
        self._pending.append(row)
        if len(self._pending) > self.max_pending:
            del self._pending[0]
            SHADOW_DROPPED.labels(reason="write_backlog").inc()
        if len(self._pending) >= self.batch_size:
            self._wake.set()

    async def discard(self, user_ids: set[str]) -> int:
        """Drops pending rows stored under these user ids (erasure); waits for a batch being written to finish."""
        async with self._lock:
            before = len(self._pending)
            self._pending = [row for row in self._pending if row.user_id not in user_ids]
            return before - len(self._pending)

    async def _run(self) -> None:
        while not self._closing:
            full_only = True
            try:
                await asyncio.wait_for(self._wake.wait(), self.flush_interval_s)
            except TimeoutError:
                full_only = False
            self._wake.clear()
            await self.flush(full_only=full_only and not self._closing)

    async def flush(self, *, full_only: bool = False) -> int:
        """Commits what is pending (only whole batches if `full_only`); returns how many rows were acknowledged."""
        acknowledged = 0
        async with self._lock:
            while self._pending and not (full_only and len(self._pending) < self.batch_size):
                batch = self._pending[: self.batch_size]
                stored = batch
                try:
                    await asyncio.to_thread(self.store.write, batch)
                except Exception:
                    self._failures += 1
                    log.exception("shadow batch commit failed", extra={"rows": len(batch), "attempt": self._failures})
                    if self._failures < self.max_attempts:
                        break
                    stored = await self._write_one_by_one(batch)
                self._failures = 0
                del self._pending[: len(batch)]
                acknowledged += len(stored)
                self.committed += len(stored)
                log.info("shadow batch committed", extra={"rows": len(stored),
                                                          "pair_ids": [row.pair_id for row in stored]})
        return acknowledged

    async def _write_one_by_one(self, batch: list[ShadowExportRow]) -> list[ShadowExportRow]:
        stored = []
        for row in batch:
            try:
                await asyncio.to_thread(self.store.write, [row])
            except Exception:
                log.exception("shadow row dropped: it cannot be stored", extra={"pair_id": row.pair_id})
                SHADOW_DROPPED.labels(reason="write_failed").inc()
            else:
                stored.append(row)
        return stored

    async def aclose(self) -> None:
        """Stops the timer and commits what is pending (one last try)."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._failures = self.max_attempts - 1  # the last chance: a failing batch goes row by row
        await self.flush()
