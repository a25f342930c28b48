"""Builds the semantic cache the settings describe."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from peptalk.cache.audit import AuditLog, CacheAuditor
from peptalk.cache.base import Embedder
from peptalk.cache.cache import SemanticCache
from peptalk.cache.embedder import MiniLMEmbedder
from peptalk.cache.faiss_index import FaissIndex
from peptalk.cache.keys import Generation, template_version
from peptalk.cache.match import MatchPolicy
from peptalk.cache.sql_store import SqlCacheStore

if TYPE_CHECKING:
    from peptalk.settings import Settings


def generation_of(settings: Settings) -> Generation:
    """The prompt template's version and the generation settings answers are written under."""
    from peptalk.prompt import template_text

    return Generation(template=template_version(template_text(settings.prompt_template)), temperature=settings.temperature,
                      max_tokens=settings.max_tokens)


def policy_of(settings: Settings) -> MatchPolicy:
    return MatchPolicy(max_changed_items=settings.cache_max_changed_items)


def build_semantic_cache(settings: Settings, *, embedder: Embedder | None = None) -> SemanticCache:
    """The cache the settings describe: MiniLM, FAISS for large partitions, entries in the app's database."""
    store = SqlCacheStore.from_url(settings.resolved_database_url())
    cache = SemanticCache(
        embedder=embedder or MiniLMEmbedder(threads=settings.cache_embed_threads),
        store=store,
        index_factory=partial(FaissIndex, hnsw_above=settings.cache_hnsw_above, ef_search=settings.cache_hnsw_ef_search),
        generation=generation_of(settings),
        policy=policy_of(settings),
        ttl_s=settings.cache_ttl_s,
        capacity=settings.cache_capacity,
        faiss_above=settings.cache_faiss_above,
        sync_interval_s=settings.cache_sync_interval_s,
        maintain_interval_s=settings.cache_maintain_interval_s,
        vector_queue_size=settings.cache_vector_queue_size,
        vector_nice=settings.cache_vector_nice,
    )
    if settings.cache_audit_share > 0:
        cache.audit = CacheAuditor(AuditLog(store.engine), share=settings.cache_audit_share)
    return cache
