"""What the live rollout stage adds to a request, in-process: the stage lookup and the arm choice, p50/p95.

    .venv/bin/python bench/rollout_lookup.py --calls 200000

Times `RolloutLayer.arm(call, live.state)` (reading the cached stage and hashing the user id), and a whole
`RolloutLayer.astream` pass over a trivial inner layer against that inner layer alone (mirroring off), so the
second number is everything the layer adds to one call. No database access is on this path.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain_core.messages import AIMessageChunk, HumanMessage  # noqa: E402

from peptalk.rollout.base import LiveState  # noqa: E402
from peptalk.rollout.layer import RolloutLayer  # noqa: E402
from router.call import Call, AnswerFacts, facts_chunk  # noqa: E402


class Inner:
    """A layer that answers at once: one meta chunk and one text chunk."""

    async def astream(self, call: Call) -> Any:
        yield facts_chunk(AnswerFacts(model=call.model or "openai:gpt-4"))
        yield AIMessageChunk(content="You can do it.")


class Live:
    def __init__(self, state: LiveState) -> None:
        self.state = state


def quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


async def run(calls: int) -> None:
    state = LiveState(rollout_id=1, version=3, candidate="ollama:starling-lm:7b", primary="openai:gpt-4", share=0.25,
                      mirror_rate=0.0, salt="rollout:bench", stage="25", status="active")
    layer = RolloutLayer(Inner(), None, live=Live(state), writer=None, stored_user_id=str)  # type: ignore[arg-type]
    requests = [Call(messages=[HumanMessage("hi")], request={"user_id": f"user-{index}"}, request_id=str(index))
                for index in range(1000)]
    lookups = []
    for index in range(calls):
        call = requests[index % len(requests)]
        started = time.perf_counter_ns()
        layer.arm(call, layer.live.state)
        lookups.append(time.perf_counter_ns() - started)
    p50, p95 = quantiles(lookups)
    print(f"stage lookup + arm choice: p50 {p50 / 1000:.2f} us, p95 {p95 / 1000:.2f} us over {calls} calls")
    inner = Inner()

    async def drain(stream: Any) -> None:
        async for _ in stream:
            pass

    with_layer, without = [], []
    for index in range(calls // 10):
        call = requests[index % len(requests)]
        started = time.perf_counter_ns()
        await drain(inner.astream(call))
        without.append(time.perf_counter_ns() - started)
        started = time.perf_counter_ns()
        await drain(layer.astream(call))
        with_layer.append(time.perf_counter_ns() - started)
    bare, layered = quantiles(without)[0], quantiles(with_layer)[0]
    print(f"astream over a trivial layer: p50 {bare / 1000:.1f} us bare, {layered / 1000:.1f} us with the rollout "
          f"layer (+{(layered - bare) / 1000:.1f} us)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200_000)
    asyncio.run(run(parser.parse_args().calls))


if __name__ == "__main__":
    main()
