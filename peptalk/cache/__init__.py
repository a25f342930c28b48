"""The semantic cache: tenant-scoped, bounded and persistent, served as a `ChatLayer` above the router."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from peptalk.cache.base import CacheEntry, CacheStore, Embedder, VectorIndex
from peptalk.cache.cache import CacheHit, SemanticCache
from peptalk.cache.embedder import MiniLMEmbedder
from peptalk.cache.errors import CacheError, SnapshotError
from peptalk.cache.faiss_index import FaissIndex
from peptalk.cache.keys import CacheKey
from peptalk.cache.layer import CACHE_MODES, CacheMode, SemanticCacheLayer, pinned_or_default_model
from peptalk.cache.snapshot import SnapshotDir
from peptalk.cache.sqlite_store import SqliteCacheStore

if TYPE_CHECKING:
    from peptalk.settings import Settings


def build_semantic_cache(settings: Settings, *, embedder: Embedder | None = None) -> SemanticCache:
    """The cache the settings describe: MiniLM, FAISS and SQLite, saved under `cache_dir` (or `data_dir`)."""
    return SemanticCache(
        embedder=embedder or MiniLMEmbedder(),
        index_factory=partial(FaissIndex, hnsw_above=settings.cache_hnsw_above,
                              ef_search=settings.cache_hnsw_ef_search),
        store=SqliteCacheStore(),
        snapshots=SnapshotDir(settings.cache_dir or settings.data_dir / "semantic_cache"),
        threshold=settings.cache_threshold,
        ttl_s=settings.cache_ttl_s,
        capacity=settings.cache_capacity,
        save_interval_s=settings.cache_save_interval_s,
    )


__all__ = [
    "CACHE_MODES",
    "CacheEntry",
    "CacheError",
    "CacheHit",
    "CacheKey",
    "CacheMode",
    "CacheStore",
    "Embedder",
    "FaissIndex",
    "MiniLMEmbedder",
    "SemanticCache",
    "SemanticCacheLayer",
    "SnapshotDir",
    "SnapshotError",
    "SqliteCacheStore",
    "VectorIndex",
    "build_semantic_cache",
    "pinned_or_default_model",
]
