"""cProfile of the miss path: first-of-the-day requests with `cache: use` (each a miss) and with `cache: bypass`,
through the whole app in-process (httpx's ASGI transport), over an instant OpenAI-protocol upstream.

    .venv/bin/python bench/miss_profile.py --requests 200 --top 15

Prints, for each mode, the CPU time per request on the event loop's thread, its share by package (peptalk's own
code, LangServe, LangChain, FastAPI/Starlette, pydantic, the OpenAI client and httpx, SQLAlchemy, asyncio and
the rest of the standard library), and the functions with the most own time. cProfile sees only the event
loop's thread: the cache's database write and the background vectors run in other threads.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.miss_cost import REQUEST  # noqa: E402
from langserve_app import create_app  # noqa: E402
from loadtest.scenarios import COMMON_APP_ENV  # noqa: E402
from peptalk.settings import Settings  # noqa: E402
from tests.helpers import free_port, python, running  # noqa: E402

GROUPS = (  # (package, where its files are), first match wins
    ("peptalk (ours)", ("/peptalk/", "/router/", "langserve_app")),
    ("LangServe", ("/langserve/",)),
    ("LangChain", ("/langchain_core/", "/langchain_openai/", "/langchain/", "/langsmith/")),
    ("FastAPI/Starlette", ("/fastapi/", "/starlette/", "/sse_starlette/")),
    ("pydantic", ("/pydantic/", "/pydantic_core/", "pydantic_core")),
    ("OpenAI client + httpx", ("/openai/", "/httpx/", "/httpcore/", "/h11/", "/anyio/", "/sniffio/")),
    ("SQLAlchemy + sqlite3", ("/sqlalchemy/", "sqlite3")),
    ("prometheus_client", ("/prometheus_client/",)),
    ("asyncio", ("/asyncio/",)),
)
MODES = ("use", "bypass")
users = itertools.count()


def group_of(filename: str) -> str:
    for name, markers in GROUPS:
        if any(marker in filename for marker in markers):
            return name
    return "other (stdlib, builtins)"


async def run(settings: Settings, requests: int) -> dict[str, pstats.Stats]:
    """One app; each mode's requests profiled on their own (CPU time of the event loop's thread)."""
    app = create_app(settings)
    profiles = {mode: cProfile.Profile(time.thread_time) for mode in MODES}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://peptalk") as client:
            async def one(mode: str) -> None:
                body = {"input": REQUEST | {"user_id": f"profile-{mode}-{next(users)}"},
                        "config": {"configurable": {"cache": mode}}}
                response = await client.post("/peptalk/invoke", json=body)
                response.raise_for_status()
                assert response.json()["output"]["metadata"]["cache"] == ("miss" if mode == "use" else mode)

            for _ in range(10):  # warm-up
                for mode in MODES:
                    await one(mode)
            for _ in range(requests):
                for mode in MODES:  # interleaved, one profile each
                    profiles[mode].enable()
                    await one(mode)
                    profiles[mode].disable()
    return {mode: pstats.Stats(profile) for mode, profile in profiles.items()}


def own_by_group(table: dict) -> dict[str, float]:
    """Own time per package; a builtin's (file `~`) goes to the packages of its callers, in their proportions."""
    by_group: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, own, _, callers) in table.items():
        if filename != "~" or not callers:
            by_group[group_of(filename)] += own
            continue
        called = sum(caller[2] for caller in callers.values()) or 1.0
        for (caller_file, _, _), caller in callers.items():
            by_group[group_of(caller_file)] += own * caller[2] / called
    return by_group


def short(filename: str) -> str:
    return filename.split("site-packages/")[-1].replace(str(ROOT) + "/", "").split("lib/python3.11/")[-1]


def report(mode: str, stats: pstats.Stats, requests: int, top: int) -> None:
    table = stats.stats  # type: ignore[attr-defined]
    total = sum(own for (_, _, own, _, _) in table.values())
    print(f"\n== cache: {mode}: {1000 * total / requests:.2f} ms of event-loop-thread CPU per request "
          f"({requests} requests, under cProfile)")
    for name, own in sorted(own_by_group(table).items(), key=lambda item: -item[1]):
        print(f"  {name:28s} {100 * own / total:5.1f}%  {1000 * own / requests:6.3f} ms/request")
    print(f"  top {top} functions by own time:")
    for (filename, line, function), (calls, _, own, _, _) in sorted(table.items(), key=lambda item: -item[1][2])[:top]:
        print(f"    {100 * own / total:5.1f}%  {1000 * own / requests:6.3f} ms  {calls / requests:7.1f} calls  "
              f"{short(filename)}:{line} {function}")
    ours = [(where, row) for where, row in table.items() if group_of(where[0]) == "peptalk (ours)"]
    print(f"  peptalk's functions by time including what they call (top {top}):")
    for (filename, line, function), (calls, _, _, cumulative, _) in sorted(ours, key=lambda item: -item[1][3])[:top]:
        print(f"    {1000 * cumulative / requests:6.3f} ms  {calls / requests:7.1f} calls  {short(filename)}:{line} {function}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    port = free_port()
    upstream = [python(), "-m", "tests.doubles.openai_canned", "--port", str(port)]
    with tempfile.TemporaryDirectory() as folder, \
            running(upstream, f"http://127.0.0.1:{port}/v1/models", log=Path(folder) / "upstream.log"):
        settings = Settings(_env_file=None, data_dir=Path(folder), backends=["openai"], default_model="openai:gpt-4",
                            openai_models=["gpt-4"], openai_api_key="bench",
                            openai_base_url=f"http://127.0.0.1:{port}/v1", log_level="WARNING",
                            rate_limit_per_key_per_minute=int(COMMON_APP_ENV["PEPTALK_RATE_LIMIT_PER_KEY_PER_MINUTE"]),
                            rate_limit_per_user_per_minute=int(COMMON_APP_ENV["PEPTALK_RATE_LIMIT_PER_USER_PER_MINUTE"]))
        for mode, stats in asyncio.run(run(settings, args.requests)).items():
            report(mode, stats, args.requests, args.top)


if __name__ == "__main__":
    main()
