"""How long a rollback takes to reach every app process: p50/p95/max from commit to applied, per refresh interval.

    .venv/bin/python bench/rollout_propagation.py --processes 4 --changes 20 --refresh-s 2.0
    .venv/bin/python bench/rollout_propagation.py --postgres "$(cat var/test-postgres.url)" --refresh-s 0.2

Each process runs the app's `LiveRollout` (the background refresher every app process runs) and notes when
its cached state changes version. The main process makes `--changes` transitions (rollback, resume, ...) at
random moments and records each commit time; the delay is applied minus committed, for every process.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def follower(url: str, refresh_s: float, seen: mp.Queue, stop: mp.Event, ready: mp.Event) -> None:  # type: ignore[type-arg]
    from peptalk.rollout.live import LiveRollout
    from peptalk.rollout.store import RolloutStore

    async def run() -> None:
        live = LiveRollout(RolloutStore.from_url(url), refresh_interval_s=refresh_s)
        await live.start()
        ready.set()
        version = live.state.version if live.state else None
        while not stop.is_set():
            state = live.state
            if state is not None and state.version != version:
                version = state.version
                seen.put((version, time.time()))
            await asyncio.sleep(0.002)
        await live.aclose()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--refresh-s", type=float, default=2.0)
    parser.add_argument("--postgres", default=None, help="PostgreSQL server URL: a throwaway database is made on it")
    args = parser.parse_args()
    if args.postgres:
        from tests.postgres import throwaway_database

        with throwaway_database(args.postgres) as url:
            measure(args, url)
    else:
        measure(args, f"sqlite:///{Path(tempfile.mkdtemp()) / 'peptalk.db'}")


def measure(args: argparse.Namespace, url: str) -> None:
    from peptalk.rollout.store import RolloutStore
    from tests.peptalk.rollout.helpers import make_plan

    store = RolloutStore.from_url(url)
    store.migrate()
    rollout = store.create(make_plan(), actor="operator", reason="bench")
    context = mp.get_context("spawn")
    seen, stop = context.Queue(), context.Event()
    readies = [context.Event() for _ in range(args.processes)]
    workers = [context.Process(target=follower, args=(url, args.refresh_s, seen, stop, ready)) for ready in readies]
    for worker in workers:
        worker.start()
    for ready in readies:
        ready.wait(120)
    committed: dict[int, float] = {}
    rng = random.Random(7)
    for index in range(args.changes):
        time.sleep(rng.uniform(1.1, 2.0) * args.refresh_s)  # spaced out, so no change hides another
        status, kind = ("rolled_back", "rollback") if index % 2 == 0 else ("active", "resume")
        rollout = store.transition(rollout, kind=kind, to_stage=0, status=status, actor="operator", reason="bench")
        committed[rollout.version] = time.time()
    deadline = time.time() + 3 * args.refresh_s + 5
    delays: list[float] = []
    while len(delays) < args.processes * args.changes and time.time() < deadline:
        try:
            version, at = seen.get(timeout=0.5)
        except Exception:  # noqa: BLE001 - queue.Empty: keep waiting until the deadline
            continue
        if version in committed:
            delays.append(at - committed[version])
    stop.set()
    for worker in workers:
        worker.join(10)
    store.close()
    delays.sort()
    missed = args.processes * args.changes - len(delays)

    def q(p: float) -> float:
        return delays[min(len(delays) - 1, int(p * (len(delays) - 1) + 0.5))]

    backend = url.split(":", 1)[0]
    print(f"{backend}, {args.processes} processes, refresh {args.refresh_s:g} s, {args.changes} changes: "
          f"p50 {q(0.5):.3f} s, p95 {q(0.95):.3f} s, max {delays[-1]:.3f} s ({len(delays)} observations, "
          f"{missed} missed)")


if __name__ == "__main__":
    main()
