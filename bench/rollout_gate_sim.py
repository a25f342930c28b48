"""Simulates the rollout's quality and failure gates over the real gate code (`peptalk.rollout.stats` and
`peptalk.rollout.gates`, with the plan's default `Gates`), looking after every judged pair or candidate call.

    PYTHONPATH=$PWD .venv/bin/python bench/rollout_gate_sim.py --reps 2000 --days 7

Prints, in plain numbers:
- the false-promotion rate of a candidate exactly at the margin (preference share 0.5 - delta), over `--days`
  days of looks at `--pairs-per-hour` judged pairs an hour (one look after every pair: the most looks a
  controller can make);
- the power for an equal candidate (share 0.5) after so many pairs, and the pairs needed for 80%;
- the false-rollback rate over one day of an equal candidate with `--error-rate` errors (bound: the default
  error_rate_max), looking after every call, at `--calls-per-hour` candidate calls an hour;
- the detection delay, in pairs, of a candidate whose share drops to `--degraded-share` after one day, and in
  calls, of one whose error rate jumps to `--degraded-error-rate` after one day.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from peptalk.rollout.evidence import SCORE_VALUES
from peptalk.rollout.gates import promotion_threshold
from peptalk.rollout.plan import Gates
from peptalk.rollout.stats import log_wealth_array, shiryaev_roberts

TIE_SHARE = 0.4  # ties among judged pairs in every simulated candidate (the rest: wins and losses)


def outcome_probabilities(share: float, ties: float = TIE_SHARE) -> np.ndarray:
    """P(loss), P(tie), P(win) (SCORE_VALUES order) for a preference share `share` with `ties` ties."""
    ties = min(ties, 2 * min(share, 1 - share))
    wins = share - ties / 2
    return np.array([1 - ties - wins, ties, wins])


def one_hot(rng: np.random.Generator, shape: tuple[int, int], probabilities: np.ndarray) -> np.ndarray:
    draws = rng.choice(len(probabilities), size=shape, p=probabilities)
    return np.eye(len(probabilities))[draws]


def first_promotion(rng: np.random.Generator, gates: Gates, share: float, pairs: int, reps: int,
                    ties: float = TIE_SHARE, batch: int = 50) -> np.ndarray:
    """Per run, the judged pair after which the quality gate first promotes (looking after every pair); -1: never."""
    margin = gates.margin
    assert margin is not None
    threshold = promotion_threshold(gates)
    found = []
    for start in range(0, reps, batch):
        size = min(batch, reps - start)
        counts = np.cumsum(one_hot(rng, (size, pairs), outcome_probabilities(share, ties)), axis=1)
        passed = log_wealth_array(counts, SCORE_VALUES, margin, "above") >= threshold
        found.append(np.where(passed.any(axis=1), passed.argmax(axis=1) + 1, -1))
    return np.concatenate(found)


def first_alarm(path: np.ndarray, gates: Gates, *, after: int = 0) -> np.ndarray:
    """Per run, the first step (1-based) at or after `after` where the detector reaches `rollback_arl`; -1: never."""
    fired = path[:, after:] >= gates.rollback_arl
    return np.where(fired.any(axis=1), fired.argmax(axis=1) + 1 + after, -1)


def quality_alarms(rng: np.random.Generator, gates: Gates, shares: list[tuple[int, float]], reps: int,
                   batch: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Per run, the first quality alarm before and after the first segment (-1: none); `shares`: (pairs, share)
    segments in order; the detector is read after every pair."""
    assert gates.margin is not None
    early, late = [], []
    for start in range(0, reps, batch):
        size = min(batch, reps - start)
        steps = np.concatenate([one_hot(rng, (size, pairs), outcome_probabilities(share)) for pairs, share in shares],
                               axis=1)
        path = shiryaev_roberts(steps, SCORE_VALUES, gates.margin, "below")
        early.append(first_alarm(path[:, :shares[0][0]], gates))
        late.append(first_alarm(path, gates, after=shares[0][0]))
    return np.concatenate(early), np.concatenate(late)


def error_alarms(rng: np.random.Generator, gates: Gates, rates: list[tuple[int, float]], reps: int,
                 batch: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """`quality_alarms` for the error detector, read after every call (one call per flush: the most looks)."""
    assert gates.error_rate_max is not None
    early, late = [], []
    for start in range(0, reps, batch):
        size = min(batch, reps - start)
        errors = np.concatenate([rng.random((size, calls)) < rate for calls, rate in rates], axis=1).astype(float)
        path = shiryaev_roberts(np.stack([1 - errors, errors], axis=-1), (0.0, 1.0), gates.error_rate_max, "above")
        path[:, : gates.min_calls - 1] = 0.0  # `breaches` reads no failure detector before min_calls calls
        early.append(first_alarm(path[:, :rates[0][0]], gates))
        late.append(first_alarm(path, gates, after=rates[0][0]))
    return np.concatenate(early), np.concatenate(late)


def quantiles(values: np.ndarray) -> dict[str, float | None]:
    if not len(values):
        return {"median": None, "p90": None}
    return {"median": float(np.median(values)), "p90": float(np.quantile(values, 0.9))}


def simulate(*, reps: int, days: float, pairs_per_hour: int, calls_per_hour: int, error_rate: float,
             degraded_share: float, degraded_error_rate: float, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    gates = Gates()
    assert gates.margin is not None
    results: dict[str, Any] = {"reps": reps, "days": days, "pairs_per_hour": pairs_per_hour, "alpha": gates.alpha,
                               "delta": gates.delta, "margin": gates.margin, "rollback_arl": gates.rollback_arl,
                               "tie_share": TIE_SHARE}
    week = int(days * 24 * pairs_per_hour)
    at_margin = first_promotion(rng, gates, gates.margin, week, reps)
    results["false_promotion_rate_at_margin"] = float((at_margin > 0).mean())
    horizon = 4000
    equal = first_promotion(rng, gates, 0.5, horizon, reps)
    reached = np.where(equal > 0, equal, horizon + 1)
    results["power_equal"] = {str(n): float((reached <= n).mean()) for n in (250, 500, 1000, 1500, 2000, 3000, 4000)}
    results["pairs_for_80pct_power_equal"] = float(np.quantile(reached, 0.8)) if (reached <= horizon).mean() >= 0.8 \
        else None
    all_ties = first_promotion(rng, gates, 0.5, 400, min(reps, 200), ties=1.0)
    results["pairs_to_promote_all_ties"] = quantiles(all_ties[all_ties > 0].astype(float))
    better = first_promotion(rng, gates, 0.55, horizon, reps)
    results["pairs_for_80pct_power_share_0.55"] = float(np.quantile(np.where(better > 0, better, horizon + 1), 0.8))
    day_pairs, day_calls = 24 * pairs_per_hour, 24 * calls_per_hour
    quality_early, quality_late = quality_alarms(rng, gates, [(day_pairs, 0.5), (day_pairs, degraded_share)], reps)
    errors_early, errors_late = error_alarms(rng, gates, [(day_calls, error_rate), (day_calls, degraded_error_rate)],
                                             reps)
    results["false_rollback_rate_equal_one_day"] = {
        "quality": float((quality_early > 0).mean()), "errors": float((errors_early > 0).mean()),
        "either": float(((quality_early > 0) | (errors_early > 0)).mean()), "error_rate": error_rate,
        "calls_per_hour": calls_per_hour, "error_rate_max": gates.error_rate_max}
    delays = (quality_late - day_pairs)[(quality_late > 0) & (quality_early < 0)]
    results["quality_detection"] = {"degrades_after_pairs": day_pairs, "share_after": degraded_share,
                                    "detected": float((quality_late > 0).mean()), **{
                                        f"delay_pairs_{k}": v for k, v in quantiles(delays.astype(float)).items()}}
    delays = (errors_late - day_calls)[(errors_late > 0) & (errors_early < 0)]
    results["error_detection"] = {"degrades_after_calls": day_calls, "error_rate_after": degraded_error_rate,
                                  "detected": float((errors_late > 0).mean()), **{
                                      f"delay_calls_{k}": v for k, v in quantiles(delays.astype(float)).items()}}
    return results


def tick_cost(pairs: int, tallies: int, repeats: int = 3) -> dict[str, float]:
    """Seconds one controller tick spends on the statistics of a stage holding `pairs` verdicts and `tallies` call
    rows (the database reads not included): `evidence.quality` and `evidence.failures`, best of `repeats`."""
    import datetime as dt

    from peptalk.rollout.base import CallTally, Verdict
    from peptalk.rollout.evidence import failures, quality

    at = dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc)
    rng = np.random.default_rng(0)
    outcomes = rng.choice(["loss", "tie", "win"], size=pairs, p=outcome_probabilities(0.5))
    verdicts = [Verdict(pair_id=str(index), candidate="a:c", primary="a:p", pair_created_at=at, judged_at=at,
                        outcome=str(outcome), consistent=True, problem=None, raw_candidate_first=None,  # type: ignore[arg-type]
                        raw_primary_first=None, judge_model="a:j", prompt_version="v", calls=2, cost_usd=0.0)
                for index, outcome in enumerate(outcomes)]
    rows = [CallTally("a:c", at, 1, int(rng.random() < 0.005), 0, 0) for _ in range(tallies)]
    gates = Gates()
    timings = {}
    for name, work in (("quality", lambda: quality(verdicts, gates)), ("failures", lambda: failures(rows, gates))):
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            work()
            best = min(best, time.perf_counter() - started)
        timings[f"{name}_s"] = round(best, 3)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--pairs-per-hour", type=int, default=100)
    parser.add_argument("--calls-per-hour", type=int, default=1000)
    parser.add_argument("--error-rate", type=float, default=0.005)
    parser.add_argument("--degraded-share", type=float, default=0.35)
    parser.add_argument("--degraded-error-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--tick-cost", action="store_true",
                        help="Only time one tick's statistics on a week of pairs and a day of per-second call rows.")
    args = parser.parse_args()
    if args.tick_cost:
        print(json.dumps(tick_cost(int(args.days * 24 * args.pairs_per_hour), 86_400), indent=2))
        return
    started = time.perf_counter()
    results = simulate(reps=args.reps, days=args.days, pairs_per_hour=args.pairs_per_hour,
                       calls_per_hour=args.calls_per_hour, error_rate=args.error_rate,
                       degraded_share=args.degraded_share, degraded_error_rate=args.degraded_error_rate,
                       seed=args.seed)
    results["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
