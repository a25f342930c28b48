"""The semantic cache: exact keys, item-level match decisions, shared through the app's database, served as a
`ChatLayer` above the router."""

from __future__ import annotations

from typing import TYPE_CHECKING

from peptalk.cache.settings import CacheSettings
from peptalk.lazy import lazy_exports

if TYPE_CHECKING:
    from peptalk.cache.audit import AuditCase, AuditLog, CacheAuditor
    from peptalk.cache.base import CacheEntry, CacheStore, Embedder, IndexRow, VectorIndex
    from peptalk.cache.cache import CacheHit, LazyVectors, Lookup, SemanticCache
    from peptalk.cache.canonical import CanonicalContent, canonical_item
    from peptalk.cache.embedder import MiniLMEmbedder
    from peptalk.cache.errors import CacheError, CacheStoreError
    from peptalk.cache.factory import build_semantic_cache, generation_of, policy_of
    from peptalk.cache.faiss_index import FaissIndex
    from peptalk.cache.keys import CacheKey, Generation, template_version
    from peptalk.cache.facts import CACHE_MODES, CacheFacts, CacheKind, CacheMode, CacheRequest, cache_mode
    from peptalk.cache.layer import SemanticCacheLayer, pinned_or_default_model
    from peptalk.cache.match import Match, MatchPolicy, decide
    from peptalk.cache.sql_store import SqlCacheStore
    from peptalk.cache.vectorizer import VectorJob, VectorWorker

_EXPORTS = {
    "AuditCase": "peptalk.cache.audit",
    "AuditLog": "peptalk.cache.audit",
    "CacheAuditor": "peptalk.cache.audit",
    "CacheEntry": "peptalk.cache.base",
    "CacheStore": "peptalk.cache.base",
    "Embedder": "peptalk.cache.base",
    "IndexRow": "peptalk.cache.base",
    "VectorIndex": "peptalk.cache.base",
    "CacheHit": "peptalk.cache.cache",
    "LazyVectors": "peptalk.cache.cache",
    "Lookup": "peptalk.cache.cache",
    "SemanticCache": "peptalk.cache.cache",
    "CanonicalContent": "peptalk.cache.canonical",
    "canonical_item": "peptalk.cache.canonical",
    "MiniLMEmbedder": "peptalk.cache.embedder",
    "CacheError": "peptalk.cache.errors",
    "CacheStoreError": "peptalk.cache.errors",
    "FaissIndex": "peptalk.cache.faiss_index",
    "CacheKey": "peptalk.cache.keys",
    "Generation": "peptalk.cache.keys",
    "template_version": "peptalk.cache.keys",
    "CACHE_MODES": "peptalk.cache.facts",
    "CacheFacts": "peptalk.cache.facts",
    "CacheKind": "peptalk.cache.facts",
    "CacheMode": "peptalk.cache.facts",
    "CacheRequest": "peptalk.cache.facts",
    "cache_mode": "peptalk.cache.facts",
    "SemanticCacheLayer": "peptalk.cache.layer",
    "pinned_or_default_model": "peptalk.cache.layer",
    "Match": "peptalk.cache.match",
    "MatchPolicy": "peptalk.cache.match",
    "decide": "peptalk.cache.match",
    "SqlCacheStore": "peptalk.cache.sql_store",
    "VectorJob": "peptalk.cache.vectorizer",
    "VectorWorker": "peptalk.cache.vectorizer",
    "build_semantic_cache": "peptalk.cache.factory",
    "generation_of": "peptalk.cache.factory",
    "policy_of": "peptalk.cache.factory",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = ["CacheSettings", *_EXPORTS]  # the eager names, then the lazy ones
