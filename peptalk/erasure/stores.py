"""The `Forgettable` stores of a serving process and of the command line, built from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peptalk.erasure.base import Forgettable

if TYPE_CHECKING:
    from peptalk.cache import SemanticCache
    from peptalk.service import PepTalk
    from peptalk.settings import Settings


class CacheUserData:
    """`Forgettable` over a live semantic cache: its rows in the database and this process's index."""

    name = "cache_entries"

    def __init__(self, cache: SemanticCache) -> None:
        self.cache = cache

    async def forget_user(self, user_id: str) -> int:
        return self.cache.forget_user(user_id)  # on the event loop like every cache mutation


class CacheDatabaseUserData:
    """`Forgettable` over the cache's tables, for the command line; serving processes drop the rows at their next sync."""

    name = "cache_entries"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def forget_user(self, user_id: str) -> int:
        from peptalk.cache import SqlCacheStore

        store = SqlCacheStore.from_url(self.settings.resolved_database_url())
        try:
            store.migrate()
            return store.forget_scope(f"user:{user_id}")
        finally:
            store.close()


def shadow_user_data(settings: Settings, layer: Any = None) -> Forgettable:
    """The comparison log, whether or not shadowing is on now (pairs may remain from when it was)."""
    from peptalk.shadow.erasure import ShadowUserData
    from peptalk.shadow.policy import ShadowPolicy
    from peptalk.shadow.store import SqlShadowStore

    store = layer.store if layer is not None else SqlShadowStore.from_url(settings.resolved_database_url())
    return ShadowUserData(store, ShadowPolicy.from_settings(settings), layer)


def serving_stores(peptalk: PepTalk) -> list[Forgettable]:
    """A serving process's stores: the shadow log (and its pending pairs), its cache, and the rate-limit counters."""
    from peptalk.cache import SemanticCache
    from peptalk.shadow.layer import ShadowLayer

    stores = [shadow_user_data(peptalk.settings, peptalk.layer(ShadowLayer))]
    cache = peptalk.service(SemanticCache)
    if cache is not None:
        stores.append(CacheUserData(cache))
    if peptalk.rate_limiter is not None:
        stores.append(peptalk.rate_limiter)
    return stores


def offline_stores(settings: Settings) -> list[Forgettable]:
    """What the command line reaches: the shadow log, the cache's tables, and shared rate-limit counters."""
    stores = [shadow_user_data(settings)]
    if settings.cache_enabled:
        stores.append(CacheDatabaseUserData(settings))
    from peptalk.security.limiter import build_limiter

    limiter = build_limiter(settings)
    if limiter is not None and settings.rate_limit_storage_url != "memory://":
        stores.append(limiter)  # in-process counters live in the serving processes only
    return stores
