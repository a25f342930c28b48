"""`SemanticCache`: exact and semantic lookups, inserts, TTL and LRU over a shared store and per-key partitions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from peptalk.cache.base import CacheEntry, CacheStore, Embedder, IndexRow, VectorIndex
from peptalk.cache.canonical import CanonicalContent
from peptalk.cache.keys import CacheKey, Generation
from peptalk.cache.match import Match, MatchPolicy, decide
from peptalk.cache.partitions import PartitionIndex
from peptalk.cache.settings import cache_default
from peptalk.metrics import CACHE_ENTRIES

log = logging.getLogger("peptalk.cache")
HitKind = Literal["exact", "semantic"]
ItemVectors = dict[str, np.ndarray]
FETCH = 4  # candidates read from the database at a time


@dataclass
class CacheHit:
    """A cached answer that may be served: found by its exact content, or by the match decision (with evidence)."""

    entry: CacheEntry
    kind: HitKind
    similarity: float
    match: Match | None = None

    def evidence(self) -> dict[str, Any]:
        """What the response metadata says about a semantic hit: the changed items and their similarities."""
        pairs = self.match.pairs if self.match else []
        return {"entry_id": self.entry.id, "changed_items": [
            {"list": pair.list_name, "stored": pair.stored, "new": pair.new, "similarity": round(pair.similarity, 4)}
            for pair in pairs]}


def summary_vector(vectors: np.ndarray, dim: int) -> np.ndarray:
    """The normalised mean of item vectors (zeros for a request with no items)."""
    if not len(vectors):
        return np.zeros(dim, np.float32)
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


class SemanticCache:
    """Answers shared through a database; each process searches its own in-memory partitions of it."""

    def __init__(self, *, embedder: Embedder, store: CacheStore, index_factory: Callable[[int], VectorIndex],
                 generation: Generation, policy: MatchPolicy = MatchPolicy(),
                 ttl_s: float = cache_default("cache_ttl_s"), capacity: int = cache_default("cache_capacity"),
                 faiss_above: int = cache_default("cache_faiss_above"), candidates: int = 8,
                 sync_interval_s: float = cache_default("cache_sync_interval_s"),
                 maintain_interval_s: float = cache_default("cache_maintain_interval_s"),
                 clock: Callable[[], float] = time.time) -> None:
        self.embedder = embedder
        self.store = store
        self.generation = generation
        self.policy = policy
        self.ttl_s = ttl_s
        self.capacity = capacity
        self.candidates = candidates
        self.maintain_interval_s = maintain_interval_s
        self.clock = clock
        self.index = PartitionIndex(store, dim=embedder.dim, faiss_above=faiss_above, index_factory=index_factory,
                                    sync_interval_s=sync_interval_s)
        self.audit: Any = None  # a CacheAuditor, when semantic hits are audited
        self._uses: dict[int, tuple[int, float]] = {}  # hits not yet written: id -> (count, last use)
        self._executor: ThreadPoolExecutor | None = None
        self._maintainer: asyncio.Task[None] | None = None
        self._started = False

    # -- embedding (a worker thread: it is the only slow step)

    async def embed(self, items: Sequence[str]) -> ItemVectors:
        """One unit vector per distinct item, computed off the event loop."""
        unique = list(dict.fromkeys(items))
        if not unique:
            return {}
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peptalk-cache-embed")
        vectors = await asyncio.get_running_loop().run_in_executor(self._executor, self.embedder.embed, unique)
        return dict(zip(unique, vectors, strict=True))

    # -- lookups

    def _live(self, entry: CacheEntry, now: float) -> bool:
        return entry.created_at >= now - self.ttl_s

    def exact(self, key: CacheKey, content: CanonicalContent, *, touch: bool = True) -> CacheHit | None:
        """The newest live entry for this request up to case, spacing, punctuation and order; no embedding."""
        now = self.clock()
        live = [entry for entry in self.store.find(key.digest(), content.digest()) if self._live(entry, now)]
        if not live:
            return None
        entry = max(live, key=lambda candidate: (candidate.created_at, candidate.id or 0))
        if touch:
            self._touch(entry, now)
        return CacheHit(entry, "exact", 1.0)

    def lookup(self, key: CacheKey, content: CanonicalContent, vectors: ItemVectors) -> tuple[CacheHit | None, Match | None]:
        """The best live entry under `key` that the match decision allows, and the decision on the nearest
        candidate when none does (why it missed)."""
        self.index.refresh()
        items = content.items()
        summary = summary_vector(np.stack([vectors[item] for item in items]) if items else np.empty((0, 0)),
                                 self.embedder.dim)
        shapes = [len(items_) for items_ in content.lists]
        candidates = [entry_id for entry_id, stored in self.index.candidates(key.digest(), summary, self.candidates)
                      if [len(items_) for items_ in stored.lists] == shapes]
        if not candidates:
            return None, None
        now = self.clock()
        nearest: Match | None = None
        for start in range(0, len(candidates), FETCH):  # the nearest first: usually the first fetch decides
            chunk = candidates[start:start + FETCH]
            entries = self.store.get(chunk)
            self.index.remove([entry_id for entry_id in chunk if entry_id not in entries])
            for entry_id in chunk:
                entry = entries.get(entry_id)
                if entry is None or not self._live(entry, now) or entry.key != key.digest():
                    continue
                table = dict(zip(entry.items, entry.vectors, strict=True)) | vectors
                match = decide(entry.canonical, content, lambda texts: np.stack([table[text] for text in texts]),
                               self.policy)
                if match.hit:
                    self._touch(entry, now)
                    return CacheHit(entry, "semantic", match.similarity, match), match
                nearest = nearest or match
        return None, nearest

    def _touch(self, entry: CacheEntry, now: float) -> None:
        if entry.id is not None:
            count, _ = self._uses.get(entry.id, (0, now))
            self._uses[entry.id] = (count + 1, now)
            entry.hits += 1
            entry.last_used_at = now

    # -- inserts and eviction

    async def put(self, key: CacheKey, content: CanonicalContent, vectors: ItemVectors, *, request: dict[str, Any],
                  text: str, model: str) -> int:
        """Stores an answer (replacing the one for the same request) and evicts the least recently used beyond
        capacity; the database work runs in a thread."""
        items = content.items()
        matrix = np.stack([vectors[item] for item in items]) if items else np.empty((0, self.embedder.dim), np.float32)
        now = self.clock()
        entry = CacheEntry(key=key.digest(), scope=key.scope, model=model, content_hash=content.digest(),
                           request=request, canonical=content, items=items, vectors=matrix,
                           summary=summary_vector(matrix, self.embedder.dim), text=text, created_at=now,
                           last_used_at=now)
        uses, self._uses = self._uses, {}
        entry_id, removed = await asyncio.to_thread(self._store, entry, uses)
        self.index.remove(removed)
        self.index.add([IndexRow(entry_id, entry.key, content, entry.summary)])
        return entry_id

    def _store(self, entry: CacheEntry, uses: dict[int, tuple[int, float]]) -> tuple[int, list[int]]:
        self.store.touch(uses)  # so that eviction sees the latest uses
        replaced = [old.id for old in self.store.find(entry.key, entry.content_hash) if old.id is not None]
        self.store.delete(replaced)
        entry_id = self.store.add(entry)
        size = len(self.store)
        evicted = self.store.least_recently_used(size - self.capacity) if size > self.capacity else []
        self.store.delete(evicted)
        CACHE_ENTRIES.set(size - len(evicted))
        return entry_id, replaced + evicted

    def remove(self, ids: Sequence[int]) -> None:
        self.store.delete(ids)
        self.index.remove(list(ids))

    def forget_user(self, user_id: str) -> int:
        """Deletes every entry and audit case cached for `user_id` (scope `user:<id>`); returns how many rows.

        Entries in the `shared` scope hold no personal data by that scope's contract, so they stay.
        """
        scope = f"user:{user_id}"
        ids = self.store.in_scope(scope)
        self.index.remove(ids)
        return self.store.forget_scope(scope)  # the entries and the audit cases that quote the user's requests

    def purge_expired(self) -> int:
        """Deletes entries past their TTL; returns how many."""
        expired = self.store.created_before(self.clock() - self.ttl_s)
        self.remove(expired)
        return len(expired)

    def flush_uses(self) -> None:
        uses, self._uses = self._uses, {}
        self.store.touch(uses)

    def __len__(self) -> int:
        return len(self.store)

    # -- life cycle

    async def start(self, *, warm: bool = True) -> None:
        """Migrates the tables, reads every entry into the partitions, and starts the maintenance task."""
        await asyncio.to_thread(self.store.migrate)
        await asyncio.to_thread(self.index.refresh, force=True)
        CACHE_ENTRIES.set(len(self.index))
        if warm and hasattr(self.embedder, "load"):
            self._executor = self._executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="peptalk-cache-embed")
            self._executor.submit(self.embedder.load)
        if self.audit is not None:
            self.audit.start()
        self._maintainer = asyncio.create_task(self._maintain(), name="peptalk-cache-maintainer")

    async def maintain(self) -> None:
        """Writes pending hits, purges expired entries and drops entries other processes deleted."""
        uses, self._uses = self._uses, {}
        await asyncio.to_thread(self.store.touch, uses)
        expired = await asyncio.to_thread(self.store.created_before, self.clock() - self.ttl_s)
        await asyncio.to_thread(self.store.delete, expired)
        live = await asyncio.to_thread(self.store.ids)
        self.index.refresh(force=True)
        self.index.reconcile(live)
        CACHE_ENTRIES.set(len(live))

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self.maintain_interval_s)
            try:
                await self.maintain()
            except Exception:
                log.exception("cache maintenance failed; it is tried again")

    async def aclose(self) -> None:
        """Stops maintenance, drains the audit queue and writes pending hits."""
        if self._maintainer is not None:
            self._maintainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintainer
            self._maintainer = None
        if self.audit is not None:
            await self.audit.aclose()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.flush_uses)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


__all__ = ["CacheHit", "HitKind", "ItemVectors", "SemanticCache", "summary_vector"]
