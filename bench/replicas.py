"""What shared state costs on the cache-hit path: one replica on the embedded defaults, one on PostgreSQL and
Redis, three behind nginx. Same Locust load on each, in one run.

    .venv/bin/python bench/replicas.py --users 8 --duration 20

Needs the test PostgreSQL and Redis (`bash scripts/services/postgres.sh`, `redis.sh`) and nginx (`nginx.sh`).
Every request goes through the rate limiter (in-process buckets for the first set-up, Redis for the others):
on the cache-hit path that is the shared state every request touches. Until the semantic cache lives in the
database, each replica has its own cache, so the hot set is sent to every replica before the clock starts.
Target: throughput of the PostgreSQL+Redis replica >= 0.8 of the embedded one. Two cores bound the scaling.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throughput_ratio import HOT_SET, totals, warm_cache  # noqa: E402
from loadtest.runner import RunConfig, exit_on_sigterm, run  # noqa: E402
from loadtest.scenarios import SCENARIOS  # noqa: E402
from tests import postgres, redis_server  # noqa: E402
from tests.helpers import free_port  # noqa: E402
from tests.replicas import Nginx, Replica, replica_env  # noqa: E402

SCENARIO = SCENARIOS["cache-hit-heavy"]


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    failures: int
    rps: float  # over the HTTP rows (Locust's "first token" rows are not requests)
    p95_ms: dict[str, float]  # per endpoint


def measure(name: str, url: str, args: argparse.Namespace) -> Result:
    config = RunConfig(scenario=SCENARIO, users=args.users, duration_s=args.duration, out_dir=args.out / name,
                       url=url, repeat_share=1.0, hot_set=HOT_SET, prefilled_hot_set=True, warm_up=False,
                       mix={"invoke": 4, "stream": 4, "batch": 1})
    return Result(name, *totals(run(config).stats_csv))


@contextlib.contextmanager
def replicas(name: str, count: int, env: dict[str, str], args: argparse.Namespace) -> Iterator[list[Replica]]:
    started = [Replica(name=f"{name}-{index}", port=free_port(), log=args.out / f"{name}-{index}.log",
                       env={**env, "PEPTALK_DATA_DIR": str(args.out / f"{name}-{index}-data")},
                       uvicorn_args=("--log-level", "warning", "--no-access-log"))
               for index in range(count)]
    try:
        for replica in started:
            replica.start()
        for replica in started:
            replica.wait_up()
            warm_cache(replica.url)  # per-replica caches until the cache is shared through the database
        yield started
    finally:
        for replica in started:
            replica.stop(timeout_s=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per set-up")
    parser.add_argument("--max-tokens", type=int, default=48, help="answer length of the cached hot set")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench-replicas")
    args = parser.parse_args()
    exit_on_sigterm()
    args.out.mkdir(parents=True, exist_ok=True)

    clean = {name: value for name, value in os.environ.items() if not name.startswith("PEPTALK_")}
    short = {"PEPTALK_MAX_TOKENS": str(args.max_tokens)}  # shorter answers: quicker warm-up, same hit path
    base = {**clean, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
            **SCENARIO.env(), **short}
    results: list[Result] = []
    with replicas("embedded", 1, base, args) as [single]:  # SQLite in data_dir, in-process limiter
        results.append(measure("1 replica, embedded defaults (SQLite, in-process limiter)", single.url, args))

    with postgres.throwaway_database(postgres.server_url()) as database_url:
        shared = {**replica_env(database_url=database_url, redis_url=redis_server.server_url(),
                                data_dir=args.out, key_prefix=f"bench-{os.getpid()}", settings={}),
                  **SCENARIO.env(), **short}
        with replicas("shared", 1, shared, args) as [single]:
            results.append(measure("1 replica, PostgreSQL + Redis", single.url, args))
        with replicas("three", 3, shared, args) as three:
            nginx = Nginx(args.out / "nginx", three)
            nginx.start()
            try:
                results.append(measure("3 replicas behind nginx, PostgreSQL + Redis", nginx.url, args))
            finally:
                nginx.stop()

    first = results[0].rps
    print(f"cache-hit path; {args.users} Locust users, {args.duration} s per set-up, mix invoke=4,stream=4,batch=1; "
          f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}")
    print("| set-up | requests | failures | req/s | p95 invoke / stream / batch (ms) | ratio to the first |")
    print("|---|---|---|---|---|---|")
    for result in results:
        p95 = " / ".join(f"{result.p95_ms.get(name, float('nan')):.0f}" for name in ("invoke", "stream", "batch"))
        print(f"| {result.name} | {result.requests} | {result.failures} | {result.rps:.1f} | {p95} | "
              f"{result.rps / first:.2f} |")


if __name__ == "__main__":
    main()
