"""Decode speed of the embedded model: through the chain against raw llama-cpp-python, and at concurrent users.

    .venv/bin/python bench/embedded_decode.py --rounds 6 --max-tokens 96
    .venv/bin/python bench/embedded_decode.py --users 1,4,8 --engines server,inprocess --rounds 2 --max-tokens 96

The first form: both paths use the same GGUF, prompt, 2 threads and greedy decoding with the same token budget;
rounds alternate raw/chain so machine noise hits both alike. Decode tok/s = (tokens - 1) / (last - first token).

The second form (`--users`): for each engine, N closed-loop users each send `--requests` pep-talk requests
through the chain (cache bypassed, a different context each, the catalog's sampling), starting within the first
`--stagger` seconds, as independent users would. Aggregate output tokens/s = every answer's output tokens /
(last answer's end - first request's start); TTFT is the median time to the first text chunk. Levels alternate
within each round, so machine noise hits every level alike; ratios are against 1 user of the same engine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peptalk.chain import build_chain  # noqa: E402
from peptalk.prompt import render_prompt  # noqa: E402
from peptalk.schema import PepTalkRequest  # noqa: E402
from peptalk.settings import Settings  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402
from router.config import load_router_config  # noqa: E402
from router.registry import build_backends  # noqa: E402
from router.router import Router  # noqa: E402

REQUEST = {"user_id": "bench", "today": "2026-11-22", "last_login": "2026-11-21",
           "completed_tasks": ["Wrote the quarterly report", "Fixed the login bug"],
           "focused_tasks": ["Prepare the board slides", "Review the hiring plan"],
           "rituals": ["Morning walk", "Read 20 pages"], "goals": ["Launch the beta", "Run 30 km this week"]}


def decode_rate(stamps: list[float]) -> float:
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 2 else float("nan")


def raw_round(llama, prompt: str, max_tokens: int) -> tuple[float, int]:
    stamps = []
    for chunk in llama.create_chat_completion(messages=[{"role": "user", "content": prompt}], stream=True,
                                              max_tokens=max_tokens, temperature=0.0, seed=1):
        if chunk["choices"][0].get("delta", {}).get("content"):
            stamps.append(time.perf_counter())
    return decode_rate(stamps), len(stamps)


async def chain_round(chain, max_tokens: int) -> tuple[float, int]:
    stamps = []
    async for chunk in chain.astream(REQUEST):
        if chunk.get("text"):
            stamps.append(time.perf_counter())
    return decode_rate(stamps), len(stamps)


async def user(chain, contexts: list[dict], requests: int, delay: float) -> list[tuple[float, float, float, int]]:
    """(start, ttft, end, output tokens) of each of one closed-loop user's requests."""
    await asyncio.sleep(delay)
    done = []
    for context in contexts[:requests]:
        started = time.perf_counter()
        first, tokens = None, 0
        async for chunk in chain.astream(context, config={"configurable": {"cache": "bypass"}}):
            if chunk.get("text") and first is None:
                first = time.perf_counter() - started
            tokens = ((chunk.get("metadata") or {}).get("usage") or {}).get("output_tokens", tokens)
        done.append((started, first or float("nan"), time.perf_counter(), tokens))
    return done


async def level(chain, users: int, requests: int, stagger: float, contexts: list[dict]) -> tuple[float, float, int]:
    """Aggregate output tokens/s, median TTFT and total tokens of `users` concurrent users."""
    rng = random.Random(users)
    runs = await asyncio.gather(*(
        user(chain, contexts[index * requests:(index + 1) * requests], requests,
             0.0 if users == 1 else rng.uniform(0, stagger)) for index in range(users)))
    rows = [row for run in runs for row in run]
    tokens = sum(row[3] for row in rows)
    span = max(row[2] for row in rows) - min(row[0] for row in rows)
    return tokens / span, statistics.median(row[1] for row in rows), tokens


async def concurrency(args: argparse.Namespace) -> None:
    levels = [int(part) for part in args.users.split(",")]
    contexts = load_contexts()
    for engine in args.engines.split(","):
        settings = Settings(_env_file=None, max_tokens=args.max_tokens, log_level="WARNING", embedded_engine=engine,
                            embedded_parallel=max(levels), cache_enabled=False, embedded_threads=args.threads,
                            request_timeout_s=600, request_deadline_s=600)
        router = Router(build_backends(settings), default_model=settings.default_model,
                        config=load_router_config(settings))
        await router.start()
        chain = build_chain(router)
        results: dict[int, list[tuple[float, float, int]]] = {users: [] for users in levels}
        try:
            await level(chain, 1, 1, 0.0, contexts[-1:])  # warm-up, on a context no level uses
            for round_ in range(args.rounds):
                offset = round_ * max(levels) * args.requests
                for users in levels:
                    picked = (contexts[offset:] + contexts)[: users * args.requests]
                    results[users].append(await level(chain, users, args.requests, args.stagger, picked))
        finally:
            await router.aclose()
        base_rate = statistics.median(row[0] for row in results[levels[0]])
        base_ttft = statistics.median(row[1] for row in results[levels[0]])
        for users in levels:
            rate = statistics.median(row[0] for row in results[users])
            ttft = statistics.median(row[1] for row in results[users])
            tokens = sum(row[2] for row in results[users])
            print(f"{engine:9s} {users} users: aggregate {rate:6.1f} tok/s ({rate / base_rate:.2f}x), median TTFT "
                  f"{ttft * 1000:7.0f} ms ({ttft / base_ttft:.2f}x), {tokens} tokens in {args.rounds} rounds",
                  flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--users", default="", help="concurrency mode: user counts, e.g. 1,4,8")
    parser.add_argument("--engines", default="server,inprocess", help="concurrency mode: embedded engines")
    parser.add_argument("--requests", type=int, default=2, help="concurrency mode: requests per user")
    parser.add_argument("--threads", type=int, default=2, help="concurrency mode: llama.cpp threads per engine")
    parser.add_argument("--stagger", type=float, default=1.0, help="concurrency mode: users start within this (s)")
    args = parser.parse_args()
    if args.users:
        await concurrency(args)
        return

    settings = Settings(_env_file=None, max_tokens=args.max_tokens, temperature=0.0, log_level="WARNING")
    router = Router(build_backends(settings), default_model=settings.default_model)
    await router.start()
    chain = build_chain(router)
    runtime = router.backends["embedded"].runtime  # the same loaded model serves the raw path
    prompt = render_prompt(PepTalkRequest.model_validate(REQUEST))
    raw_rates, chain_rates = [], []
    raw_round(runtime._llama, prompt, 8)  # warm-up
    for _ in range(args.rounds):
        rate, raw_tokens = await asyncio.to_thread(raw_round, runtime._llama, prompt, args.max_tokens)
        raw_rates.append(rate)
        rate, chain_tokens = await chain_round(chain, args.max_tokens)
        chain_rates.append(rate)
    await router.aclose()
    raw, through_chain = statistics.median(raw_rates), statistics.median(chain_rates)
    print(f"tokens per round: raw {raw_tokens}, chain {chain_tokens}")
    print(f"raw llama-cpp-python decode: {raw:.1f} tok/s (median of {args.rounds})")
    print(f"through the chain decode:    {through_chain:.1f} tok/s (median of {args.rounds})")
    print(f"ratio chain/raw: {through_chain / raw:.3f} (target >= 0.9)")


if __name__ == "__main__":
    asyncio.run(main())
