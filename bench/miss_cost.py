"""What a first-of-the-day cache miss costs against bypassing the cache (issue 29), over an instant upstream.

    .venv/bin/python bench/miss_cost.py --requests 70 --duration 20 --concurrency 8

The model is `tests/doubles/openai_canned.py` (an OpenAI-protocol server that answers at once), so what is
measured is the service itself. Every request comes from a fresh user, so every `cache: use` request is a
first-of-the-day miss.

1. Latency: one app with the cache on (user scope, the default); requests alternate between `cache: use` and
   `cache: bypass` (A B B A ...), one at a time, after a warm-up; the median of each and their ratio. Once on a
   quiet machine and once with a neighbour process spinning on one core (`--neighbour quiet,spin`).
2. Throughput: two apps, the cache on and the cache off, each in turn driven by `--concurrency` clients sending
   first-of-the-day requests for `--duration` seconds (phases off, on, on, off); req/s of each and their ratio.
   Then how many stored entries have their vectors (the background worker's share of the work; first-of-the-day
   entries each sit in a partition of one, which never needs them, so 0 is expected).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.runner import started_app  # noqa: E402
from loadtest.scenarios import COMMON_APP_ENV  # noqa: E402
from peptalk.cache.sql_store import cache_entries  # noqa: E402
from tests.helpers import free_port, python, running  # noqa: E402

REQUEST = {"today": "2026-11-22", "last_login": "2026-11-21",
           "completed_tasks": ["Wrote the quarterly report", "Fixed the login bug"],
           "focused_tasks": ["Prepare the board slides", "Review two pull requests"],
           "rituals": ["Morning walk"], "goals": ["Launch the beta"]}
OUT = ROOT / "var" / "bench-miss-cost"
users = itertools.count()


def body(mode: str) -> dict:
    return {"input": REQUEST | {"user_id": f"fresh-{os.getpid()}-{next(users)}"},
            "config": {"configurable": {"cache": mode}}}


@contextlib.contextmanager
def neighbour(kind: str) -> Iterator[None]:
    """`spin`: another process keeping one core busy for the duration; `quiet`: nothing."""
    if kind == "quiet":
        yield
        return
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        process.terminate()
        process.wait()


def latency(url: str, requests: int, warm_up: int) -> tuple[float, float]:
    """Median seconds of a `use` miss and of a `bypass`, interleaved A B B A."""
    timings: dict[str, list[float]] = {"use": [], "bypass": []}
    with httpx.Client(timeout=60) as client:
        for index in range(warm_up + requests):
            for mode in (("use", "bypass") if index % 2 == 0 else ("bypass", "use")):
                started = time.perf_counter()
                response = client.post(f"{url}/peptalk/invoke", json=body(mode))
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                served = response.json()["output"]["metadata"]["cache"]
                assert served == ("miss" if mode == "use" else "bypass"), served
                if index >= warm_up:
                    timings[mode].append(elapsed)
    return statistics.median(timings["use"]), statistics.median(timings["bypass"])


async def drive(url: str, concurrency: int, duration_s: float) -> int:
    """First-of-the-day requests from `concurrency` clients for `duration_s`; returns how many were answered."""
    deadline = time.perf_counter() + duration_s
    done = 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            response = await client.post(f"{url}/peptalk/invoke", json=body("use"))
            response.raise_for_status()
            done += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    return done


def embedded_share(database: Path) -> tuple[int, int]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        total = connection.scalar(select(func.count()).select_from(cache_entries)) or 0
        with_vectors = connection.scalar(select(func.count()).select_from(cache_entries)
                                         .where(func.length(cache_entries.c.summary) > 0)) or 0
    engine.dispose()
    return int(with_vectors), int(total)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=70, help="requests of each mode, after the warm-up")
    parser.add_argument("--warm-up", type=int, default=10)
    parser.add_argument("--neighbour", default="quiet,spin",
                        help="latency conditions, in order: quiet, spin (empty: no latency runs)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of each throughput phase")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    upstream_port = free_port()
    upstream = [python(), "-m", "tests.doubles.openai_canned", "--port", str(upstream_port)]
    base_env = {**COMMON_APP_ENV, "PEPTALK_BACKENDS": "openai", "PEPTALK_DEFAULT_MODEL": "openai:gpt-4",
                "PEPTALK_OPENAI_MODELS": "gpt-4", "PEPTALK_OPENAI_API_KEY": "bench",
                "PEPTALK_OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1"}
    with running(upstream, f"http://127.0.0.1:{upstream_port}/v1/models", log=OUT / "upstream.log"):
        with started_app(base_env | {"PEPTALK_DATA_DIR": str(OUT / "latency")}, log=OUT / "latency.log") as url:
            for condition in filter(None, args.neighbour.split(",")):
                with neighbour(condition):
                    use, bypass = latency(url, args.requests, args.warm_up)
                print(f"latency, {condition:5}: use (a miss) p50 {1000 * use:6.2f} ms   bypass p50 "
                      f"{1000 * bypass:6.2f} ms   ratio {use / bypass:.2f} (target <= 1.2; {args.requests} each, "
                      f"interleaved; load average {os.getloadavg()[0]:.1f})", flush=True)
        if args.skip_throughput:
            return
        answered = {"on": 0, "off": 0}
        with started_app(base_env | {"PEPTALK_DATA_DIR": str(OUT / "on")}, log=OUT / "on.log") as on_url, \
                started_app(base_env | {"PEPTALK_DATA_DIR": str(OUT / "off"), "PEPTALK_CACHE_ENABLED": "false"},
                            log=OUT / "off.log") as off_url:
            for name in ("off", "on"):
                asyncio.run(drive(on_url if name == "on" else off_url, args.concurrency, 2.0))  # warm-up
            for name in ("off", "on", "on", "off"):
                answered[name] += asyncio.run(drive(on_url if name == "on" else off_url, args.concurrency,
                                                    args.duration))
            embedded, total = embedded_share(OUT / "on" / "peptalk.db")
        seconds = 2 * args.duration
        on_rps, off_rps = answered["on"] / seconds, answered["off"] / seconds
        print(f"throughput, first-of-the-day requests, {args.concurrency} clients, 2 x {args.duration:.0f} s each: "
              f"cache on {on_rps:.1f} req/s, cache off {off_rps:.1f} req/s, ratio {on_rps / off_rps:.3f} "
              f"(target >= 0.8)")
        print(f"vectors (only partitions searched by vector need them): {embedded} of {total} stored entries had "
              f"them when the load stopped")


if __name__ == "__main__":
    main()
