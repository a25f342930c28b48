"""Each process's in-memory view of the shared cache: one partition per exact key, refreshed from the database.

A lookup compares a request only with entries under its own exact key. A small partition (up to `k` entries: a
user's handful) is compared whole, entry by entry, with no vector at all. A larger one is searched by the cosine
of the summary vectors, exactly with numpy, or by FAISS (flat, then HNSW) beyond `PEPTALK_CACHE_FAISS_ABOVE`.

Entries are stored without vectors. Only a partition of `k` entries or more (searched by vector, or about to be)
needs them (`to_embed`), and gets them from a background worker: until then its search cannot find them, so its
newest `k` entries without vectors are compared as well. A smaller one (a user's day: the common case) never
needs them; the match decision embeds the few items it compares, on a hit only.

Entries are found by id: ids only grow, so `refresh` asks the database for ids above the highest one seen
(`PEPTALK_CACHE_SYNC_INTERVAL_S` apart at most), and an answer stored by another process is found here within
that interval; the summaries other processes computed since are read at the same time, for partitions searched by
vector. Deleted entries are dropped when a lookup finds them gone, and at each `reconcile`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import numpy as np

from peptalk.cache.base import CacheStore, IndexRow, VectorIndex
from peptalk.cache.canonical import CanonicalContent


def shape(content: CanonicalContent) -> tuple[int, ...]:
    """How many items each list holds: entries of another shape can never match (the first check of `decide`)."""
    return tuple(len(items) for items in content.lists)


class Partition:
    """The entries under one exact key: their canonical contents, and the summary vectors of those embedded."""

    def __init__(self, *, dim: int, faiss_above: int, index_factory: Callable[[int], VectorIndex]) -> None:
        self.dim = dim
        self.faiss_above = faiss_above
        self.index_factory = index_factory
        self.contents: dict[int, CanonicalContent] = {}
        self.summaries: dict[int, np.ndarray] = {}
        self.pending: dict[int, None] = {}  # ids whose vectors are not computed yet, oldest first
        self.index: VectorIndex | None = None
        self._matrix: tuple[list[int], np.ndarray] | None = None

    def add(self, rows: list[IndexRow]) -> None:
        """Adds entries (already known ids are skipped); those with a summary are searchable by it at once."""
        fresh = [row for row in rows if row.id not in self.contents]
        for row in fresh:
            self.contents[row.id] = row.canonical
            if row.summary is None:
                self.pending[row.id] = None
        self.set_summaries({row.id: row.summary for row in fresh if row.summary is not None})

    def set_summaries(self, summaries: dict[int, np.ndarray]) -> None:
        """Makes entries searchable by their summary; a bulk add builds or grows the FAISS index at once."""
        fresh = {entry_id: summary for entry_id, summary in summaries.items()
                 if entry_id in self.contents and entry_id not in self.summaries}
        if not fresh:
            return
        for entry_id in fresh:
            self.pending.pop(entry_id, None)
        self.summaries.update(fresh)
        self._matrix = None
        if self.index is None and len(self.summaries) > self.faiss_above:
            self.index = self.index_factory(self.dim)
            fresh = dict(self.summaries)
        if self.index is not None:
            self.index.add(list(fresh), np.stack(list(fresh.values())))

    def remove(self, entry_id: int) -> None:
        if self.contents.pop(entry_id, None) is not None:
            self.pending.pop(entry_id, None)
            if self.summaries.pop(entry_id, None) is not None:
                self._matrix = None
                if self.index is not None:
                    self.index.remove([entry_id])

    def __len__(self) -> int:
        return len(self.contents)

    def searched(self, k: int) -> bool:
        """Whether candidates are found by vector search (more than `k` entries) rather than all compared."""
        return len(self.contents) > k

    def candidates(self, wanted: tuple[int, ...], summary: np.ndarray | None, k: int) -> list[int]:
        """Entry ids of shape `wanted` to compare, the likeliest first.

        Up to `k` entries: all of them, newest first, with no vector needed. More: the nearest `k` by the cosine
        of the summaries (numpy exactly, or FAISS), then the newest `k` entries not embedded yet.
        """
        if not self.searched(k):
            return [entry_id for entry_id in reversed(self.contents) if shape(self.contents[entry_id]) == wanted]
        if summary is None:
            raise ValueError("a partition of more than k entries is searched by the request's summary vector")
        nearest = self._nearest(summary, k)
        recent = list(itertools.islice(reversed(self.pending), k))
        return [entry_id for entry_id in nearest + recent if shape(self.contents[entry_id]) == wanted]

    def _nearest(self, summary: np.ndarray, k: int) -> list[int]:
        if self.index is not None:
            return [entry_id for entry_id, _ in self.index.search(summary, k) if entry_id in self.contents]
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
                 sync_interval_s: float, k: int = 8, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.k = k
        self.dim = dim
        self.faiss_above = faiss_above
        self.index_factory = index_factory
        self.sync_interval_s = sync_interval_s
        self.monotonic = monotonic
        self.partitions: dict[str, Partition] = {}
        self.keys: dict[int, str] = {}  # entry id -> its partition's key
        self._searched: set[str] = set()  # keys of the partitions searched by vector (more than `k` entries)
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
            if partition.searched(self.k):
                self._searched.add(key)

    def remove(self, ids: list[int] | set[int]) -> None:
        for entry_id in ids:
            key = self.keys.pop(entry_id, None)
            if key is not None:
                partition = self.partitions[key]
                partition.remove(entry_id)
                if not partition.searched(self.k):
                    self._searched.discard(key)
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
                break
        waiting = self.pending(searched_only=True)[-10_000:]
        if waiting:
            self.set_summaries(self.store.summaries(waiting))
        return added

    def reconcile(self, live: set[int]) -> int:
        """Drops entries the store no longer has (deleted by any process); returns how many."""
        gone = set(self.keys) - live
        self.remove(gone)
        return len(gone)

    def set_summaries(self, summaries: dict[int, np.ndarray]) -> None:
        """Summaries computed (here or by another process) for entries read without them."""
        by_key: dict[str, dict[int, np.ndarray]] = {}
        for entry_id, summary in summaries.items():
            key = self.keys.get(entry_id)
            if key is not None:
                by_key.setdefault(key, {})[entry_id] = summary
        for key, group in by_key.items():
            self.partitions[key].set_summaries(group)

    def pending(self, *, searched_only: bool = False) -> list[int]:
        """Ids whose vectors are not computed yet (`searched_only`: in partitions searched by vector)."""
        partitions = ([self.partitions[key] for key in self._searched] if searched_only
                      else list(self.partitions.values()))
        return [entry_id for partition in partitions for entry_id in partition.pending]

    def to_embed(self, key: str) -> list[tuple[int, tuple[str, ...]]]:
        """(id, items) of the entries under `key` still without vectors, when the partition holds `k` entries or
        more (it is searched by vector, or will be with one more); none for a smaller one."""
        partition = self.partitions.get(key)
        if partition is None or len(partition) < self.k:
            return []
        return [(entry_id, tuple(partition.contents[entry_id].items())) for entry_id in partition.pending]

    def partition(self, key: str) -> Partition | None:
        return self.partitions.get(key)

    def __len__(self) -> int:
        return len(self.keys)


__all__ = ["Partition", "PartitionIndex"]
