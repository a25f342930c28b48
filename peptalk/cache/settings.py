"""The semantic cache's settings (`PEPTALK_CACHE_*`); `peptalk.settings.Settings` inherits them.

Each default and bound is written once, here: `MatchPolicy`, `SemanticCache` and `FaissIndex` take their defaults
from these fields.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from router.settings import PEPTALK_ENV, field_default


class CacheSettings(BaseSettings):
    """What the semantic cache reads: whether it serves, whom an entry is shared with, how near is near enough."""

    model_config = PEPTALK_ENV

    cache_enabled: bool = True
    cache_scope: Literal["user", "shared"] = "user"  # shared: only for prompts that carry no personal data
    cache_model_in_key: bool = True
    cache_max_changed_items: int = Field(default=3, ge=0)  # changed items a semantic hit may have (match.py)
    cache_ttl_s: float = Field(default=86400.0, gt=0)
    cache_capacity: int = Field(default=10000, ge=1)
    cache_faiss_above: int = Field(default=1024, ge=0)  # entries of one key above which FAISS searches them
    cache_hnsw_above: int = Field(default=4096, ge=0)  # entries of one key above which FAISS switches flat -> HNSW
    cache_hnsw_ef_search: int = Field(default=64, ge=1, le=4096)  # HNSW search breadth: recall against lookup time
    cache_sync_interval_s: float = Field(default=0.2, gt=0)  # how stale another process's view may be
    cache_maintain_interval_s: float = Field(default=5.0, gt=0)  # hit counts written, expired entries purged
    cache_vector_queue_size: int = Field(default=1000, ge=1)  # entries waiting for their vectors; beyond: maintenance
    cache_vector_nice: int = Field(default=10, ge=0, le=19)  # the vector worker thread's priority below serving
    cache_embed_threads: int = Field(default=1, ge=1, le=64)  # MiniLM's torch threads
    cache_audit_share: float = Field(default=0.02, ge=0.0, le=1.0)  # semantic hits regenerated and logged
    cache_fast_path: bool = True  # exact repeats answered in front of LangServe (off while LangSmith traces)


def cache_default(name: str) -> Any:
    """The default of the cache setting `name`."""
    return field_default(CacheSettings, name)
