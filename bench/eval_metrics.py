"""Throughput of the similarity metrics and the judge parser on synthetic pep-talk pairs.

    .venv/bin/python bench/eval_metrics.py --pairs 120 --rounds 3

Each pair is a reference and a candidate pep talk built from one synthetic context (data/contexts.jsonl);
the metric is timed over all pairs at once (SBERT batches), best and median of `rounds`, after one warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluation.judges.parsing import parse_score  # noqa: E402
from evaluation.metrics import BleuMetric, SbertMetric, SemBleuMetric, TfidfMetric  # noqa: E402
from peptalk.synthetic import load_contexts  # noqa: E402


def pairs(count: int) -> tuple[list[str], list[str]]:
    contexts = (load_contexts() * (count // 60 + 1))[:count]
    references = [f"Great work on {', '.join(c['completed_tasks']) or 'yesterday'}! Today, focus on "
                  f"{', '.join(c['focused_tasks'])}, and keep your eyes on {', '.join(c['goals'])}." for c in contexts]
    candidates = [f"You finished {len(c['completed_tasks'])} tasks. Next up: {', '.join(c['focused_tasks'][:2])}. "
                  f"Keep going toward {c['goals'][0]}!" for c in contexts]
    return references, candidates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    references, candidates = pairs(args.pairs)
    print(f"| metric | pairs | best ms/pair | median ms/pair |\n|---|---|---|---|")
    for metric in (TfidfMetric(), BleuMetric(), SbertMetric(), SemBleuMetric()):
        metric.similarities(references[:4], candidates[:4])  # warm-up (loads MiniLM once)
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            metric.similarities(references, candidates)
            times.append((time.perf_counter() - started) * 1000 / args.pairs)
        print(f"| {metric.name} | {args.pairs} | {min(times):.2f} | {statistics.median(times):.2f} |")
    answers = ["Reasoning...\nScore: 7", "score: 7/10", "Score: 11", "eight", "Score: 6 ... Score: 8"] * 2000
    started = time.perf_counter()
    parsed = sum(parse_score(answer).parsed for answer in answers)
    elapsed = (time.perf_counter() - started) * 1e6 / len(answers)
    print(f"\njudge parser: {elapsed:.1f} µs per answer over {len(answers)} answers ({parsed} parsed)")


if __name__ == "__main__":
    main()
