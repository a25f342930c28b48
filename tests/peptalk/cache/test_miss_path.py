"""The miss path (issue 29) with real MiniLM, FAISS and SQLite: a miss embeds nothing when nothing can match,
an entry is stored in one transaction and gets its vectors from the background worker, and a near-repeat hits
before those vectors exist, in this process and in another one on the same database."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event

from peptalk.cache import CacheKey, CanonicalContent, FaissIndex, Generation, SemanticCache, SqlCacheStore
from peptalk.cache.cache import LazyVectors, changed_items
from peptalk.cache.match import decide
from peptalk.db import sqlite_url
from tests.helpers import GENEROUS_S
from tests.peptalk.cache.memo import RememberingMiniLM

GENERATION = Generation(template="t1", temperature=0.7, max_tokens=200)
BASE = {"user_id": "ada", "today": "2026-11-22", "last_login": "2026-11-21", "completed_tasks": ["Wrote the design doc"],
        "focused_tasks": ["Review two pull requests", "Call the bank about the loan"], "rituals": ["Morning run"],
        "goals": ["Ship the beta"]}
TYPO = BASE | {"focused_tasks": ["Review two pull reqeusts", "Call the bank about the loan"]}


class CountingMiniLM(RememberingMiniLM):
    """Real MiniLM that counts its calls, by thread, and can hold the background worker's calls until released."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.background = threading.Event()
        self.background.set()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        thread = threading.current_thread().name
        self.calls.append((thread, tuple(texts)))
        if thread.startswith("peptalk-cache-vectors"):
            assert self.background.wait(GENEROUS_S), "the test never released the background worker"
        return super().embed(texts)

    def hot(self) -> list[tuple[str, ...]]:
        return [texts for thread, texts in self.calls if not thread.startswith("peptalk-cache-vectors")]


def key(payload: dict[str, Any], scope: str | None = None) -> CacheKey:
    return CacheKey(scope or f"user:{payload['user_id']}", "m", payload["today"], payload["last_login"], GENERATION)


async def new_cache(path: Path, embedder: CountingMiniLM, **options: Any) -> SemanticCache:
    cache = SemanticCache(embedder=embedder, store=SqlCacheStore.from_url(sqlite_url(path / "c.db")),
                          index_factory=partial(FaissIndex, hnsw_above=4096), generation=GENERATION,
                          sync_interval_s=0.2, vector_nice=0, **options)  # nice: a speed, not a behaviour
    await cache.start(warm=False)
    embedder.load()  # not in the worker's first job, on a busy test machine
    return cache


async def put(cache: SemanticCache, payload: dict[str, Any], text: str, scope: str | None = None) -> int:
    return await cache.put(key(payload, scope), CanonicalContent.of(payload), request=payload, text=text, model="m")


async def until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + GENEROUS_S
    while not condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


async def test_a_first_of_the_day_miss_embeds_nothing_and_stores_in_one_transaction(tmp_path: Path) -> None:
    embedder = CountingMiniLM()
    cache = await new_cache(tmp_path, embedder)
    embedder.background.clear()  # the vectors wait: the hot path must not need them
    commits: list[int] = []
    event.listen(cache.store.engine, "commit", lambda connection: commits.append(1))
    try:
        content = CanonicalContent.of(BASE)
        assert cache.exact(key(BASE), content) is None
        found = await cache.lookup(key(BASE), content)
        assert found.hit is None and found.nearest is None and found.vectors == {}
        entry_id = await put(cache, BASE, "Go Ada!")
        assert len(commits) == 1  # replace, insert and eviction in one transaction
        assert embedder.hot() == []  # nothing embedded on the hot path
        stored = cache.store.get([entry_id])[entry_id]
        assert stored.vectors is None and stored.summary is None  # not computed yet: never a wrong hit
        other_shape = BASE | {"goals": ["Ship the beta", "Hire a designer"]}  # a goal added: a miss at once
        assert (await cache.lookup(key(BASE), CanonicalContent.of(other_shape))).hit is None
        assert embedder.hot() == []
    finally:
        embedder.background.set()
    await asyncio.wait_for(cache.vectorizer.drain(), GENEROUS_S)
    await cache.maintain()
    await cache.maintain()  # maintenance offers no vectors for it either
    await asyncio.wait_for(cache.vectorizer.drain(), GENEROUS_S)
    # A partition this small is compared whole: its entries never need vectors, so none are computed, ever.
    assert embedder.calls == [] and cache.vectorizer.embedded == 0
    assert cache.store.get([entry_id])[entry_id].summary is None
    await cache.aclose()


async def test_a_partition_that_grows_to_k_entries_gets_every_entrys_vectors_in_one_call(tmp_path: Path) -> None:
    embedder = CountingMiniLM()
    cache = await new_cache(tmp_path, embedder, candidates=3)
    payloads = [BASE | {"user_id": f"u{n}", "rituals": [ritual]}
                for n, ritual in enumerate(["Morning run", "Evening walk", "Read 20 pages"])]
    embedder.background.clear()  # the worker takes its jobs once all three are queued
    try:
        ids = [await put(cache, payload, f"talk {n}", scope="shared") for n, payload in enumerate(payloads[:2])]
        assert cache.vectorizer.room() == cache.vectorizer._queue.maxsize  # two entries: nothing to compute
        ids.append(await put(cache, payloads[2], "talk 2", scope="shared"))  # the third: searched by vector soon
    finally:
        embedder.background.set()
    await asyncio.wait_for(cache.vectorizer.drain(), GENEROUS_S)
    assert embedder.hot() == []
    stored = cache.store.get(ids)
    for entry_id in ids:
        assert stored[entry_id].vectors is not None and stored[entry_id].vectors.shape == (len(stored[entry_id].items), 384)
        assert abs(float(np.linalg.norm(stored[entry_id].summary)) - 1.0) < 1e-4
    background = [texts for thread, texts in embedder.calls if thread.startswith("peptalk-cache-vectors")]
    assert len(background) == 1  # the three entries' distinct items in one batched call
    assert sorted(background[0]) == sorted({item for payload in payloads for item in CanonicalContent.of(payload).items()})
    assert cache.index.partition(key(BASE, "shared").digest()).summaries.keys() == set(ids)
    await cache.aclose()


async def test_a_near_repeat_before_the_vectors_are_ready_hits_here_and_in_another_process(tmp_path: Path) -> None:
    """The race: the background worker is held, so the entry has no vectors in the database yet."""
    embedder = CountingMiniLM()
    writer, reader = await new_cache(tmp_path, embedder), await new_cache(tmp_path, embedder)
    embedder.background.clear()
    try:
        await put(writer, BASE, "Go Ada!")
        hit = (await writer.lookup(key(TYPO), CanonicalContent.of(TYPO))).hit
        assert hit is not None and hit.kind == "semantic" and hit.entry.text == "Go Ada!"
        assert [(pair.stored, pair.new) for pair in hit.match.pairs] == [("review 2 pull requests",
                                                                         "review 2 pull reqeusts")]
        assert hit.evidence()["changed_items"][0]["similarity"] > 0.4  # the decision embedded what it compared
        assert embedder.hot() == [("review 2 pull requests", "review 2 pull reqeusts")]  # one call, two items
        started = time.monotonic()
        while (found := await reader.lookup(key(TYPO), CanonicalContent.of(TYPO))).hit is None:
            assert time.monotonic() - started < reader.index.sync_interval_s + 1.0, "not within the sync interval"
            await asyncio.sleep(0.02)
        assert found.hit.entry.text == "Go Ada!" and found.hit.entry.vectors is None  # still without vectors
        skipped = BASE | {"completed_tasks": ["Skipped the design doc"]}
        assert (await reader.lookup(key(skipped), CanonicalContent.of(skipped))).hit is None
    finally:
        embedder.background.set()
    await asyncio.wait_for(writer.vectorizer.drain(), GENEROUS_S)
    assert (await reader.lookup(key(TYPO), CanonicalContent.of(TYPO))).hit is not None
    await writer.aclose()
    await reader.aclose()


def test_the_decision_gets_vectors_lazily_in_one_call() -> None:
    """The contract with the match decision: it asks `vectors` for what it compares; the callable embeds what it
    does not know (every changed item of both sides at once) in one call, and nothing when nothing is asked."""
    embedder = CountingMiniLM()
    stored, typo = CanonicalContent.of(BASE), CanonicalContent.of(TYPO)
    assert sorted(changed_items(stored, typo)) == ["review 2 pull reqeusts", "review 2 pull requests"]
    vectors = LazyVectors(embedder.embed, {}, changed_items(stored, typo))
    match = decide(stored, typo, vectors)
    assert match.hit and vectors.calls == 1 and len(embedder.calls) == 1
    dates = CanonicalContent.of(BASE | {"today": "2026-11-23"})
    refused = LazyVectors(embedder.embed, {}, changed_items(stored, dates))
    assert not decide(stored, dates, refused).hit and refused.calls == 0  # refused before any vector
    known = dict(zip(stored.items(), embedder.embed(stored.items()), strict=True))
    calls = len(embedder.calls)
    warm = LazyVectors(embedder.embed, known, changed_items(stored, typo))
    assert decide(stored, typo, warm).hit and warm.calls == 1
    assert [texts for _, texts in embedder.calls[calls:]] == [("review 2 pull reqeusts",)]  # only the unknown one


async def test_a_large_partition_finds_entries_without_vectors_and_then_by_search(tmp_path: Path) -> None:
    """Above `candidates` entries a partition is searched by the request's summary; its newest entries without
    vectors are compared as well, so a near-repeat of one just stored still hits."""
    embedder = CountingMiniLM()
    cache = await new_cache(tmp_path, embedder, candidates=2, faiss_above=3)
    tasks = ["Water the plants", "Pay the phone bill", "Renew the passport", "Clean the kitchen", "Call grandma"]
    payloads = [BASE | {"user_id": f"u{n}", "focused_tasks": [tasks[n], "Write 500 words"]} for n in range(5)]
    for n, payload in enumerate(payloads[:4]):
        await put(cache, payload, f"talk {n}", scope="shared")
    await asyncio.wait_for(cache.vectorizer.drain(), GENEROUS_S)
    partition = cache.index.partition(key(BASE, "shared").digest())
    assert partition.index is not None and len(partition.summaries) == 4  # FAISS, every entry embedded
    embedder.background.clear()
    try:
        await put(cache, payloads[4], "talk 4", scope="shared")
        assert len(partition.pending) == 1
        near = payloads[4] | {"focused_tasks": ["Call grandma", "Write 500 wrods"]}
        hit = (await cache.lookup(key(near, "shared"), CanonicalContent.of(near))).hit
        assert hit is not None and hit.entry.text == "talk 4"  # found among the newest entries without vectors
    finally:
        embedder.background.set()
    await asyncio.wait_for(cache.vectorizer.drain(), GENEROUS_S)
    assert not partition.pending and len(partition.summaries) == 5
    near = payloads[1] | {"focused_tasks": ["Pay the phnoe bill", "Write 500 words"]}
    hit = (await cache.lookup(key(near, "shared"), CanonicalContent.of(near))).hit
    assert hit is not None and hit.entry.text == "talk 1"  # found by the vector search
    await cache.aclose()


async def test_an_entry_dropped_by_a_full_queue_gets_its_vectors_from_maintenance(tmp_path: Path) -> None:
    embedder = CountingMiniLM()
    cache = await new_cache(tmp_path, embedder, vector_queue_size=1, candidates=1)  # one entry: searched
    embedder.background.clear()
    try:
        first = await put(cache, BASE | {"rituals": ["Run"]}, "one", scope="shared")
        await until(lambda: not cache.vectorizer._queue.qsize(), "the worker took the first job")
        second = await put(cache, BASE | {"rituals": ["Walk"]}, "two", scope="shared")  # queued
        third = await put(cache, BASE | {"rituals": ["Swim"]}, "three", scope="shared")  # the queue is full: dropped
        assert cache.vectorizer.dropped == 1
    finally:
        embedder.background.set()
    await asyncio.wait_for(cache.vectorizer.drain(), GENEROUS_S)
    assert cache.store.summaries([first, second, third]).keys() == {first, second}
    await cache.maintain()  # the first maintenance sees it waiting, the next offers it
    await cache.maintain()
    await asyncio.wait_for(cache.vectorizer.drain(), GENEROUS_S)
    assert cache.store.summaries([third]).keys() == {third}
    await cache.aclose()
