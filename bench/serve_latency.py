"""Time to first token over `/peptalk/stream` and end-to-end latency of `/peptalk/invoke`, on a real uvicorn.

    .venv/bin/python bench/serve_latency.py --requests 10 --max-tokens 64

Starts the app (embedded model) on 127.0.0.1, sends requests one at a time, and prints p50/p90 of each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peptalk.synthetic import load_contexts  # noqa: E402
from tests.helpers import free_port, running  # noqa: E402

REQUEST = {"user_id": "bench", "today": "2026-11-22", "last_login": "2026-11-21",
           "completed_tasks": ["Wrote the quarterly report"], "focused_tasks": ["Prepare the board slides"],
           "rituals": ["Morning walk"], "goals": ["Launch the beta"]}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def stream_once(client: httpx.Client, url: str, payload: dict) -> tuple[float, float]:
    started = time.perf_counter()
    first = None
    with client.stream("POST", f"{url}/peptalk/stream", json={"input": payload}) as response:
        for line in response.iter_lines():
            if line.startswith("data:") and first is None:
                payload = json.loads(line[5:])
                if isinstance(payload, dict) and payload.get("text"):
                    first = time.perf_counter() - started
    return first or float("nan"), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "uvicorn", "langserve_app:create_app", "--factory", "--port", str(port),
           "--log-level", "warning"]
    # Cache off: this measures the model serving path; a repeated prompt would otherwise be a cache hit.
    env = {"PEPTALK_MAX_TOKENS": str(args.max_tokens), "PEPTALK_LOG_LEVEL": "WARNING", "PEPTALK_CACHE_ENABLED": "false"}
    with running(cmd, f"{url}/readyz", log=ROOT / "var" / "bench-serve.log", env=env), httpx.Client(timeout=120) as client:
        client.post(f"{url}/peptalk/invoke", json={"input": REQUEST})  # warm-up
        contexts = load_contexts()
        repeated, fresh, invokes = [], [], []
        for index in range(args.requests):
            repeated.append(stream_once(client, url, REQUEST)[0])  # same prompt: llama.cpp reuses its KV cache
            fresh.append(stream_once(client, url, contexts[index % len(contexts)])[0])  # a new user's prompt
            started = time.perf_counter()
            client.post(f"{url}/peptalk/invoke", json={"input": REQUEST}).raise_for_status()
            invokes.append(time.perf_counter() - started)
    for name, values in (("repeated prompt", repeated), ("new prompt each time", fresh)):
        print(f"time to first token over /peptalk/stream, {name}: p50 {1000 * statistics.median(values):.0f} ms, "
              f"p90 {1000 * percentile(values, 0.9):.0f} ms ({args.requests} requests)")
    print(f"end-to-end /peptalk/invoke ({args.max_tokens} max tokens): p50 {1000 * statistics.median(invokes):.0f} ms, "
          f"p90 {1000 * percentile(invokes, 0.9):.0f} ms")


if __name__ == "__main__":
    main()
