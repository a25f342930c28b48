"""Server CPU and wall time per exact cache hit, in-process over ASGI: the in-process rate limiter against the
shared one in Redis (no load generator, one request at a time).

    .venv/bin/python bench/limiter_cost.py --requests 300

Needs the test Redis (`bash scripts/services/redis.sh`). One app fills the cache, then the same data folder is
served twice, with `PEPTALK_RATE_LIMIT_STORAGE_URL=memory://` and with Redis. Limits are out of reach, so the
limiter runs on every request and never refuses. The Redis limiter charges the API key and the user: two calls.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fast_path_cost import bodies, call  # noqa: E402
from langserve_app import create_app  # noqa: E402
from peptalk.settings import Settings  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402
from tests import redis_server  # noqa: E402


async def per_request(settings: Settings, body: bytes, requests: int) -> tuple[float, float]:
    """Median wall ms and mean CPU ms of one exact hit on `/peptalk/invoke`."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        for _ in range(20):  # warm: connections, caches
            await call(app, "/peptalk/invoke", body)
        walls = []
        cpu_started = time.process_time()
        for _ in range(requests):
            started = time.perf_counter()
            await call(app, "/peptalk/invoke", body)
            walls.append(time.perf_counter() - started)
        cpu = time.process_time() - cpu_started
    return statistics.median(walls) * 1000, cpu / requests * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    redis_url = redis_server.server_url()
    body = bodies(load_contexts()[0])["invoke"]
    with tempfile.TemporaryDirectory() as data_dir:
        def settings(storage: str) -> Settings:
            return Settings(_env_file=None, data_dir=Path(data_dir), max_tokens=16, log_level="WARNING",
                            rate_limit_per_key_per_minute=10_000_000, rate_limit_per_user_per_minute=10_000_000,
                            rate_limit_storage_url=storage, rate_limit_key_prefix=f"bench-{time.time_ns()}")

        app = create_app(settings("memory://"))
        async with app.router.lifespan_context(app):  # fills the cache; saved at shutdown
            await call(app, "/peptalk/invoke", body)
        results = {name: await per_request(settings(url), body, args.requests)
                   for name, url in (("in-process", "memory://"), ("redis", redis_url))}
    print(f"exact hits on /peptalk/invoke over ASGI, {args.requests} requests each")
    print("| limiter | wall p50 ms | CPU ms per request |")
    print("|---|---|---|")
    for name, (wall, cpu) in results.items():
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    asyncio.run(main())
