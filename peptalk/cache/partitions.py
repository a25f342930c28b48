"""Each process's in-memory view of the shared cache: one partition per exact key, refreshed from the database.

A lookup compares a request only with entries under its own exact key. A small partition (a user's handful of
entries) is searched exactly with numpy: the nearest `k` by the cosine of the summary vectors (every entry when it
holds no more than `k`). A large one (the shared scope) is searched by FAISS (flat, then HNSW).

Entries are found by id: ids only grow, so `refresh` asks the database for ids above the highest one seen
(`PEPTALK_CACHE_SYNC_INTERVAL_S` apart at most), and an answer stored by another process is found here within
that interval. Deleted entries are dropped when a lookup finds them gone, and at each `reconcile`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from peptalk.cache.base import CacheStore, IndexRow, VectorIndex
from peptalk.cache.canonical import CanonicalContent


class Partition:
    """The entries under one exact key: their canonical contents and summary vectors."""

    def __init__(self, *, dim: int, faiss_above: int, index_factory: Callable[[int], VectorIndex]) -> None:
        self.dim = dim
        self.faiss_above = faiss_above
        self.index_factory = index_factory
        self.contents: dict[int, CanonicalContent] = {}
        self.summaries: dict[int, np.ndarray] = {}
        self.index: VectorIndex | None = None
        self._matrix: tuple[list[int], np.ndarray] | None = None

    def add(self, rows: list[IndexRow]) -> None:
        """Adds entries (already known ids are skipped); a bulk add builds or grows the FAISS index at once."""
        fresh = [row for row in rows if row.id not in self.contents]
        if not fresh:
            return
        for row in fresh:
            self.contents[row.id] = row.canonical
            self.summaries[row.id] = row.summary
        self._matrix = None
        if self.index is None and len(self.contents) > self.faiss_above:
            self.index = self.index_factory(self.dim)
            fresh = [IndexRow(entry_id, "", self.contents[entry_id], summary)
                     for entry_id, summary in self.summaries.items()]
        if self.index is not None:
            self.index.add([row.id for row in fresh], np.stack([row.summary for row in fresh]))

    def remove(self, entry_id: int) -> None:
        if self.contents.pop(entry_id, None) is not None:
            self.summaries.pop(entry_id, None)
            self._matrix = None
            if self.index is not None:
                self.index.remove([entry_id])

    def __len__(self) -> int:
        return len(self.contents)

    def candidates(self, summary: np.ndarray, k: int) -> list[int]:
        """The nearest `k` entry ids, nearest first: exactly (numpy) in a small partition, by FAISS in a large one."""
        if self.index is not None:
            return [entry_id for entry_id, _ in self.index.search(summary, k)]
        if self._matrix is None:
            ids = list(self.summaries)
            self._matrix = ids, (np.stack([self.summaries[entry_id] for entry_id in ids]) if ids
                                 else np.empty((0, self.dim), np.float32))
        ids, matrix = self._matrix
        if not ids:
            return []
        scores = matrix @ summary
        nearest = np.argpartition(-scores, k)[:k] if len(ids) > k else np.arange(len(ids))
        order = nearest[np.argsort(-scores[nearest], kind="stable")]
        return [ids[position] for position in order]


class PartitionIndex:
    """Every partition this process knows, kept up to date with the shared store."""

    def __init__(self, store: CacheStore, *, dim: int, faiss_above: int, index_factory: Callable[[int], VectorIndex],
                 sync_interval_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.dim = dim
        self.faiss_above = faiss_above
        self.index_factory = index_factory
        self.sync_interval_s = sync_interval_s
        self.monotonic = monotonic
        self.partitions: dict[str, Partition] = {}
        self.keys: dict[int, str] = {}  # entry id -> its partition's key
        self.watermark = 0  # the highest id read from the store
        self._synced_at = float("-inf")

    def add(self, rows: list[IndexRow]) -> None:
        by_key: dict[str, list[IndexRow]] = {}
        for row in rows:
            by_key.setdefault(row.key, []).append(row)
        for key, group in by_key.items():
            partition = self.partitions.get(key)
            if partition is None:
                partition = self.partitions[key] = Partition(dim=self.dim, faiss_above=self.faiss_above,
                                                             index_factory=self.index_factory)
            partition.add(group)
            self.keys.update((row.id, key) for row in group)

    def remove(self, ids: list[int] | set[int]) -> None:
        for entry_id in ids:
            key = self.keys.pop(entry_id, None)
            if key is not None:
                partition = self.partitions[key]
                partition.remove(entry_id)
                if not len(partition):
                    del self.partitions[key]

    def refresh(self, *, force: bool = False) -> int:
        """Reads entries added since the last refresh (by any process); returns how many."""
        now = self.monotonic()
        if not force and now - self._synced_at < self.sync_interval_s:
            return 0
        self._synced_at = now
        added = 0
        while True:
            rows = self.store.since(self.watermark)
            self.add(rows)
            self.watermark = max([self.watermark, *(row.id for row in rows)])
            added += len(rows)
            if len(rows) < 10_000:
                return added

    def reconcile(self, live: set[int]) -> int:
        """Drops entries the store no longer has (deleted by any process); returns how many."""
        gone = set(self.keys) - live
        self.remove(gone)
        return len(gone)

    def candidates(self, key: str, summary: np.ndarray, k: int) -> list[tuple[int, CanonicalContent]]:
        partition = self.partitions.get(key)
        if partition is None:
            return []
        return [(entry_id, partition.contents[entry_id]) for entry_id in partition.candidates(summary, k)
                if entry_id in partition.contents]

    def __len__(self) -> int:
        return len(self.keys)


__all__ = ["Partition", "PartitionIndex"]
