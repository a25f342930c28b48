"""Semantic cache latency: a hit against a miss on the embedded model, a hit against the embedding alone,
and lookup time (embedding excluded) at 1k, 10k and 100k entries.

    .venv/bin/python bench/cache_latency.py --requests 10 --max-tokens 200 --sizes 1000,10000,100000

Runs in-process at the `ChatLayer` level (cache layer over the router's embedded backend), real MiniLM and FAISS.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain_core.messages import HumanMessage  # noqa: E402

from peptalk.cache import (  # noqa: E402
    CacheEntry, CacheKey, FaissIndex, MiniLMEmbedder, SemanticCache, SemanticCacheLayer, SqliteCacheStore,
    pinned_or_default_model,
)
from peptalk.prompt import render_prompt  # noqa: E402
from peptalk.schema import PepTalkRequest  # noqa: E402
from peptalk.settings import Settings  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402
from router.call import Call  # noqa: E402
from router.registry import build_backends  # noqa: E402
from router.router import Router  # noqa: E402


def new_cache(**options: object) -> SemanticCache:
    return SemanticCache(embedder=MiniLMEmbedder(), index_factory=partial(FaissIndex, hnsw_above=4096),
                         store=SqliteCacheStore(), **options)  # type: ignore[arg-type]


async def timed_call(layer: SemanticCacheLayer, request: PepTalkRequest) -> tuple[float, bool]:
    call = Call(messages=[HumanMessage(render_prompt(request))], request=request.model_dump(mode="json"))
    started = time.perf_counter()
    hit = False
    async for chunk in layer.astream(call):
        hit = hit or bool(chunk.response_metadata.get("peptalk", {}).get("cache_hit"))
    return time.perf_counter() - started, hit


async def hit_against_miss_and_embedding(requests: int, max_tokens: int) -> None:
    settings = Settings(_env_file=None, max_tokens=max_tokens, log_level="WARNING")
    router = Router(build_backends(settings), default_model=settings.default_model)
    await router.start()
    cache = new_cache()
    layer = SemanticCacheLayer(router, cache, model_for=lambda call: pinned_or_default_model(router, call))
    contexts = [PepTalkRequest.model_validate(item) for item in load_contexts()[: requests + 1]]
    await timed_call(layer, contexts[-1])  # warm-up: MiniLM and llama.cpp loaded
    misses, hits, embeds = [], [], []
    for request in contexts[:requests]:
        seconds, hit = await timed_call(layer, request)
        assert not hit
        misses.append(seconds)
        for _ in range(5):  # interleaved, so both see the same machine load
            seconds, hit = await timed_call(layer, request)
            assert hit
            hits.append(seconds)
            started = time.perf_counter()
            await cache.embed(request.content_sections())
            embeds.append(time.perf_counter() - started)
    await router.aclose()
    miss, hit, embed = (statistics.median(values) for values in (misses, hits, embeds))
    print(f"miss (embedded model, {max_tokens} max tokens): p50 {1000 * miss:.0f} ms over {len(misses)}")
    print(f"hit: p50 {1000 * hit:.1f} ms over {len(hits)}; hit is {miss / hit:.0f}x faster than a miss")
    print(f"embedding alone (4 list texts): p50 {1000 * embed:.1f} ms; hit / embedding = {hit / embed:.2f}")


def synthetic_sections(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    vectors = rng.standard_normal((n, 4, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=2, keepdims=True)


def lookup_by_size(sizes: list[int], lookups: int, ef_searches: list[int]) -> None:
    rng = np.random.default_rng(7)
    for size in sizes:
        for scope in ("shared", "user"):
            cache = new_cache(capacity=size)
            sections = synthetic_sections(rng, size, cache.layout.section_dim)
            keys = [CacheKey("shared" if scope == "shared" else f"user:u{n // 5}", "embedded:smollm2-135m",
                             "2026-11-22", "2026-11-21") for n in range(size)]
            started = time.perf_counter()
            ids = [cache.store.add(CacheEntry(key=key.digest(), scope=key.scope, model=key.model, content_hash=str(n),
                                              text="pep talk", created_at=time.time(), last_used_at=time.time()))
                   for n, key in enumerate(keys)]
            vectors = np.stack([cache.layout.compose(sections[n], keys[n].digest()) for n in range(size)])
            cache.index.add(ids, vectors)  # bulk load; one insert at a time gives the same index, slower
            build = time.perf_counter() - started
            queries = rng.integers(0, size, lookups)
            for ef_search in ef_searches:
                cache.index.set_ef_search(ef_search)
                timings, found = [], 0
                for n in queries:
                    noisy = sections[n] + 0.01 * rng.standard_normal(sections[n].shape).astype(np.float32)
                    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
                    started = time.perf_counter()
                    found += cache.lookup(keys[n], noisy) is not None
                    timings.append(time.perf_counter() - started)
                timings.sort()
                ef = f" efSearch {ef_search}" if cache.index.kind == "hnsw" else ""
                print(f"{size:>7} entries, {scope:>6} scope, {cache.index.kind}{ef}: lookup p50 "
                      f"{1000 * statistics.median(timings):.3f} ms, p99 {1000 * timings[int(0.99 * (len(timings) - 1))]:.3f}"
                      f" ms, hit rate {found / lookups:.2f} (load {build:.0f} s)")
                if cache.index.kind != "hnsw":
                    break


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--skip-model", action="store_true")
    parser.add_argument("--ef-search", default="32", help="HNSW efSearch values to try on each index, e.g. 32,64,128")
    args = parser.parse_args()
    if not args.skip_model:
        asyncio.run(hit_against_miss_and_embedding(args.requests, args.max_tokens))
    lookup_by_size([int(size) for size in args.sizes.split(",")], args.lookups,
                   [int(ef) for ef in args.ef_search.split(",")])


if __name__ == "__main__":
    main()
