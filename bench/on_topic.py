"""How often the embedded model's pep talk names one of the user's items, by temperature: the evidence for
SmolLM2's catalog `temperature` (router/catalog/slam.yaml).

    .venv/bin/python bench/on_topic.py --temperatures 0.7,0.3 --readme 12 --contexts 6 --per-context 4

For each temperature, in process with the catalog's sampling and the sentence budget `make serve` sets (4):
the README's request `--readme` times, then `--contexts` synthetic contexts (`peptalk.synthetic`, from the 21st)
`--per-context` times each, cache bypassed. An answer names an item when a word of 5 or more letters of one
of the request's items (not a stop word) appears in it. Prints the counts and Fisher's exact test between the
first two temperatures. Counts, not times: the machine's load does not change them.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.first_request import README_REQUEST  # noqa: E402

STOP = {"with", "from", "about", "before", "after", "their", "your", "this", "that", "week", "today", "every"}


def names_an_item(request: dict[str, Any], text: str) -> bool:
    lowered = text.lower()
    items = [*request["completed_tasks"], *request["focused_tasks"], *request["rituals"], *request["goals"]]
    return any(word in lowered for item in items for word in re.findall(r"[a-z]{5,}", item.lower())
               if word not in STOP)


async def count(temperature: float, requests: list[dict[str, Any]]) -> int:
    from peptalk.chain import build_chain
    from peptalk.settings import Settings
    from router.config import load_router_config
    from router.registry import build_backends
    from router.router import Router

    settings = Settings(_env_file=None, log_level="WARNING", embedded_engine="inprocess", sentence_budget=4,
                        temperature=temperature, request_timeout_s=3600, request_deadline_s=3600)
    router = Router(build_backends(settings), default_model=settings.default_model,
                    config=load_router_config(settings))
    await router.start()
    named = 0
    try:
        chain = build_chain(router)
        for index, request in enumerate(requests):
            answer = await chain.ainvoke(request, config={"configurable": {"cache": "bypass"}})
            named += names_an_item(request, answer["text"])
            print(f"\r  temperature {temperature}: {index + 1}/{len(requests)}", end="", file=sys.stderr, flush=True)
    finally:
        await router.aclose()
        print(file=sys.stderr)
    return named


def main() -> None:
    from scipy.stats import fisher_exact

    from peptalk.synthetic import load_contexts

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--temperatures", default="0.7,0.3")
    parser.add_argument("--readme", type=int, default=12)
    parser.add_argument("--contexts", type=int, default=6)
    parser.add_argument("--per-context", type=int, default=4)
    args = parser.parse_args()
    temperatures = [float(value) for value in args.temperatures.split(",")]
    contexts = load_contexts()[20:20 + args.contexts]
    requests = [README_REQUEST] * args.readme + [context for context in contexts for _ in range(args.per_context)]
    counts = {temperature: asyncio.run(count(temperature, requests)) for temperature in temperatures}
    for temperature, named in counts.items():
        print(f"temperature {temperature}: {named} of {len(requests)} answers name one of the user's items")
    if len(temperatures) >= 2:
        first, second = (counts[temperature] for temperature in temperatures[:2])
        table = [[first, len(requests) - first], [second, len(requests) - second]]
        print(f"Fisher's exact test, {temperatures[0]} against {temperatures[1]}: p = {fisher_exact(table)[1]:.4f}")


if __name__ == "__main__":
    main()
