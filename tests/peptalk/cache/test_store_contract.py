"""One contract over every cache metadata store (SQLite in memory, and one restored from a snapshot)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from peptalk.cache.base import CacheEntry, CacheStore
from peptalk.cache.sqlite_store import SqliteCacheStore


def restored_store() -> CacheStore:
    source = SqliteCacheStore()
    source.add(entry("gone", 1.0))
    store = SqliteCacheStore()
    store.load_bytes(source.to_bytes())
    store.delete(list(store.ids()))
    return store


STORES: dict[str, Callable[[], CacheStore]] = {"sqlite": SqliteCacheStore, "sqlite-restored": restored_store}


def entry(text: str, at: float, *, key: str = "k", content_hash: str = "c") -> CacheEntry:
    return CacheEntry(key=key, scope="user:ada", model="embedded:smollm2-135m", content_hash=content_hash,
                      text=text, created_at=at, last_used_at=at)


@pytest.fixture(params=list(STORES))
def store(request: pytest.FixtureRequest) -> CacheStore:
    return STORES[request.param]()


def test_add_and_get(store: CacheStore) -> None:
    first = store.add(entry("one", 10.0))
    second = store.add(entry("two", 11.0))
    assert first != second and len(store) == 2 and store.ids() == {first, second}
    got = store.get([first, 12345])
    assert list(got) == [first] and got[first].text == "one" and got[first].id == first


def test_find_by_exact_key_and_content(store: CacheStore) -> None:
    wanted = store.add(entry("a", 1.0, key="k1", content_hash="h1"))
    store.add(entry("b", 1.0, key="k1", content_hash="h2"))
    store.add(entry("c", 1.0, key="k2", content_hash="h1"))
    assert store.find("k1", "h1") == [wanted]


def test_touch_updates_lru_order_and_hits(store: CacheStore) -> None:
    old = store.add(entry("old", 1.0))
    new = store.add(entry("new", 2.0))
    assert store.least_recently_used(1) == [old]
    store.touch(old, 3.0)
    assert store.least_recently_used(2) == [new, old]
    assert store.get([old])[old].hits == 1


def test_created_before_and_delete(store: CacheStore) -> None:
    old = store.add(entry("old", 1.0))
    new = store.add(entry("new", 5.0))
    store.touch(old, 9.0)  # use does not extend the TTL
    assert store.created_before(3.0) == [old]
    store.delete([old, 777])
    assert store.ids() == {new}


def test_round_trips_through_bytes(store: CacheStore) -> None:
    kept = store.add(entry("kept", 4.0))
    copy = SqliteCacheStore()
    copy.load_bytes(store.to_bytes())
    assert copy.get([kept])[kept].text == "kept"
    assert copy.add(entry("next", 5.0)) > kept


def test_in_scope_lists_one_scopes_entries(store: CacheStore) -> None:  # issue 19: erasure of one user
    ada = store.add(entry("a", 1.0))
    grace = store.add(CacheEntry(key="k", scope="user:grace", model="m", content_hash="c", text="g",
                                 created_at=1.0, last_used_at=1.0))
    assert store.in_scope("user:ada") == [ada] and store.in_scope("user:grace") == [grace]
    assert store.in_scope("user:nobody") == []
