"""Decode speed of the embedded model through the pep-talk chain against raw llama-cpp-python, side by side.

    .venv/bin/python bench/embedded_decode.py --rounds 6 --max-tokens 96

Both paths use the same GGUF, prompt, 2 threads and greedy decoding with the same token budget; rounds
alternate raw/chain so machine noise hits both alike. Decode tok/s = (tokens - 1) / (last - first token).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peptalk.chain import build_chain  # noqa: E402
from peptalk.prompt import render_prompt  # noqa: E402
from peptalk.schema import PepTalkRequest  # noqa: E402
from peptalk.settings import Settings  # noqa: E402
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


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()

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
