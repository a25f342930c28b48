"""The cache object with real MiniLM and real FAISS: hits, misses that must miss, TTL, LRU and snapshots."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from peptalk.cache import CacheKey, FaissIndex, SemanticCache, SnapshotDir, SqliteCacheStore
from peptalk.schema import PepTalkRequest
from tests.peptalk.cache.memo import RememberingMiniLM

BASE = {
    "user_id": "ada", "today": "2026-11-22", "last_login": "2026-11-21",
    "completed_tasks": ["Wrote the design doc"],
    "focused_tasks": ["Review two pull requests", "Call the bank about the loan"],
    "rituals": ["Morning run"], "goals": ["Ship the beta"],
}
PARAPHRASE = BASE | {"completed_tasks": ["Wrote design doc"],
                     "focused_tasks": ["Review 2 pull requests", "Call the bank about my loan"]}
MUST_MISS = {
    "task moved from focused to completed": BASE | {
        "completed_tasks": ["Wrote the design doc", "Review two pull requests"],
        "focused_tasks": ["Call the bank about the loan"]},
    "different date": BASE | {"today": "2026-11-23"},
    "different last login": BASE | {"last_login": "2026-11-20"},
    "one task swapped": BASE | {"focused_tasks": ["Clean the garage", "Call the bank about the loan"]},
    "different task list": BASE | {"focused_tasks": ["Plan the offsite", "Renew the passport"]},
    "focused list emptied": BASE | {"focused_tasks": []},
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make_cache(tmp_path: Path | None = None, **overrides: Any) -> SemanticCache:
    options: dict[str, Any] = {"threshold": 0.95, "ttl_s": 3600.0, "capacity": 100, "clock": Clock()}
    options.update(overrides)
    return SemanticCache(embedder=RememberingMiniLM(), index_factory=partial(FaissIndex, hnsw_above=4),
                         store=SqliteCacheStore(), snapshots=SnapshotDir(tmp_path) if tmp_path else None, **options)


def key(payload: dict[str, Any], model: str = "embedded:smollm2-135m") -> CacheKey:
    return CacheKey(f"user:{payload['user_id']}", model, payload["today"], payload["last_login"])


async def put(cache: SemanticCache, payload: dict[str, Any], text: str, **kw: Any) -> int:
    request = PepTalkRequest(**payload)
    sections = await cache.embed(request.content_sections())
    return cache.put(key(payload, **kw), sections, content_hash=request.content_text(), text=text,
                     model="embedded:smollm2-135m")


async def lookup(cache: SemanticCache, payload: dict[str, Any], **kw: Any):
    sections = await cache.embed(PepTalkRequest(**payload).content_sections())
    return cache.lookup(key(payload, **kw), sections)


async def test_paraphrase_hits_and_reports_its_similarity() -> None:
    cache = make_cache()
    await put(cache, BASE, "Go Ada!")
    hit = await lookup(cache, PARAPHRASE)
    assert hit is not None and hit.entry.text == "Go Ada!"
    assert 0.95 <= hit.similarity < 1.0
    assert (await lookup(cache, BASE)).similarity == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("case", list(MUST_MISS))
async def test_near_identical_text_that_means_something_else_misses(case: str) -> None:
    cache = make_cache()
    for n in range(6):  # enough entries to be on HNSW, under other users
        await put(cache, BASE | {"user_id": f"user{n}"}, f"talk {n}")
    await put(cache, BASE, "Go Ada!")
    assert await lookup(cache, MUST_MISS[case]) is None


async def test_another_user_and_another_model_miss() -> None:
    cache = make_cache()
    await put(cache, BASE, "Go Ada!")
    assert await lookup(cache, BASE | {"user_id": "grace"}) is None
    assert await lookup(cache, BASE, model="openai:gpt-4") is None


async def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = make_cache(ttl_s=60.0, clock=clock)
    await put(cache, BASE, "Go Ada!")
    clock.now += 59
    assert await lookup(cache, BASE) is not None
    clock.now += 2  # hits do not extend the TTL
    assert await lookup(cache, BASE) is None
    assert cache.purge_expired() == 1 and len(cache) == 0


def exact(cache: SemanticCache, payload: dict[str, Any], **kw: Any):
    return cache.exact(key(payload, **kw), PepTalkRequest(**payload).content_text())


async def test_an_exact_repeat_is_found_without_embedding_and_nothing_else_is(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = make_cache()
    await put(cache, BASE, "Go Ada!")

    def no_embedding(texts: Any) -> Any:
        raise AssertionError("an exact lookup must not embed")

    monkeypatch.setattr(cache.embedder, "embed", no_embedding)
    hit = exact(cache, BASE)
    assert hit is not None and hit.entry.text == "Go Ada!" and hit.similarity == 1.0
    assert exact(cache, PARAPHRASE) is None  # near hits are the semantic lookup's job
    for changed in MUST_MISS.values():
        assert exact(cache, changed) is None
    assert exact(cache, BASE | {"user_id": "grace"}) is None
    assert exact(cache, BASE, model="openai:gpt-4") is None


async def test_an_exact_lookup_honours_the_ttl_and_touches_only_when_asked() -> None:
    clock = Clock()
    cache = make_cache(ttl_s=60.0, clock=clock)
    await put(cache, BASE, "Go Ada!")
    request_key, digest = key(BASE), PepTalkRequest(**BASE).content_text()
    assert cache.exact(request_key, digest, touch=False) is not None
    assert cache.exact(request_key, digest).entry.hits == 1  # the peek above did not count
    assert cache.exact(request_key, digest).entry.hits == 2
    clock.now += 61
    assert cache.exact(request_key, digest) is None


async def test_the_least_recently_used_entry_is_evicted_at_capacity() -> None:
    clock = Clock()
    cache = make_cache(capacity=2, clock=clock)
    await put(cache, BASE | {"user_id": "first"}, "first")
    clock.now += 1
    await put(cache, BASE | {"user_id": "second"}, "second")
    clock.now += 1
    assert await lookup(cache, BASE | {"user_id": "first"}) is not None  # "first" is now the most recently used
    clock.now += 1
    await put(cache, BASE | {"user_id": "third"}, "third")
    assert len(cache) == 2
    assert await lookup(cache, BASE | {"user_id": "second"}) is None
    assert await lookup(cache, BASE | {"user_id": "first"}) is not None
    assert await lookup(cache, BASE | {"user_id": "third"}) is not None


async def test_storing_the_same_request_again_replaces_it() -> None:
    cache = make_cache()
    await put(cache, BASE, "old")
    await put(cache, BASE, "new")
    assert len(cache) == 1 and (await lookup(cache, BASE)).entry.text == "new"


async def test_snapshot_round_trip(tmp_path: Path) -> None:
    cache = make_cache(tmp_path)
    for n in range(6):
        await put(cache, BASE | {"user_id": f"user{n}"}, f"talk {n}")
    assert await cache.save() is not None
    assert await cache.save() is None  # nothing changed since
    reloaded = make_cache(tmp_path)
    await reloaded.load()
    assert len(reloaded) == 6 and reloaded.index.kind == "hnsw"
    assert (await lookup(reloaded, BASE | {"user_id": "user3"})).entry.text == "talk 3"


async def test_a_save_failing_between_writes_keeps_the_previous_copy(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from peptalk.cache import snapshot

    cache = make_cache(tmp_path)
    await put(cache, BASE, "first copy")
    first = await cache.save()
    await put(cache, BASE | {"user_id": "grace"}, "second copy")
    real_write = snapshot._write_file

    def fail_on_metadata(path: Path, data: bytes) -> None:
        if path.name == snapshot.STORE_FILE:
            raise OSError("disk full")
        real_write(path, data)

    monkeypatch.setattr(snapshot, "_write_file", fail_on_metadata)
    with pytest.raises(OSError):
        await cache.save()
    assert SnapshotDir(tmp_path).current() == first
    reloaded = make_cache(tmp_path)
    await reloaded.load()
    assert len(reloaded) == 1 and await lookup(reloaded, BASE) is not None
    monkeypatch.setattr(snapshot, "_write_file", real_write)
    assert await cache.save() not in (None, first)  # the changes were not forgotten
    reloaded = make_cache(tmp_path)
    await reloaded.load()
    assert len(reloaded) == 2
