"""The online audit of semantic hits: a share of them is answered again by the model, off the hot path, and both
answers are logged with both requests, so that ops can review (or judge) real false hits.

Like shadow traffic: enqueuing never waits (a full queue drops the case and counts it), one worker calls the
layer below the cache, and each case is written to `cache_audits` in the app's database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, insert, select

from peptalk.cache.sql_store import cache_audits
from peptalk.metrics import CACHE_AUDITS
from router.call import Call, ChatLayer, facts_of

log = logging.getLogger("peptalk.cache")


@dataclass
class AuditCase:
    """One audited semantic hit."""

    request_id: str
    entry_id: int
    scope: str
    model: str
    similarity: float
    evidence: dict[str, Any]
    stored_request: dict[str, Any]
    new_request: dict[str, Any]
    cached_text: str
    fresh_text: str | None = None
    fresh_model: str | None = None
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    id: int | None = None


class AuditLog:
    """The `cache_audits` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def write(self, case: AuditCase) -> int:
        row = {name: getattr(case, name) for name in (
            "created_at", "request_id", "entry_id", "scope", "model", "similarity", "evidence", "stored_request",
            "new_request", "cached_text", "fresh_text", "fresh_model", "error")}
        with self.engine.begin() as connection:
            return int(connection.execute(insert(cache_audits).returning(cache_audits.c.id), row).scalar_one())

    def read(self, *, since: float | None = None, limit: int | None = None) -> Iterator[AuditCase]:
        query = select(cache_audits).order_by(cache_audits.c.id.desc())
        if since is not None:
            query = query.where(cache_audits.c.created_at >= since)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        for row in rows:
            yield AuditCase(**{column: getattr(row, column) for column in row._fields})

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(cache_audits)) or 0)


class CacheAuditor:
    """Regenerates `share` of the semantic hits in the background and logs each case."""

    def __init__(self, log_: AuditLog, *, share: float, queue_size: int = 100,
                 chance: Callable[[], float] = random.random) -> None:
        self.log = log_
        self.share = share
        self.chance = chance
        self.written = 0
        self._queue: asyncio.Queue[tuple[AuditCase, Call, ChatLayer]] = asyncio.Queue(maxsize=queue_size)
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name="peptalk-cache-audit")

    def offer(self, case: AuditCase, call: Call, inner: ChatLayer) -> bool:
        """Queues the case with probability `share`; never waits. True when queued."""
        if self.share <= 0 or self.chance() >= self.share:
            return False
        try:
            self._queue.put_nowait((case, call, inner))
        except asyncio.QueueFull:
            CACHE_AUDITS.labels("dropped").inc()
            return False
        return True

    async def _run(self) -> None:
        while True:
            case, call, inner = await self._queue.get()
            try:
                await self._audit(case, call, inner)
            finally:
                self._queue.task_done()

    async def _audit(self, case: AuditCase, call: Call, inner: ChatLayer) -> None:
        parts: list[str] = []
        try:
            async for chunk in inner.astream(call):
                if case.fresh_model is None:
                    facts = facts_of(chunk)
                    case.fresh_model = facts.model if facts else None
                parts.append(chunk.text)
            case.fresh_text = "".join(parts)
        except Exception as exc:  # the audit must never fail the service
            case.error = f"{type(exc).__name__}: {exc}"
        try:
            case.id = await asyncio.to_thread(self.log.write, case)
            self.written += 1
            CACHE_AUDITS.labels("error" if case.error else "logged").inc()
        except Exception:
            log.exception("writing a cache audit case failed", extra={"request_id": case.request_id})
            CACHE_AUDITS.labels("dropped").inc()

    async def drain(self) -> None:
        """Waits until every queued case is logged."""
        await self._queue.join()

    async def aclose(self, timeout_s: float = 30.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), timeout_s)
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None


__all__ = ["AuditCase", "AuditLog", "CacheAuditor"]
