"""What shadow traffic costs the primary: p50/p95 of /peptalk/invoke with shadowing off and on, in one run.

    .venv/bin/python bench/shadow_overhead.py --requests 40 --candidate remote
    .venv/bin/python bench/shadow_overhead.py --requests 20 --candidate llamacpp --order phased

Starts two apps on uvicorn (127.0.0.1), both serving the embedded model: one without shadowing, one that mirrors
every request to a candidate slower than the primary. `remote` is an OpenAI-protocol endpoint that answers after
`--first-token-s` without using this machine's CPU (a GPU node elsewhere); `llamacpp` is the real llama.cpp
OpenAI server on the same cores, generating `--candidate-tokens` tokens. Requests go one at a time, to the two
apps in alternation (`interleaved`) or all to one, then all to the other (`phased`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from peptalk.db import sqlite_url  # noqa: E402
from peptalk.shadow import SqlShadowStore  # noqa: E402
from tests.helpers import free_port, running  # noqa: E402

REQUEST = {"user_id": "bench", "today": "2026-11-22", "last_login": "2026-11-21",
           "completed_tasks": ["Wrote the quarterly report"], "focused_tasks": ["Prepare the board slides"],
           "rituals": ["Morning walk"], "goals": ["Launch the beta"]}
LOGS = ROOT / "var" / "bench-shadow"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def candidate_server(kind: str, args: argparse.Namespace) -> tuple[list[str], str]:
    port = free_port()
    if kind == "remote":
        cmd = [sys.executable, "-m", "tests.doubles.slow_openai_server", "--port", str(port), "--model", "candidate",
               "--first-token-s", str(args.first_token_s), "--tokens", str(args.candidate_tokens)]
    else:
        from router.backends.embedded_runtime import default_gguf_path

        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(default_gguf_path()), "--model_alias",
               "candidate", "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2",
               "--interrupt_requests", "False"]
    return cmd, f"http://127.0.0.1:{port}/v1"


def app(name: str, candidate_url: str, args: argparse.Namespace, *, shadow: bool):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {"PEPTALK_BACKENDS": "embedded,openai", "PEPTALK_OPENAI_BASE_URL": candidate_url,
           "PEPTALK_OPENAI_API_KEY": "bench", "PEPTALK_OPENAI_MODELS": "candidate",
           "PEPTALK_MAX_TOKENS": str(args.max_tokens), "PEPTALK_LOG_LEVEL": "WARNING",
           "PEPTALK_EMBEDDED_THREADS": str(args.threads),
           "PEPTALK_DATA_DIR": str(LOGS / name),
           "PEPTALK_CACHE_ENABLED": "false"}  # every request really reaches the primary model
    if shadow:
        env |= {"PEPTALK_SHADOW_CANDIDATES": "openai:candidate", "PEPTALK_SHADOW_QUEUE_SIZE": str(args.requests * 4),
                "PEPTALK_SHADOW_MAX_IN_FLIGHT": str(args.max_in_flight)}
    cmd = [sys.executable, "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning"]
    return running(cmd, f"http://127.0.0.1:{port}/readyz", log=LOGS / f"{name}.log", env=env, timeout_s=180), \
        f"http://127.0.0.1:{port}"


def invoke(client: httpx.Client, url: str, index: int) -> float:
    started = time.perf_counter()
    response = client.post(f"{url}/peptalk/invoke", json={"input": REQUEST | {"user_id": f"bench{index}"}})
    response.raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--candidate", choices=["remote", "llamacpp"], default="remote")
    parser.add_argument("--first-token-s", type=float, default=2.5, help="remote candidate: delay before its answer")
    parser.add_argument("--candidate-tokens", type=int, default=48)
    parser.add_argument("--max-in-flight", type=int, default=8, help="shadow calls at once (remote GPU nodes scale)")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads of each app's embedded model")
    parser.add_argument("--order", choices=["interleaved", "phased"], default="interleaved")
    args = parser.parse_args()
    LOGS.mkdir(parents=True, exist_ok=True)
    for name in ("off", "on"):
        shutil.rmtree(LOGS / name, ignore_errors=True)
    cmd, candidate_url = candidate_server(args.candidate, args)
    latencies: dict[str, list[float]] = {"off": [], "on": []}
    off_server, off_url = app("off", candidate_url, args, shadow=False)
    on_server, on_url = app("on", candidate_url, args, shadow=True)
    with running(cmd, f"{candidate_url}/models", log=LOGS / "candidate.log", timeout_s=120), off_server, on_server, \
            httpx.Client(timeout=300) as client:
        for url in (off_url, on_url):
            invoke(client, url, -1)  # warm-up
        if args.order == "interleaved":
            plan = [(name, index) for index in range(args.requests)
                    for name in (("off", "on") if index % 2 == 0 else ("on", "off"))]
        else:
            plan = [(name, index) for name in ("off", "on") for index in range(args.requests)]
        for name, index in plan:
            latencies[name].append(invoke(client, off_url if name == "off" else on_url, index))
        finished = time.perf_counter()
        store = SqlShadowStore.from_url(sqlite_url(LOGS / "on" / "peptalk.db"))
        while store.count() < args.requests + 1 and time.perf_counter() - finished < 600:
            time.sleep(0.5)  # let the candidate catch up before the apps stop
        behind_s = time.perf_counter() - finished
        rows = list(store.read())
        store.close()
    candidate_latencies = [row.candidates[0].latency_s for row in rows if row.candidates[0].latency_s]
    print(f"candidate={args.candidate} order={args.order} requests={args.requests} max_tokens={args.max_tokens} "
          f"threads={args.threads} load average {os.getloadavg()[0]:.1f}")
    for name in ("off", "on"):
        values = latencies[name]
        print(f"primary, shadowing {name:3}: p50 {1000 * statistics.median(values):6.0f} ms   "
              f"p95 {1000 * percentile(values, 0.95):6.0f} ms")
    ratio50 = statistics.median(latencies["on"]) / statistics.median(latencies["off"])
    ratio95 = percentile(latencies["on"], 0.95) / percentile(latencies["off"], 0.95)
    print(f"ratio on/off: p50 {ratio50:.3f}   p95 {ratio95:.3f}   (target p95 <= 1.05)")
    print(f"candidate: {len(rows)} pairs logged, p50 {1000 * statistics.median(candidate_latencies):.0f} ms; "
          f"the log caught up {behind_s:.1f} s after the last primary answer")


if __name__ == "__main__":
    main()
