"""Server CPU per exact cache hit, in-process over ASGI (no sockets, no load generator): the fast path
against LangServe answering the same hit.

    .venv/bin/python bench/fast_path_cost.py --requests 300

One app fills the cache (one generation per endpoint's payload), then the same data folder is served twice:
with `PEPTALK_CACHE_FAST_PATH` off (LangServe answers the hit) and on. Each request goes through every
middleware; the time is the whole ASGI call, measured one request at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langserve_app import create_app  # noqa: E402
from peptalk.settings import Settings  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402

FAST_HEADER = b"x-peptalk-fast-path"


def scope(path: str) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"bench"), (b"content-type", b"application/json")],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}


async def call(app: Any, path: str, body: bytes) -> list[dict[str, Any]]:
    """One request straight into the ASGI app; returns what it sent."""
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope(path), receive, send)
    return sent


def bodies(payload: dict[str, Any]) -> dict[str, bytes]:
    return {"invoke": json.dumps({"input": payload}).encode(), "stream": json.dumps({"input": payload}).encode(),
            "batch": json.dumps({"inputs": [payload]}).encode()}


async def per_request_ms(settings: Settings, payload: dict[str, Any], requests: int) -> dict[str, float]:
    """Median ms per request for each endpoint, all answers exact hits."""
    app = create_app(settings)
    results = {}
    async with app.router.lifespan_context(app):
        for endpoint, body in bodies(payload).items():
            first = await call(app, f"/peptalk/{endpoint}", body)
            assert first[0]["status"] == 200, first
            fast = dict(first[0]["headers"]).get(FAST_HEADER) is not None
            assert fast == settings.cache_fast_path, f"{endpoint}: fast path {'not ' if not fast else ''}taken"
            timings = []
            for _ in range(requests):
                started = time.perf_counter()
                await call(app, f"/peptalk/{endpoint}", body)
                timings.append(time.perf_counter() - started)
            results[endpoint] = 1000 * statistics.median(timings)
    return results


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--max-tokens", type=int, default=200)
    args = parser.parse_args()
    payload = load_contexts()[0]
    with tempfile.TemporaryDirectory() as data_dir:
        def settings(fast: bool) -> Settings:
            # Rate limits out of reach, as in the load-test scenarios: the limiter still runs on every request.
            return Settings(_env_file=None, data_dir=Path(data_dir), max_tokens=args.max_tokens, log_level="WARNING",
                            cache_fast_path=fast, rate_limit_per_key_per_minute=10_000_000,
                            rate_limit_per_user_per_minute=10_000_000)

        app = create_app(settings(False))
        async with app.router.lifespan_context(app):  # fills the cache; saved at shutdown
            sent = await call(app, "/peptalk/invoke", bodies(payload)["invoke"])
            answer = json.loads(b"".join(message.get("body", b"") for message in sent[1:]))["output"]["text"]
        langserve = await per_request_ms(settings(False), payload, args.requests)
        fast_path = await per_request_ms(settings(True), payload, args.requests)
    print(f"exact cache hits, answer of {len(answer.split())} words, median of {args.requests} requests each")
    print("endpoint | LangServe ms | fast path ms | LangServe / fast path")
    for endpoint in langserve:
        print(f"{endpoint} | {langserve[endpoint]:.2f} | {fast_path[endpoint]:.2f} | "
              f"{langserve[endpoint] / fast_path[endpoint]:.0f}x")


if __name__ == "__main__":
    asyncio.run(main())
