"""One contract for the shared cache store, on SQLite (WAL) and on a real PostgreSQL server: the store itself,
and two caches (two app processes' worth) on the same database sharing exact and semantic hits within 1 s."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from peptalk.cache import (CacheEntry, CacheKey, CanonicalContent, FaissIndex, Generation, SemanticCache,
                           SqlCacheStore)
from peptalk.db import current_revisions, sqlite_url
from tests.helpers import wait_for_async
from tests.peptalk.cache.memo import RememberingMiniLM

GENERATION = Generation(template="t1", temperature=0.7, max_tokens=200)
REQUEST = {"user_id": "ada", "today": "2026-11-22", "last_login": "2026-11-21", "completed_tasks": ["Run 10 km"],
           "focused_tasks": ["Call mom", "Review two pull requests"], "rituals": [], "goals": ["Ship the beta"]}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "peptalk.db")
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def store(url: str) -> Iterator[SqlCacheStore]:
    cache_store = SqlCacheStore.from_url(url)
    cache_store.migrate()
    yield cache_store
    cache_store.close()


def entry(text: str, at: float, *, key: str = "k", content_hash: str = "c") -> CacheEntry:
    content = CanonicalContent.of(REQUEST)
    items = content.items()
    vectors = np.eye(len(items), 8, dtype=np.float32)
    return CacheEntry(key=key, scope="user:ada", model="embedded:smollm2-135m", content_hash=content_hash,
                      request=REQUEST, canonical=content, items=items, vectors=vectors, summary=vectors[0], text=text,
                      created_at=at, last_used_at=at)


def test_entries_round_trip_with_their_vectors(store: SqlCacheStore) -> None:
    first = store.add(entry("one", 10.0))
    second = store.add(entry("two", 11.0))
    assert second > first and len(store) == 2 and store.ids() == {first, second}
    got = store.get([first, 12345])
    assert list(got) == [first]
    assert got[first].text == "one" and got[first].canonical == CanonicalContent.of(REQUEST)
    np.testing.assert_array_equal(got[first].vectors, entry("x", 0).vectors)
    assert got[first].request == REQUEST
    assert "cache_0001" in current_revisions(store.engine)


def test_find_by_exact_key_and_content(store: SqlCacheStore) -> None:
    wanted = store.add(entry("a", 1.0, key="k1", content_hash="h1"))
    store.add(entry("b", 1.0, key="k1", content_hash="h2"))
    store.add(entry("c", 1.0, key="k2", content_hash="h1"))
    assert [found.id for found in store.find("k1", "h1")] == [wanted]


def test_since_returns_newer_ids_in_order(store: SqlCacheStore) -> None:
    ids = [store.add(entry(str(n), float(n))) for n in range(5)]
    assert [row.id for row in store.since(ids[1])] == ids[2:]
    assert [row.id for row in store.since(0, limit=2)] == ids[:2]
    assert store.since(ids[-1]) == []


def test_touch_updates_lru_order_and_hits(store: SqlCacheStore) -> None:
    old = store.add(entry("old", 1.0))
    new = store.add(entry("new", 2.0))
    assert store.least_recently_used(1) == [old]
    store.touch({old: (2, 3.0)})
    assert store.least_recently_used(2) == [new, old]
    assert store.get([old])[old].hits == 2
    store.touch({old: (1, 2.5)})  # an older use from another process never moves it back
    assert store.get([old])[old].last_used_at == 3.0


def test_created_before_and_delete(store: SqlCacheStore) -> None:
    old = store.add(entry("old", 1.0))
    new = store.add(entry("new", 5.0))
    store.touch({old: (1, 9.0)})  # use does not extend the TTL
    assert store.created_before(3.0) == [old]
    store.delete([old, 777])
    assert store.ids() == {new}


def make_cache(url: str) -> SemanticCache:
    return SemanticCache(embedder=RememberingMiniLM(), store=SqlCacheStore.from_url(url),
                         index_factory=partial(FaissIndex, hnsw_above=4096), generation=GENERATION,
                         sync_interval_s=0.2, vector_nice=0)


async def test_two_processes_share_exact_and_semantic_hits_within_a_second(url: str) -> None:
    first, second = make_cache(url), make_cache(url)
    await first.start(warm=False)
    await second.start(warm=False)
    try:
        key = CacheKey("user:ada", "embedded:smollm2-135m", "2026-11-22", "2026-11-21", GENERATION)
        content = CanonicalContent.of(REQUEST)
        typo = CanonicalContent.of(REQUEST | {"focused_tasks": ["Call mom", "Review two pull requets"]})
        assert (await second.lookup(key, typo)).hit is None  # nothing stored yet; `second` has just synced
        await first.put(key, content, request=REQUEST, text="Go Ada!", model="m")
        exact = second.exact(key, CanonicalContent.of(REQUEST | {"focused_tasks": ["call MOM", "Review 2 pull requests"]}))
        assert exact is not None and exact.entry.text == "Go Ada!" and exact.kind == "exact"  # read from the database
        # `second` reads the new entry at its first lookup one sync interval (0.2 s) after its last one.
        async def semantic_hit() -> object:
            return (await second.lookup(key, typo)).hit

        hit = await wait_for_async(semantic_hit, what="a semantic hit in `second`")
        assert hit.kind == "semantic" and hit.entry.text == "Go Ada!"
        assert hit.match is not None and [(pair.stored, pair.new) for pair in hit.match.pairs] == [
            ("review 2 pull requests", "review 2 pull requets")]
        negated = CanonicalContent.of(REQUEST | {"completed_tasks": ["Skipped the 10 km run"]})
        assert (await second.lookup(key, negated)).hit is None
    finally:
        await first.aclose()
        await second.aclose()


async def test_entries_outlive_the_process_and_deletions_reach_the_other(url: str) -> None:
    first = make_cache(url)
    await first.start(warm=False)
    key = CacheKey("user:ada", "m", "2026-11-22", "2026-11-21", GENERATION)
    content = CanonicalContent.of(REQUEST)
    entry_id = await first.put(key, content, request=REQUEST, text="kept", model="m")
    await first.aclose()
    restarted = make_cache(url)
    await restarted.start(warm=False)
    assert len(restarted.index) == 1 and restarted.exact(key, content) is not None
    other = make_cache(url)
    await other.start(warm=False)
    restarted.remove([entry_id])
    near = CanonicalContent.of(REQUEST | {"goals": ["Ship the beta!"]})
    assert (await other.lookup(key, near)).hit is None and len(other.index) == 0  # found gone, dropped
    await restarted.aclose()
    await other.aclose()


def test_put_counts_entries_only_when_the_ids_allow_more_than_the_capacity(store: SqlCacheStore) -> None:
    """A new entry's id is above every other, so new id - lowest id + 1 bounds the count: within the capacity
    nothing is counted or evicted; with a gap (a deleted entry) the bound passes the capacity first, and the
    exact count then decides."""
    first, second, _ = (store.add(entry(name, at, content_hash=name)) for name, at in [("a", 1.0), ("b", 2.0),
                                                                                        ("c", 3.0)])
    fourth = store.put(entry("d", 4.0, content_hash="d"), uses={}, capacity=4)
    assert fourth.removed == [] and fourth.size is None  # four ids, capacity four: no count needed
    store.delete([second])
    fifth = store.put(entry("e", 5.0, content_hash="e"), uses={}, capacity=4)
    assert fifth.removed == [] and fifth.size == 4  # ids span 5 > 4: counted, 4 entries, none evicted
    sixth = store.put(entry("f", 6.0, content_hash="f"), uses={}, capacity=4)
    assert sixth.removed == [first] and sixth.size == 4  # 5 entries > 4: the least recently used goes


def test_an_entry_is_stored_without_vectors_and_gets_them_later(store: SqlCacheStore) -> None:
    """`put`: one transaction that writes hits, replaces the same request and evicts beyond capacity; the vectors
    come later through `set_vectors` (one transaction for a batch), and `summaries` tells other processes."""
    old = store.add(entry("old", 1.0, content_hash="a"))
    other = store.add(entry("other", 2.0, content_hash="b"))
    fresh = entry("fresh", 3.0, content_hash="a")
    fresh.vectors = fresh.summary = None
    stored = store.put(fresh, uses={other: (1, 2.5)}, capacity=1)
    assert stored.removed == [old, other] and stored.size == 1  # `old` replaced; `other` used before 3.0: evicted
    assert store.get([other]) == {}
    got = store.get([stored.entry_id])[stored.entry_id]
    assert got.vectors is None and got.summary is None and got.text == "fresh"
    assert store.since(0)[0].summary is None and store.summaries([stored.entry_id]) == {}
    vectors = np.eye(len(got.items), 8, dtype=np.float32)
    assert store.set_vectors({stored.entry_id: (vectors, vectors[0]), 999: (vectors, vectors[0])}) == [stored.entry_id]
    got = store.get([stored.entry_id])[stored.entry_id]
    np.testing.assert_array_equal(got.vectors, vectors)
    np.testing.assert_array_equal(store.summaries([stored.entry_id, 999])[stored.entry_id], vectors[0])
