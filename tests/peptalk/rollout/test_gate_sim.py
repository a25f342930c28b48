"""The gate simulation (`bench/rollout_gate_sim.py`) at a small size: the same properties BENCHMARKS.md reports at
full size, and a check that the simulation's vectorised reading of the gates is the controller's own."""

from __future__ import annotations

import datetime as dt

import numpy as np

from bench.rollout_gate_sim import first_promotion, outcome_probabilities, simulate
from peptalk.rollout.base import Verdict
from peptalk.rollout.evidence import SCORE_VALUES, quality
from peptalk.rollout.gates import promotes
from peptalk.rollout.plan import Gates

T0 = dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc)


def test_the_small_simulation_holds_the_promised_properties() -> None:
    results = simulate(reps=40, days=1, pairs_per_hour=100, calls_per_hour=1000, error_rate=0.005,
                       degraded_share=0.35, degraded_error_rate=0.05, seed=7)
    assert results["false_promotion_rate_at_margin"] <= 8 / 40  # alpha = 0.05: 2 of 40 expected, 8 is p < 0.001
    assert results["pairs_for_80pct_power_equal"] is not None and results["pairs_for_80pct_power_equal"] < 2000
    assert results["pairs_to_promote_all_ties"]["median"] < 100
    assert results["false_rollback_rate_equal_one_day"]["either"] <= 0.1
    assert results["quality_detection"]["detected"] >= 0.9 and results["quality_detection"]["delay_pairs_median"] < 600
    assert results["error_detection"]["detected"] >= 0.9 and results["error_detection"]["delay_calls_median"] < 1500


def test_the_simulation_reads_the_gate_as_the_controller_does() -> None:
    """For seeded runs, the pair after which the simulation promotes is the first prefix whose evidence (built by
    `evidence.quality` from verdicts) passes `gates.promotes`."""
    gates = Gates()
    for seed, share in ((1, 0.6), (2, 0.55), (3, 0.5)):
        found = first_promotion(np.random.default_rng(seed), gates, share, 400, 1, batch=1)[0]
        draws = np.random.default_rng(seed).choice(3, size=(1, 400), p=outcome_probabilities(share))[0]
        outcomes = [{0.0: "loss", 0.5: "tie", 1.0: "win"}[SCORE_VALUES[draw]] for draw in draws]
        verdicts = [Verdict(pair_id=str(index), candidate="a:c", primary="a:p", pair_created_at=T0, judged_at=T0,
                            outcome=outcome, consistent=True, problem=None, raw_candidate_first=None,  # type: ignore[arg-type]
                            raw_primary_first=None, judge_model="a:j", prompt_version="v", calls=2, cost_usd=0.0)
                    for index, outcome in enumerate(outcomes)]
        expected = next((n for n in range(1, 401) if promotes(quality(verdicts[:n], gates)["promotion_log_e"], gates)),
                        -1)
        assert found == expected, (seed, share)


def test_the_detectors_current_value_is_the_paths_last() -> None:
    from peptalk.rollout.stats import shiryaev_roberts, shiryaev_roberts_now

    errors = (np.random.default_rng(3).random(800) < np.r_[np.full(400, 0.01), np.full(400, 0.08)]).astype(float)
    steps = np.stack([1 - errors, errors], axis=1)
    path = shiryaev_roberts(steps, (0.0, 1.0), 0.02, "above")
    assert path[-1] > Gates().rollback_arl > path[399]  # quiet before the change, past the threshold after it
    for t in (1, 50, 399, 800):
        assert np.isclose(shiryaev_roberts_now(steps[:t], (0.0, 1.0), 0.02, "above"), path[t - 1], rtol=1e-9)
    # The recursion as written in docs/rollout.md, step by step: R_t = (1 + R_{t-1}) e_t, averaged over fractions.
    from peptalk.rollout.stats import FRACTIONS

    r, looped = np.zeros(len(FRACTIONS)), []
    for error in errors:
        r = (1 + r) * (1 + FRACTIONS * ((error / 0.02) - 1))
        looped.append(r.mean())
    assert np.allclose(path, looped, rtol=1e-9)
