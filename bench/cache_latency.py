"""Semantic cache latency: a hit against a miss on the embedded model, a near (semantic) hit against one embedding
batch, and lookup time (embedding excluded) at 1k, 10k and 100k entries in user and shared scope.

    .venv/bin/python bench/cache_latency.py --requests 5 --max-tokens 200 --sizes 1000,10000,100000

In-process at the `ChatLayer` level (cache layer over the router's embedded backend), real MiniLM, FAISS and
SQLite (a file in a temporary folder, as the app uses). The lookups by size use synthetic entries: two items each,
random unit vectors per item; each lookup changes one item of a stored entry by a typo and its vector by a little
noise, so the entry it must find is known (recall).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain_core.messages import HumanMessage  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from peptalk.cache import (  # noqa: E402
    CacheKey, CanonicalContent, FaissIndex, Generation, MiniLMEmbedder, SemanticCache, SemanticCacheLayer,
    SqlCacheStore, pinned_or_default_model,
)
from peptalk.cache.vectorizer import summary_vector  # noqa: E402
from peptalk.cache.sql_store import cache_entries, canonical_json  # noqa: E402
from peptalk.db import sqlite_url  # noqa: E402
from peptalk.prompt import render_prompt  # noqa: E402
from peptalk.schema import PepTalkRequest  # noqa: E402
from peptalk.settings import Settings  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402
from router.call import Call  # noqa: E402
from router.registry import build_backends  # noqa: E402
from router.router import Router  # noqa: E402

GENERATION = Generation(template="bench", temperature=0.7, max_tokens=200)
DIM = 384


class TableEmbedder:
    """The synthetic vectors of the lookups by size: each text's vector from `table`."""

    dim = DIM

    def __init__(self) -> None:
        self.table: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.table[text] for text in texts])


def new_cache(folder: Path, embedder: object = None, **options: object) -> SemanticCache:
    return SemanticCache(embedder=embedder or MiniLMEmbedder(), store=SqlCacheStore.from_url(sqlite_url(folder / "peptalk.db")),
                         index_factory=partial(FaissIndex, hnsw_above=4096, ef_search=int(options.pop("ef", 64))),
                         generation=GENERATION, **options)  # type: ignore[arg-type]


async def timed_call(layer: SemanticCacheLayer, payload: dict) -> tuple[float, str]:
    request = PepTalkRequest.model_validate(payload)
    call = Call(messages=[HumanMessage(render_prompt(request))], request=request.model_dump(mode="json"))
    started = time.perf_counter()
    served = "miss"
    async for chunk in layer.astream(call):
        served = chunk.response_metadata.get("peptalk", {}).get("cache", served)
    return time.perf_counter() - started, served


def with_typo(payload: dict) -> dict | None:
    """The payload with one long word of one item misspelt (two letters swapped), or None."""
    for name in ("focused_tasks", "completed_tasks", "goals", "rituals"):
        for index, item in enumerate(payload[name]):
            words = item.split(" ")
            for position, word in enumerate(words):
                if len(word) >= 6 and word.isalpha() and word.islower():
                    words[position] = word[:2] + word[3] + word[2] + word[4:]
                    changed = list(payload[name])
                    changed[index] = " ".join(words)
                    return payload | {name: changed}
    return None


async def hit_against_miss_and_embedding(requests: int, max_tokens: int) -> None:
    settings = Settings(_env_file=None, max_tokens=max_tokens, log_level="WARNING")
    router = Router(build_backends(settings), default_model=settings.default_model)
    await router.start()
    with tempfile.TemporaryDirectory() as folder:
        cache = new_cache(Path(folder))
        await cache.start()
        layer = SemanticCacheLayer(router, cache, model_for=lambda call: pinned_or_default_model(router, call))
        contexts = [context for context in load_contexts() if with_typo(context)][: requests + 1]
        await timed_call(layer, contexts[-1])  # warm-up: MiniLM and llama.cpp loaded
        misses, exact, near, embeds = [], [], [], []
        for payload in contexts[:requests]:
            seconds, served = await timed_call(layer, payload)
            assert served == "miss", served
            misses.append(seconds)
            for _ in range(5):  # interleaved, so all see the same machine load
                seconds, served = await timed_call(layer, payload)
                assert served == "exact", served
                exact.append(seconds)
                seconds, served = await timed_call(layer, with_typo(payload))  # type: ignore[arg-type]
                assert served == "semantic", served
                near.append(seconds)
                items = CanonicalContent.of(with_typo(payload)).items()  # type: ignore[arg-type]
                started = time.perf_counter()
                cache.embedder.embed(items)  # what a near hit embeds: every distinct item, one batch
                embeds.append(time.perf_counter() - started)
        await cache.aclose()
    await router.aclose()
    miss, hit, semantic, embed = (statistics.median(values) for values in (misses, exact, near, embeds))
    print(f"miss (embedded model, {max_tokens} max tokens): p50 {1000 * miss:.0f} ms over {len(misses)}")
    print(f"exact hit: p50 {1000 * hit:.2f} ms over {len(exact)} (no embedding); {miss / hit:.0f}x faster than a miss")
    print(f"near (semantic) hit: p50 {1000 * semantic:.1f} ms over {len(near)}; one embedding batch of the same items:"
          f" p50 {1000 * embed:.1f} ms; near hit / embedding = {semantic / embed:.2f} (target <= 1.5)")


def fill(store: SqlCacheStore, size: int, scope: str, rng: np.random.Generator) -> list[tuple[CacheKey, dict, dict]]:
    """`size` synthetic entries written straight into the store; returns (key, request, item vectors) per entry."""
    words = ["quarterly", "migration", "onboarding", "retrospective", "insurance", "prescription", "passport",
             "newsletter", "dashboard", "runbook", "scorecard", "presentation"]
    letters = random.Random(size)
    made, rows = [], []
    now = time.time()
    for n in range(size):
        key = CacheKey("shared" if scope == "shared" else f"user:u{n // 5}", "embedded:smollm2-135m", "2026-11-22",
                       "2026-11-21", GENERATION)
        code = "".join(letters.choices("bcdfghjklmnpqrstvwxz", k=6))
        request = {"user_id": f"u{n // 5}", "today": "2026-11-22", "last_login": "2026-11-21", "completed_tasks": [],
                   "focused_tasks": [f"prepare the {words[n % 12]} {code} report"], "rituals": [],
                   "goals": [f"finish the {words[(n * 7) % 12]} {code} plan"]}
        content = CanonicalContent.of(request)
        items = content.items()
        vectors = rng.standard_normal((len(items), DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows.append({"key": key.digest(), "scope": key.scope, "model": key.model, "content_hash": content.digest(),
                     "request": request, "canonical": canonical_json(content), "items": items,
                     "vectors": vectors.tobytes(), "summary": summary_vector(vectors, DIM).tobytes(), "text": "pep talk",
                     "created_at": now, "last_used_at": now, "hits": 0})
        made.append((key, request, dict(zip(items, vectors, strict=True))))
    with store.engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(cache_entries), rows[start:start + 5000])
    return made


async def lookup_by_size(sizes: list[int], lookups: int, ef_search: int, scopes: list[str]) -> None:
    rng = np.random.default_rng(7)
    for size in sizes:
        for scope in scopes:
            with tempfile.TemporaryDirectory() as folder:
                embedder = TableEmbedder()
                cache = new_cache(Path(folder), embedder, capacity=size, ef=ef_search)
                await asyncio.to_thread(cache.store.migrate)
                made = fill(cache.store, size, scope, rng)
                started = time.perf_counter()
                await cache.start(warm=False)
                load = time.perf_counter() - started
                kind = "numpy (exact)"
                partition = cache.index.partitions[made[0][0].digest()]
                if partition.index is not None:
                    kind = f"FAISS {partition.index.kind}" + (f" efSearch {ef_search}"
                                                              if partition.index.kind == "hnsw" else "")
                semantic, exact, cpu, found = [], [], [], 0
                for n in rng.integers(0, size, lookups):
                    key, request, vectors = made[n]
                    changed = request | {"focused_tasks": [request["focused_tasks"][0].replace("prepare", "perpare")]}
                    content = CanonicalContent.of(changed)
                    query = dict(vectors)
                    typo_item, = set(content.items()) - set(vectors)
                    noisy = vectors[CanonicalContent.of(request).lists[1][0]] + 0.01 * rng.standard_normal(DIM)  # cos ~0.98
                    query[typo_item] = (noisy / np.linalg.norm(noisy)).astype(np.float32)
                    started, cpu_started = time.perf_counter(), time.thread_time()
                    embedder.table = query
                    hit = (await cache.lookup(key, content)).hit
                    semantic.append(time.perf_counter() - started)
                    cpu.append(time.thread_time() - cpu_started)  # CPU time: what other jobs' load does not add
                    found += hit is not None and hit.entry.request == request
                    started = time.perf_counter()
                    assert cache.exact(key, CanonicalContent.of(request)) is not None
                    exact.append(time.perf_counter() - started)
                semantic.sort()
                print(f"{size:>7} entries, {scope:>6} scope ({kind}): semantic lookup p50 "
                      f"{1000 * statistics.median(semantic):.3f} ms, p99 {1000 * semantic[int(0.99 * (len(semantic) - 1))]:.3f}"
                      f" ms, CPU p50 {1000 * statistics.median(cpu):.3f} ms, recall {found / lookups:.3f}; exact lookup p50 {1000 * statistics.median(exact):.3f} ms"
                      f" (start-up load {load:.1f} s)", flush=True)
                await cache.aclose()
                cache.store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--skip-model", action="store_true")
    parser.add_argument("--ef-search", type=int, default=64, help="HNSW efSearch of large partitions")
    parser.add_argument("--scopes", default="user,shared")
    args = parser.parse_args()
    if not args.skip_model:
        asyncio.run(hit_against_miss_and_embedding(args.requests, args.max_tokens))
    asyncio.run(lookup_by_size([int(size) for size in args.sizes.split(",")], args.lookups, args.ef_search,
                              args.scopes.split(",")))


if __name__ == "__main__":
    main()
