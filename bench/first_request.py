"""The README's first request: on a fresh `peptalk serve`, and the embedded model's own answer lengths.

    .venv/bin/python bench/first_request.py --runs 3                       # fresh serve, as `make serve` runs it
    .venv/bin/python bench/first_request.py --runs 3 --engine inprocess    # the in-process engine instead
    .venv/bin/python bench/first_request.py --lengths 20                   # 20 answers, no limit: how long they are

The serve mode starts `peptalk serve` (the settings `make serve` adds: scripts/serve.sh) once per run with an
empty cache, sends the README's request once, and prints the time, the output tokens, the finish reason and
which of the user's tasks the answer names. The lengths mode asks the model itself (in process, no server)
with a 1,024-token limit and the catalog's sampling, and prints the distribution of answer lengths: the
evidence for the model's `max_tokens` in router/catalog/slam.yaml.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port, running  # noqa: E402

# The README's request, verbatim.
README_REQUEST = {"user_id": "ada", "today": "2026-11-22", "last_login": "2026-11-21",
                  "completed_tasks": ["Wrote the design doc"], "focused_tasks": ["Review two pull requests"],
                  "rituals": ["Morning run"], "goals": ["Ship the beta"]}
# What naming one of the user's items looks like (lower-case stems; the model paraphrases).
TASK_WORDS = {"design doc": r"design doc", "pull requests": r"pull request", "morning run": r"morning run|\brun",
              "beta": r"\bbeta\b"}


def named_tasks(text: str) -> list[str]:
    lowered = text.lower()
    return [name for name, pattern in TASK_WORDS.items() if re.search(pattern, lowered)]


def sentences(text: str) -> int:
    return len(re.findall(r"[.!?]+[\"')\]]*(?:\s|$)", text.strip()))


def serve_run(engine: str, threads: int) -> dict[str, object]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as scratch:
        env = {"PEPTALK_EMBEDDED_ENGINE": engine, "PEPTALK_SENTENCE_BUDGET": "4", "PEPTALK_EMBEDDED_THREADS": str(threads),
               "PEPTALK_DATA_DIR": scratch,  # a fresh app database: an empty cache
               "PEPTALK_LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1"}
        cmd = [str(Path(sys.executable).parent / "peptalk"), "serve", "--port", str(port)]
        started = time.perf_counter()
        with running(cmd, f"{url}/readyz", log=ROOT / "var" / "bench-first-request.log", env=env, timeout_s=180):
            up = time.perf_counter() - started
            sent = time.perf_counter()
            response = httpx.post(f"{url}/peptalk/invoke", json={"input": README_REQUEST}, timeout=300)
            seconds = time.perf_counter() - sent
    response.raise_for_status()
    output = response.json()["output"]
    metadata = output.get("metadata", {})
    return {"startup_s": up, "seconds": seconds, "tokens": (metadata.get("usage") or {}).get("output_tokens"),
            "finish_reason": metadata.get("finish_reason"), "cache": metadata.get("cache"),
            "tasks": named_tasks(output["text"]), "sentences": sentences(output["text"]), "text": output["text"]}


async def lengths(samples: int, repeat_penalty: float | None) -> None:
    from peptalk.chain import build_chain
    from peptalk.settings import Settings
    from router.config import load_router_config
    from router.registry import build_backends
    from router.router import Router

    # Lengths, not speed: one thread and no time limit, so a busy machine slows the run but cannot cut it.
    settings = Settings(_env_file=None, max_tokens=1024, log_level="WARNING", embedded_engine="inprocess",
                        embedded_threads=1, request_timeout_s=3600, request_deadline_s=3600)
    backends = build_backends(settings)
    if repeat_penalty is not None:  # compare sampling choices without editing the catalog
        embedded = backends["embedded"]
        embedded.generation = type(embedded.generation)(**{  # type: ignore[attr-defined]
            **embedded.generation.__dict__, "sampling": {**embedded.generation.sampling,  # type: ignore[attr-defined]
                                                          "repeat_penalty": repeat_penalty}})
    router = Router(backends, default_model=settings.default_model, config=load_router_config(settings))
    await router.start()
    chain = build_chain(router)
    rows = []
    try:
        for index in range(samples):
            answer = await chain.ainvoke(README_REQUEST, config={"configurable": {"cache": "bypass"}})
            metadata = answer.get("metadata", {})
            tokens = (metadata.get("usage") or {}).get("output_tokens", 0)
            rows.append((tokens, metadata.get("finish_reason"), sentences(answer["text"]), named_tasks(answer["text"])))
            print(f"  answer {index + 1}: {tokens} tokens, {rows[-1][2]} sentences, finish {rows[-1][1]}, "
                  f"names {rows[-1][3] or 'none'}", flush=True)
    finally:
        await router.aclose()
    tokens = sorted(row[0] for row in rows)
    stopped = sum(row[1] == "stop" for row in rows)
    on_topic = sum(bool(row[3]) for row in rows)
    p90 = tokens[min(len(tokens) - 1, round(0.9 * (len(tokens) - 1)))]
    print(f"answers: {len(rows)}; stopped by themselves: {stopped}; named a task: {on_topic}")
    print(f"output tokens: median {statistics.median(tokens):.0f}, p90 {p90}, max {tokens[-1]}")
    print(f"tokens per sentence (median): {statistics.median(row[0] / max(row[2], 1) for row in rows):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="fresh serves, one request each")
    parser.add_argument("--engine", choices=["server", "inprocess"], default="server",
                        help="the embedded engine (make serve: server)")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads (make serve: 2)")
    parser.add_argument("--lengths", type=int, default=0, help="instead: this many answers in process, no limit")
    parser.add_argument("--repeat-penalty", type=float, default=None, help="lengths mode: override the catalog's")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    if args.lengths:
        asyncio.run(lengths(args.lengths, args.repeat_penalty))
        return
    for run in range(args.runs):
        result = serve_run(args.engine, args.threads)
        print(f"run {run + 1} ({args.engine}): {result['seconds']:.2f} s, {result['tokens']} tokens, finish "
              f"{result['finish_reason']}, cache {result['cache']}, {result['sentences']} sentences, names "
              f"{result['tasks'] or 'none'} (serve ready in {result['startup_s']:.1f} s)")
        print(f"  {result['text']!r}")


if __name__ == "__main__":
    main()
