"""The semantic cache's interfaces: the embedder, the vector index and the metadata store."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


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
    """One cached answer and what it was cached for."""

    key: str  # hash of the exact part of the key: scope, model (unless left out) and the request's dates
    scope: str  # "user:<id>" or "shared"
    model: str  # the `backend:model` that produced `text`
    content_hash: str  # hash of the request's canonical content text
    text: str
    created_at: float  # wall-clock seconds (TTL)
    last_used_at: float  # wall-clock seconds (LRU)
    hits: int = 0
    id: int | None = None


class CacheStore(abc.ABC):
    """The metadata of cached entries: what each id answers, for whom, and when it was used."""

    @abc.abstractmethod
    def add(self, entry: CacheEntry) -> int:
        """Stores a new entry and returns its id (also used as its vector's id)."""

    @abc.abstractmethod
    def get(self, ids: Sequence[int]) -> dict[int, CacheEntry]:
        """The entries among `ids` that exist."""

    @abc.abstractmethod
    def find(self, key: str, content_hash: str) -> list[int]:
        """Ids of the entries with exactly this key and content."""

    @abc.abstractmethod
    def touch(self, entry_id: int, now: float) -> None:
        """Records a hit: bumps `hits` and sets `last_used_at`."""

    @abc.abstractmethod
    def delete(self, ids: Sequence[int]) -> None:
        """Deletes entries; unknown ids are ignored."""

    @abc.abstractmethod
    def in_scope(self, scope: str) -> list[int]:
        """Ids of every entry stored under `scope` (`user:<id>`: one user's entries, for erasure)."""

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

    @abc.abstractmethod
    def to_bytes(self) -> bytes:
        """Every entry, serialised (for snapshots)."""

    @abc.abstractmethod
    def load_bytes(self, data: bytes) -> None:
        """Replaces every entry with those of a serialised store."""
