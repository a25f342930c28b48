"""Capacity of the embedded model: RPS and p95 at 1, 2 and 4 Locust users, all cache misses.

    .venv/bin/python bench/capacity.py --users 1,2,4 --duration 40 --max-tokens 64

One app (cache off, so every call generates) is started once; each user count then runs for `--duration`
seconds against it. One llama.cpp worker thread serialises generations, so throughput stays flat while
latency grows with the queue: with N users, a call waits for about N-1 others.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadtest.runner import RunConfig, exit_on_sigterm, run, started_app  # noqa: E402
from loadtest.scenarios import SCENARIOS  # noqa: E402


def rows(stats: Path) -> dict[str, dict[str, str]]:
    with stats.open(newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", default="1,2,4")
    parser.add_argument("--duration", type=int, default=40)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench-capacity")
    parser.add_argument("--env", action="append", default=[], help="Extra NAME=VALUE for the app (repeatable).")
    args = parser.parse_args()
    exit_on_sigterm()
    scenario = SCENARIOS["all-miss"]
    env = {**scenario.env(), "PEPTALK_CACHE_ENABLED": "false", "PEPTALK_MAX_TOKENS": str(args.max_tokens),
           "PEPTALK_DATA_DIR": str(args.out / "app-data"),
           **dict(pair.split("=", 1) for pair in args.env)}
    print(f"embedded SmolLM2-135M, max_tokens {args.max_tokens}, mix invoke=1,stream=1, {args.duration} s per step")
    print("users | req/s | invoke p50 / p95 ms | stream p95 ms (last byte) | first token p50 / p95 ms | failures")
    with started_app(env, log=args.out / "app.log") as url:
        for users in (int(part) for part in args.users.split(",")):
            config = RunConfig(scenario=scenario, users=users, duration_s=args.duration, out_dir=args.out / f"u{users}",
                               url=url, mix={"invoke": 1, "stream": 1}, stop_timeout_s=60)
            stats = rows(run(config).stats_csv)
            http = [row for row in stats.values() if row["Type"] == "POST"]
            rps = sum(float(row["Requests/s"]) for row in http)
            failures = sum(int(row["Failure Count"]) for row in http)
            invoke, stream, ttft = (stats.get(name, {}) for name in ("invoke", "stream", "stream: first token"))
            print(f"{users} | {rps:.2f} | {invoke.get('50%', '-')} / {invoke.get('95%', '-')} | {stream.get('95%', '-')} | "
                  f"{ttft.get('50%', '-')} / {ttft.get('95%', '-')} | {failures}")


if __name__ == "__main__":
    main()
