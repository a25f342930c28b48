"""The semantic cache's interfaces: the embedder, the vector index and the entry store."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from peptalk.cache.canonical import CanonicalContent


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of `dim` dimensions (one row per text)."""

    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class VectorIndex(abc.ABC):
    """Vectors under integer ids, searched by inner product (cosine on normalised vectors)."""

    dim: int

    @abc.abstractmethod
    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Adds `vectors` (one row per id); ids must be new."""

    @abc.abstractmethod
    def remove(self, ids: Sequence[int]) -> None:
        """Removes the given ids; unknown ids are ignored."""

    @abc.abstractmethod
    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The (at most) `k` nearest live ids to `query`, best first, with their inner products."""

    @abc.abstractmethod
    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of `ids`, one row each, in that order."""

    @abc.abstractmethod
    def ids(self) -> set[int]:
        """Every live id."""

    @abc.abstractmethod
    def __len__(self) -> int:
        """How many live vectors the index holds."""

    @abc.abstractmethod
    def to_bytes(self) -> bytes:
        """The whole index, serialised (for snapshots)."""

    @abc.abstractmethod
    def load_bytes(self, data: bytes, *, keep: set[int]) -> None:
        """Replaces the contents with a serialised index, keeping only the ids in `keep`."""


@dataclass
class CacheEntry:
    """One cached answer, what it was cached for, and the MiniLM vectors of its items (once computed).

    An entry is stored without vectors on the hot path; the background worker (`vectorizer.py`) adds them after
    the answer was sent. Until then it is found by its exact content and, in a small partition, by the match
    decision (which embeds what it compares); a large partition's vector search skips it.
    """

    key: str  # CacheKey.digest(): scope, model, dates, prompt template and generation settings
    scope: str  # "user:<id>" or "shared"
    model: str  # the `backend:model` that produced `text`
    content_hash: str  # CanonicalContent.digest(): equal for reordered, re-cased or re-punctuated requests
    request: dict[str, Any]  # the request's lists and dates as sent (for the audit log)
    canonical: CanonicalContent
    items: list[str]  # the distinct canonical items, in the order of `vectors`' rows
    vectors: np.ndarray | None  # one unit vector per item (float32); None until computed
    summary: np.ndarray | None  # the normalised mean of `vectors`: what large partitions search by
    text: str
    created_at: float  # wall-clock seconds (TTL)
    last_used_at: float  # wall-clock seconds (LRU)
    hits: int = 0
    id: int | None = None


@dataclass(frozen=True)
class IndexRow:
    """What a process keeps in memory of an entry to find candidates: no text, no item vectors."""

    id: int
    key: str
    canonical: CanonicalContent
    summary: np.ndarray | None  # None: the entry's vectors are not computed yet


class Stored(NamedTuple):
    """What storing an entry did: its id, the ids it replaced or evicted, and how many entries are left (None:
    not counted, because the ids alone show there are no more than the capacity)."""

    entry_id: int
    removed: list[int]
    size: int | None


class CacheStore(abc.ABC):
    """Cache entries in a database several app processes share; ids only grow, so `since` finds what is new."""

    # Whether a write is cheaper on the event loop than in a thread (a local file: no network round trips; a
    # thread's hop and its fight for the GIL cost more than the write).
    local: bool = False

    @abc.abstractmethod
    def migrate(self) -> None:
        """Creates or upgrades the tables."""

    @abc.abstractmethod
    def add(self, entry: CacheEntry) -> int:
        """Stores a new entry and returns its id."""

    @abc.abstractmethod
    def put(self, entry: CacheEntry, *, uses: dict[int, tuple[int, float]], capacity: int) -> Stored:
        """Stores a new entry in one transaction: writes pending hits, replaces the entries for the same key and
        content, and evicts the least recently used beyond `capacity`."""

    @abc.abstractmethod
    def set_vectors(self, vectors: dict[int, tuple[np.ndarray, np.ndarray]]) -> list[int]:
        """Writes item vectors and summaries (per id) in one transaction; returns the ids that still existed."""

    @abc.abstractmethod
    def summaries(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The summaries of those `ids` whose vectors are computed (by any process)."""

    @abc.abstractmethod
    def get(self, ids: Sequence[int]) -> dict[int, CacheEntry]:
        """The entries among `ids` that exist."""

    @abc.abstractmethod
    def find(self, key: str, content_hash: str) -> list[CacheEntry]:
        """The entries with exactly this key and canonical content."""

    @abc.abstractmethod
    def since(self, after_id: int, limit: int = 10_000) -> list[IndexRow]:
        """Entries with an id above `after_id`, lowest first (at most `limit`)."""

    @abc.abstractmethod
    def touch(self, uses: dict[int, tuple[int, float]]) -> None:
        """Records hits: per id, how many and the last time."""

    @abc.abstractmethod
    def delete(self, ids: Sequence[int]) -> None:
        """Deletes entries; unknown ids are ignored."""

    @abc.abstractmethod
    def in_scope(self, scope: str) -> list[int]:
        """Ids of every entry stored under `scope` (`user:<id>`: one user's entries, for erasure)."""

    @abc.abstractmethod
    def forget_scope(self, scope: str) -> int:
        """Deletes everything stored under `scope` (entries, audit cases); returns how many rows."""

    @abc.abstractmethod
    def least_recently_used(self, n: int) -> list[int]:
        """The `n` entries used longest ago, oldest first."""

    @abc.abstractmethod
    def created_before(self, when: float) -> list[int]:
        """Entries created before `when` (expired under a TTL)."""

    @abc.abstractmethod
    def ids(self) -> set[int]:
        """Every stored id."""

    @abc.abstractmethod
    def __len__(self) -> int:
        """How many entries are stored."""
