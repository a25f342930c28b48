"""`SemanticCache`: exact and semantic lookups, inserts, TTL and LRU over a shared store and per-key partitions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from peptalk.cache.base import CacheEntry, CacheStore, Embedder, IndexRow, VectorIndex
from peptalk.cache.canonical import CanonicalContent
from peptalk.cache.keys import CacheKey, Generation
from peptalk.cache.match import Match, MatchPolicy, decide
from peptalk.cache.partitions import PartitionIndex, shape
from peptalk.cache.settings import cache_default
from peptalk.cache.vectorizer import VectorJob, VectorWorker, item_matrix, summary_vector
from peptalk.metrics import CACHE_ENTRIES

log = logging.getLogger("peptalk.cache")
HitKind = Literal["exact", "semantic"]
ItemVectors = dict[str, np.ndarray]
FETCH = 4  # candidates read from the database at a time


@dataclass
class CacheHit:
    """A cached answer that may be served: found by its exact content, or by the match decision (with evidence)."""

    entry: CacheEntry
    kind: HitKind
    similarity: float
    match: Match | None = None

    def evidence(self) -> dict[str, Any]:
        """What the response metadata says about a semantic hit: the changed items and their similarities."""
        pairs = self.match.pairs if self.match else []
        return {"entry_id": self.entry.id, "changed_items": [
            {"list": pair.list_name, "stored": pair.stored, "new": pair.new, "similarity": round(pair.similarity, 4)}
            for pair in pairs]}


def changed_items(stored: CanonicalContent, new: CanonicalContent) -> list[str]:
    """The items one side has and the other has not, list by list: what the match decision may compare."""
    changed: list[str] = []
    for old_items, new_items in zip(stored.lists, new.lists, strict=True):
        old, fresh = Counter(old_items), Counter(new_items)
        changed += [*(old - fresh), *(fresh - old)]
    return changed


class LazyVectors:
    """The `vectors` callable the match decision gets: the vectors already known, the others embedded when it
    first asks, in one call (with every item it may ask for next: the changed items of both sides)."""

    def __init__(self, embed: Callable[[Sequence[str]], np.ndarray], known: ItemVectors, expected: Sequence[str]) -> None:
        self.embed = embed
        self.known = known
        self.expected = expected
        self.calls = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys([*texts, *self.expected]) if text not in self.known]
        if missing:
            self.calls += 1
            self.known.update(zip(missing, self.embed(missing), strict=True))
        return np.stack([self.known[text] for text in texts])


@dataclass
class Lookup:
    """What a semantic lookup found: a hit, or the decision on the nearest candidate (why it missed), and the
    request's item vectors it had to compute on the way (reused when the answer is stored)."""

    hit: CacheHit | None = None
    nearest: Match | None = None
    vectors: ItemVectors = field(default_factory=dict)


@dataclass
class _Compared:
    hit: CacheHit | None
    nearest: Match | None
    gone: list[int]


class SemanticCache:
    """Answers shared through a database; each process searches its own in-memory partitions of it.

    A miss costs no embedding when nothing can match: an empty partition, or a small one whose entries the match
    decision refuses before it asks for vectors. Entries are stored without vectors; `vectorizer` adds them after
    the answer was sent, in the partitions large enough to be searched by vector (`PartitionIndex.to_embed`).
    """

    def __init__(self, *, embedder: Embedder, store: CacheStore, index_factory: Callable[[int], VectorIndex],
                 generation: Generation, policy: MatchPolicy = MatchPolicy(),
                 ttl_s: float = cache_default("cache_ttl_s"), capacity: int = cache_default("cache_capacity"),
                 faiss_above: int = cache_default("cache_faiss_above"), candidates: int = 8,
                 sync_interval_s: float = cache_default("cache_sync_interval_s"),
                 maintain_interval_s: float = cache_default("cache_maintain_interval_s"),
                 vector_queue_size: int = cache_default("cache_vector_queue_size"),
                 vector_nice: int = cache_default("cache_vector_nice"), clock: Callable[[], float] = time.time) -> None:
        self.embedder = embedder
        self.store = store
        self.generation = generation
        self.policy = policy
        self.ttl_s = ttl_s
        self.capacity = capacity
        self.candidates = candidates
        self.maintain_interval_s = maintain_interval_s
        self.clock = clock
        self.index = PartitionIndex(store, dim=embedder.dim, faiss_above=faiss_above, index_factory=index_factory,
                                    sync_interval_s=sync_interval_s, k=candidates)
        self.vectorizer = VectorWorker(embedder, store, queue_size=vector_queue_size, nice=vector_nice,
                                       on_vectors=self.index.set_summaries)
        self.audit: Any = None  # a CacheAuditor, when semantic hits are audited
        self._uses: dict[int, tuple[int, float]] = {}  # hits not yet written: id -> (count, last use)
        self._unembedded: set[int] = set()  # ids without vectors at the last maintenance
        self._executor: ThreadPoolExecutor | None = None
        self._maintainer: asyncio.Task[None] | None = None

    # -- the hot path's thread: embedding a request, comparing it with candidates (both may embed)

    async def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peptalk-cache-embed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def embed(self, items: Sequence[str]) -> ItemVectors:
        """One unit vector per distinct item, computed off the event loop."""
        unique = list(dict.fromkeys(items))
        if not unique:
            return {}
        vectors = await self._in_thread(self.embedder.embed, unique)
        return dict(zip(unique, vectors, strict=True))

    # -- lookups

    def _live(self, entry: CacheEntry, now: float) -> bool:
        return entry.created_at >= now - self.ttl_s

    def exact(self, key: CacheKey, content: CanonicalContent, *, touch: bool = True) -> CacheHit | None:
        """The newest live entry for this request up to case, spacing, punctuation and order; no embedding."""
        now = self.clock()
        live = [entry for entry in self.store.find(key.digest(), content.digest()) if self._live(entry, now)]
        if not live:
            return None
        entry = max(live, key=lambda candidate: (candidate.created_at, candidate.id or 0))
        if touch:
            self._touch(entry, now)
        return CacheHit(entry, "exact", 1.0)

    async def lookup(self, key: CacheKey, content: CanonicalContent) -> Lookup:
        """The best live entry under `key` that the match decision allows, or the decision on the nearest
        candidate when none does (why it missed).

        A partition of up to `candidates` entries is compared whole with no vector of the request; the match
        decision embeds only the items it compares. A larger one is searched by the request's summary vector.
        """
        self.index.refresh()
        partition = self.index.partition(key.digest())
        if partition is None:
            return Lookup()
        known: ItemVectors = {}
        summary = None
        if partition.searched(self.candidates):
            known = await self.embed(content.items())
            summary = summary_vector(item_matrix(content.items(), known, self.embedder.dim), self.embedder.dim)
        candidates = partition.candidates(shape(content), summary, self.candidates)
        if not candidates:
            return Lookup(vectors=known)
        compared: _Compared = await self._in_thread(self._compare, key.digest(), content, candidates, known)
        self.index.remove(compared.gone)
        if compared.hit is not None:
            self._touch(compared.hit.entry, self.clock())
        return Lookup(compared.hit, compared.nearest, known)

    def _compare(self, key: str, content: CanonicalContent, candidates: list[int], known: ItemVectors) -> _Compared:
        """Runs in the hot path's thread: reads candidates a few at a time (the likeliest first: usually the first
        read decides) and asks the match decision about each."""
        now = self.clock()
        nearest: Match | None = None
        gone: list[int] = []
        for start in range(0, len(candidates), FETCH):
            chunk = candidates[start:start + FETCH]
            entries = self.store.get(chunk)
            gone += [entry_id for entry_id in chunk if entry_id not in entries]
            for entry_id in chunk:
                entry = entries.get(entry_id)
                if entry is None or not self._live(entry, now) or entry.key != key:
                    continue
                if entry.vectors is not None:
                    known.update(zip(entry.items, entry.vectors, strict=True))
                vectors = LazyVectors(self.embedder.embed, known, changed_items(entry.canonical, content))
                match = decide(entry.canonical, content, vectors, self.policy)
                if match.hit:
                    return _Compared(CacheHit(entry, "semantic", match.similarity, match), match, gone)
                nearest = nearest or match
        return _Compared(None, nearest, gone)

    def _touch(self, entry: CacheEntry, now: float) -> None:
        if entry.id is not None:
            count, _ = self._uses.get(entry.id, (0, now))
            self._uses[entry.id] = (count + 1, now)
            entry.hits += 1
            entry.last_used_at = now

    # -- inserts and eviction

    async def put(self, key: CacheKey, content: CanonicalContent, *, request: dict[str, Any], text: str, model: str,
                  vectors: ItemVectors | None = None) -> int:
        """Stores an answer (replacing the one for the same request) and evicts the least recently used beyond
        capacity, in one transaction (on the loop for a local store, else in a thread). Its item vectors are
        stored now when `vectors` holds them all; else they come later from the background worker, and only in a
        partition that needs them (`to_embed`)."""
        items = content.items()
        known = {item: vectors[item] for item in items if item in vectors} if vectors else {}
        matrix = item_matrix(items, known, self.embedder.dim) if len(known) == len(items) else None
        summary = summary_vector(matrix, self.embedder.dim) if matrix is not None else None
        now = self.clock()
        entry = CacheEntry(key=key.digest(), scope=key.scope, model=model, content_hash=content.digest(),
                           request=request, canonical=content, items=items, vectors=matrix, summary=summary,
                           text=text, created_at=now, last_used_at=now)
        uses, self._uses = self._uses, {}
        if self.store.local:  # SQLite: on the loop (bench/miss_cost.py: a thread per write cost 15% of req/s)
            stored = self.store.put(entry, uses=uses, capacity=self.capacity)
        else:  # a server: its round trips in a thread
            stored = await asyncio.to_thread(self.store.put, entry, uses=uses, capacity=self.capacity)
        self.index.remove(stored.removed)
        self.index.add([IndexRow(stored.entry_id, entry.key, content, summary)])
        CACHE_ENTRIES.set(stored.size if stored.size is not None else len(self.index))  # not counted: as known here
        for entry_id, entry_items in self.index.to_embed(entry.key):  # none in a small partition: never needed
            self.vectorizer.offer(VectorJob(entry_id, entry_items, known if entry_id == stored.entry_id else {}))
        return stored.entry_id

    def remove(self, ids: Sequence[int]) -> None:
        self.store.delete(ids)
        self.index.remove(list(ids))

    def forget_user(self, user_id: str) -> int:
        """Deletes every entry and audit case cached for `user_id` (scope `user:<id>`); returns how many rows.

        Entries in the `shared` scope hold no personal data by that scope's contract, so they stay.
        """
        scope = f"user:{user_id}"
        ids = self.store.in_scope(scope)
        self.index.remove(ids)
        return self.store.forget_scope(scope)  # the entries and the audit cases that quote the user's requests

    def purge_expired(self) -> int:
        """Deletes entries past their TTL; returns how many."""
        expired = self.store.created_before(self.clock() - self.ttl_s)
        self.remove(expired)
        return len(expired)

    def flush_uses(self) -> None:
        uses, self._uses = self._uses, {}
        self.store.touch(uses)

    def __len__(self) -> int:
        return len(self.store)

    # -- life cycle

    async def start(self, *, warm: bool = True) -> None:
        """Migrates the tables, reads every entry into the partitions, loads MiniLM (`warm`), and starts the
        maintenance task and the vector worker."""
        await asyncio.to_thread(self.store.migrate)
        await asyncio.to_thread(self.index.refresh, force=True)
        CACHE_ENTRIES.set(len(self.index))
        if warm:
            # Before serving: the match decision's word data (wordfreq, lemminflect) takes seconds to load.
            from peptalk.cache import words

            await asyncio.to_thread(words.warm)
        if warm and hasattr(self.embedder, "load"):
            # Before serving: importing torch holds the GIL for seconds, which would stall the answers streaming
            # meanwhile (no request waits for MiniLM any more, so nothing else would hold them back).
            await self._in_thread(self.embedder.load)
        if self.audit is not None:
            self.audit.start()
        self.vectorizer.start()
        self._maintainer = asyncio.create_task(self._maintain(), name="peptalk-cache-maintainer")

    async def maintain(self) -> None:
        """Writes pending hits, purges expired entries, drops entries other processes deleted, and offers the
        vector worker the entries still without vectors since the last time."""
        uses, self._uses = self._uses, {}
        await asyncio.to_thread(self.store.touch, uses)
        expired = await asyncio.to_thread(self.store.created_before, self.clock() - self.ttl_s)
        await asyncio.to_thread(self.store.delete, expired)
        live = await asyncio.to_thread(self.store.ids)
        self.index.refresh(force=True)
        self.index.reconcile(live)
        CACHE_ENTRIES.set(len(live))
        await self._offer_unembedded()

    async def _offer_unembedded(self) -> None:
        """Entries without vectors through a whole maintenance interval (their writer's queue was full, or it
        stopped) are embedded here, unless another process did it meanwhile."""
        waiting = self.index.pending(searched_only=True)
        overdue = [entry_id for entry_id in waiting if entry_id in self._unembedded
                   and not self.vectorizer.queued(entry_id)][:max(self.vectorizer.room(), 0)]
        self._unembedded = set(waiting)
        if not overdue:
            return
        done = await asyncio.to_thread(self.store.summaries, overdue)
        self.index.set_summaries(done)
        entries = await asyncio.to_thread(self.store.get, [entry_id for entry_id in overdue if entry_id not in done])
        for entry in entries.values():
            if entry.id is not None and entry.summary is None:
                self.vectorizer.offer(VectorJob(entry.id, tuple(entry.items)))

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self.maintain_interval_s)
            try:
                await self.maintain()
            except Exception:
                log.exception("cache maintenance failed; it is tried again")

    async def aclose(self) -> None:
        """Stops maintenance and the vector worker, drains the audit queue and writes pending hits."""
        if self._maintainer is not None:
            self._maintainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintainer
            self._maintainer = None
        await self.vectorizer.aclose()
        if self.audit is not None:
            await self.audit.aclose()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.flush_uses)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


__all__ = ["CacheHit", "HitKind", "ItemVectors", "LazyVectors", "Lookup", "SemanticCache", "changed_items",
           "summary_vector"]
