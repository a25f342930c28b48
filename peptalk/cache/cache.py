"""`SemanticCache`: lookups, inserts, TTL, LRU eviction and snapshots over an embedder, an index and a store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from peptalk.cache.base import CacheEntry, CacheStore, Embedder, VectorIndex
from peptalk.cache.errors import SnapshotError
from peptalk.cache.keys import CacheKey, VectorLayout
from peptalk.cache.snapshot import Snapshot, SnapshotDir
from peptalk.metrics import CACHE_ENTRIES
from peptalk.schema import LIST_FIELDS

log = logging.getLogger("peptalk.cache")
CANDIDATES = 8  # nearest vectors checked per lookup; entries under other keys rank below every real candidate


@dataclass
class CacheHit:
    """A cached answer that matched, with the lowest per-list cosine similarity (what the threshold applies to)."""

    entry: CacheEntry
    similarity: float


class SemanticCache:
    """Answers stored under an exact key plus per-list embeddings; everything but embedding runs on the event loop."""

    def __init__(self, *, embedder: Embedder, index_factory: Callable[[int], VectorIndex], store: CacheStore,
                 snapshots: SnapshotDir | None = None, threshold: float = 0.95, ttl_s: float = 86400.0,
                 capacity: int = 10000, save_interval_s: float = 300.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.embedder = embedder
        self.layout = VectorLayout(sections=len(LIST_FIELDS), dim=embedder.dim)
        self.index = index_factory(self.layout.dim)
        self.store = store
        self.snapshots = snapshots
        self.threshold = threshold
        self.ttl_s = ttl_s
        self.capacity = capacity
        self.save_interval_s = save_interval_s
        self.clock = clock
        self._executor: ThreadPoolExecutor | None = None
        self._changes = 0  # mutations since the last save
        self._save_lock = asyncio.Lock()
        self._maintainer: asyncio.Task[None] | None = None

    # -- embedding (a worker thread: it is the only slow step)

    async def embed(self, sections: Sequence[str]) -> np.ndarray:
        """One unit vector per list text, computed off the event loop."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peptalk-cache-embed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.embedder.embed, list(sections))

    # -- lookups and inserts

    def lookup(self, key: CacheKey, sections: np.ndarray) -> CacheHit | None:
        """The best live entry under `key` whose every list is at least `threshold` similar, if any."""
        digest = key.digest()
        query = self.layout.compose(sections, digest)
        # The mean over parts is at least the threshold whenever every part is, so this drops nothing.
        found = [entry_id for entry_id, score in self.index.search(query, CANDIDATES) if score >= self.threshold - 1e-4]
        if not found:
            return None
        entries = self.store.get(found)
        now = self.clock()
        candidates = [entry_id for entry_id in found if entry_id in entries and entries[entry_id].key == digest
                      and entries[entry_id].created_at >= now - self.ttl_s]
        best: CacheHit | None = None
        for entry_id, stored in zip(candidates, self.index.vectors(candidates), strict=True):
            similarity = float(self.layout.section_similarities(query, stored).min())
            if similarity >= self.threshold and (best is None or similarity > best.similarity):
                best = CacheHit(entries[entry_id], min(similarity, 1.0))
        if best is not None:
            self._touch(best.entry, now)
        return best

    def exact(self, key: CacheKey, content_hash: str, *, touch: bool = True) -> CacheHit | None:
        """The newest live entry stored for this exact request (same key, same content), found without embedding.

        Such an entry is also what `lookup` would find (every list at similarity 1), so this is a shortcut,
        not a second policy. `touch=False` only looks.
        """
        found = self.store.find(key.digest(), content_hash)
        if not found:
            return None
        now = self.clock()
        live = [entry for entry in self.store.get(found).values() if entry.created_at >= now - self.ttl_s]
        if not live:
            return None
        entry = max(live, key=lambda candidate: candidate.created_at)
        if touch:
            self._touch(entry, now)
        return CacheHit(entry, 1.0)

    def _touch(self, entry: CacheEntry, now: float) -> None:
        if entry.id is not None:
            self.store.touch(entry.id, now)
            entry.hits += 1
            entry.last_used_at = now
            self._changes += 1

    def put(self, key: CacheKey, sections: np.ndarray, *, content_hash: str, text: str, model: str) -> int:
        """Stores an answer (replacing one for the identical request) and evicts the least recently used beyond capacity."""
        digest = key.digest()
        self.remove(self.store.find(digest, content_hash))
        now = self.clock()
        entry = CacheEntry(key=digest, scope=key.scope, model=model, content_hash=content_hash, text=text,
                           created_at=now, last_used_at=now)
        entry_id = self.store.add(entry)
        self.index.add([entry_id], self.layout.compose(sections, digest)[None, :])
        overflow = len(self.store) - self.capacity
        if overflow > 0:
            self.remove(self.store.least_recently_used(overflow))
        self._changes += 1
        CACHE_ENTRIES.set(len(self.store))
        return entry_id

    def remove(self, ids: Sequence[int]) -> None:
        if ids:
            self.store.delete(ids)
            self.index.remove(ids)
            self._changes += 1
            CACHE_ENTRIES.set(len(self.store))

    def forget_user(self, user_id: str) -> int:
        """Deletes every entry cached for `user_id` (scope `user:<id>`, as `SemanticCacheLayer` keys it); returns how many.

        Entries in the `shared` scope hold no personal data by that scope's contract, so they stay.
        """
        ids = self.store.in_scope(f"user:{user_id}")
        self.remove(ids)
        return len(ids)

    def purge_expired(self) -> int:
        """Deletes entries past their TTL; returns how many."""
        expired = self.store.created_before(self.clock() - self.ttl_s)
        self.remove(expired)
        return len(expired)

    def __len__(self) -> int:
        return len(self.store)

    # -- snapshots

    def snapshot(self) -> Snapshot:
        return Snapshot(index=self.index.to_bytes(), store=self.store.to_bytes())

    def restore(self, snapshot: Snapshot) -> None:
        """Replaces the contents with a snapshot's; `SnapshotError` when index and metadata disagree."""
        try:
            self.store.load_bytes(snapshot.store)
            keep = self.store.ids()
            self.index.load_bytes(snapshot.index, keep=keep)
        except SnapshotError:
            raise
        except Exception as exc:  # faiss and sqlite raise their own types on corrupt data
            raise SnapshotError(f"unreadable cache snapshot: {exc!r}") from exc
        missing = keep - self.index.ids()
        if missing:
            raise SnapshotError(f"{len(missing)} entries have no vector in the index")
        CACHE_ENTRIES.set(len(self.store))

    async def save(self) -> str | None:
        """Writes a snapshot generation when something changed since the last one; returns its name."""
        if self.snapshots is None:
            return None
        async with self._save_lock:
            if self._changes == 0:
                return None
            changes, snapshot = self._changes, self.snapshot()  # taken on the loop, so it is consistent
            name = await asyncio.to_thread(self.snapshots.save, snapshot)
            self._changes -= changes
            log.info("cache saved", extra={"generation": name, "entries": len(self.store)})
            return name

    async def load(self) -> None:
        """Loads the last complete snapshot, if any; a bad one is logged and the cache starts empty."""
        if self.snapshots is None:
            return
        try:
            snapshot = await asyncio.to_thread(self.snapshots.load)
            if snapshot is not None:
                self.restore(snapshot)
                self.purge_expired()
        except SnapshotError:
            log.exception("cache snapshot not loaded; starting empty")
        self._changes = 0

    # -- life cycle

    async def start(self, *, warm: bool = True) -> None:
        """Loads the snapshot, loads the embedder in the background, and starts periodic purge-and-save."""
        await self.load()
        if warm and hasattr(self.embedder, "load"):
            self._executor = self._executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="peptalk-cache-embed")
            self._executor.submit(self.embedder.load)
        self._maintainer = asyncio.create_task(self._maintain(), name="peptalk-cache-maintainer")

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self.save_interval_s)
            try:
                self.purge_expired()
                await self.save()
            except Exception:
                log.exception("periodic cache save failed; the previous generation stays current")

    async def aclose(self) -> None:
        """Stops the periodic task and saves a last snapshot."""
        if self._maintainer is not None:
            self._maintainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintainer
            self._maintainer = None
        self.purge_expired()
        await self.save()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
