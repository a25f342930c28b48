"""The semantic cache: exact keys, item-level match decisions, shared through the app's database, served as a
`ChatLayer` above the router."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from peptalk.cache.audit import AuditCase, AuditLog, CacheAuditor
from peptalk.cache.base import CacheEntry, CacheStore, Embedder, IndexRow, VectorIndex
from peptalk.cache.cache import CacheHit, SemanticCache
from peptalk.cache.canonical import CanonicalContent, canonical_item
from peptalk.cache.embedder import MiniLMEmbedder
from peptalk.cache.errors import CacheError, CacheStoreError
from peptalk.cache.faiss_index import FaissIndex
from peptalk.cache.keys import CacheKey, Generation, template_version
from peptalk.cache.layer import CACHE_MODES, CacheMode, SemanticCacheLayer, pinned_or_default_model
from peptalk.cache.match import Match, MatchPolicy, decide
from peptalk.cache.sql_store import SqlCacheStore

if TYPE_CHECKING:
    from peptalk.settings import Settings


def generation_of(settings: Settings) -> Generation:
    """The prompt template's version and the generation settings answers are written under."""
    from peptalk.prompt import template_text

    return Generation(template=template_version(template_text(settings.prompt_template)), temperature=settings.temperature,
                      max_tokens=settings.max_tokens)


def policy_of(settings: Settings) -> MatchPolicy:
    return MatchPolicy(item_threshold=settings.cache_item_threshold, reword_threshold=settings.cache_reword_threshold,
                       max_changed_items=settings.cache_max_changed_items)


def build_semantic_cache(settings: Settings, *, embedder: Embedder | None = None) -> SemanticCache:
    """The cache the settings describe: MiniLM, FAISS for large partitions, entries in the app's database."""
    store = SqlCacheStore.from_url(settings.resolved_database_url())
    cache = SemanticCache(
        embedder=embedder or MiniLMEmbedder(),
        store=store,
        index_factory=partial(FaissIndex, hnsw_above=settings.cache_hnsw_above, ef_search=settings.cache_hnsw_ef_search),
        generation=generation_of(settings),
        policy=policy_of(settings),
        ttl_s=settings.cache_ttl_s,
        capacity=settings.cache_capacity,
        faiss_above=settings.cache_faiss_above,
        sync_interval_s=settings.cache_sync_interval_s,
        maintain_interval_s=settings.cache_maintain_interval_s,
    )
    if settings.cache_audit_share > 0:
        cache.audit = CacheAuditor(AuditLog(store.engine), share=settings.cache_audit_share)
    return cache


__all__ = [
    "CACHE_MODES",
    "AuditCase",
    "AuditLog",
    "CacheAuditor",
    "CacheEntry",
    "CacheError",
    "CacheHit",
    "CacheKey",
    "CacheMode",
    "CacheStore",
    "CacheStoreError",
    "CanonicalContent",
    "Embedder",
    "FaissIndex",
    "Generation",
    "IndexRow",
    "Match",
    "MatchPolicy",
    "MiniLMEmbedder",
    "SemanticCache",
    "SemanticCacheLayer",
    "SqlCacheStore",
    "VectorIndex",
    "build_semantic_cache",
    "canonical_item",
    "decide",
    "generation_of",
    "pinned_or_default_model",
    "policy_of",
    "template_version",
]
