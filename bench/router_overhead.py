"""The router's own overhead: a trivial in-process chat model called through `Router.astream` versus directly.

    .venv/bin/python bench/router_overhead.py --calls 10000

Both paths stream the same 3-chunk answer from the same LangChain chat model, interleaved call by call so
that machine noise hits both alike. The routed path does everything a real request does: plan by policy,
pick a node, the tenacity retry wrapper, first-token and total timeouts, breaker and metrics bookkeeping,
the meta chunk, and the JSON "served" log line (written to a null stream). Prints p50 and p99 of each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult  # noqa: E402

from peptalk.logs import JsonFormatter  # noqa: E402
from router import Backend, Router, RouterConfig  # noqa: E402
from router.call import Call  # noqa: E402

PIECES = ("Hello", " there", "!")


class TrivialChatModel(BaseChatModel):
    """Answers instantly with three chunks."""

    @property
    def _llm_type(self) -> str:
        return "trivial"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessageChunk(content="".join(PIECES)))])

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for piece in PIECES:
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))

    async def _astream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        for piece in PIECES:
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


class TrivialBackend(Backend):
    name = "trivial"

    def __init__(self) -> None:
        self.model = TrivialChatModel()

    def models(self) -> list[str]:
        return ["echo"]

    def chat_model(self, model: str, *, node: str | None = None) -> BaseChatModel:
        return self.model


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(calls: int, warmup: int) -> dict[str, Any]:
    backend = TrivialBackend()
    router = Router({"trivial": backend}, default_model="trivial:echo", config=RouterConfig())
    await router.start()
    messages: list[BaseMessage] = [HumanMessage("hi")]

    async def direct() -> float:
        started = time.perf_counter()
        async for _ in backend.model.astream(messages):
            pass
        return time.perf_counter() - started

    async def routed() -> float:
        started = time.perf_counter()
        async for _ in router.astream(Call(messages=messages, request={"user_id": "bench"})):
            pass
        return time.perf_counter() - started

    for _ in range(warmup):
        await direct()
        await routed()
    direct_s, routed_s = [], []
    for _ in range(calls):
        direct_s.append(await direct())
        routed_s.append(await routed())
    added = [r - d for r, d in zip(routed_s, direct_s, strict=True)]

    def ms(values: list[float], q: float) -> float:
        return round(percentile(values, q) * 1000, 3)

    return {
        "calls": calls,
        "direct_ms": {"p50": ms(direct_s, 0.5), "p99": ms(direct_s, 0.99)},
        "routed_ms": {"p50": ms(routed_s, 0.5), "p99": ms(routed_s, 0.99)},
        "added_ms": {"p50": round(ms(routed_s, 0.5) - ms(direct_s, 0.5), 3),
                     "p99": round(ms(routed_s, 0.99) - ms(direct_s, 0.99), 3),
                     "p50_of_pairs": ms(added, 0.5)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=500)
    args = parser.parse_args()
    logger = logging.getLogger("peptalk")
    logger.setLevel("INFO")
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 (lives as long as the process)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.propagate = False
    result = asyncio.run(run(args.calls, args.warmup))
    print(json.dumps(result, indent=2))
    print()
    print("| path | p50 (ms) | p99 (ms) |")
    print("|---|---|---|")
    print(f"| direct `chat_model.astream` | {result['direct_ms']['p50']} | {result['direct_ms']['p99']} |")
    print(f"| through `Router.astream` | {result['routed_ms']['p50']} | {result['routed_ms']['p99']} |")
    print(f"| added by the router | {result['added_ms']['p50']} | {result['added_ms']['p99']} |")


if __name__ == "__main__":
    main()
