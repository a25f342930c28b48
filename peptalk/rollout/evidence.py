"""Evidence about a candidate over a time window: judged quality from the verdicts, failure rates from every
candidate call (`rollout_calls`), latency and cost from the shadow pairs. docs/rollout.md gives the formulas."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from peptalk.observability.prices import Prices
from peptalk.rollout.base import CallTally, Verdict
from peptalk.rollout.plan import Gates
from peptalk.rollout.stats import (cohen_kappa, confidence_bounds, log_wealth, percentile, quantile_bounds, ratio,
                                   shiryaev_roberts_now)
from peptalk.rollout.store import RolloutStore, utc
from peptalk.shadow.store import shadow_calls, shadow_pairs

TIMEOUT_MARKERS = ("timeout", "deadline", "timed out")
SCORES = {"win": 1.0, "tie": 0.5, "loss": 0.0}  # the candidate's preference score per verdict
SCORE_VALUES = (0.0, 0.5, 1.0)


@dataclass(frozen=True)
class Evidence:
    """What the gates read: volume, judged quality with its anytime-valid bounds and change detector, failure
    rates over every candidate call with both bounds and detectors, latency bounds, position bias, judge-vs-human
    kappa, and cost. Bounds are one-sided at the plan's 1 - alpha."""

    candidate: str
    primary: str
    since: dt.datetime
    until: dt.datetime
    pairs: int  # pairs holding an answer (or a failure) of both models
    judged_pairs: int  # verdicts with an outcome (empty candidate answers included, as losses)
    unjudgeable_pairs: int  # verdicts whose judge answers could not be read
    wins: int
    ties: int  # inconsistent orders included
    losses: int
    empty_answer_losses: int  # losses because the candidate's answer was empty
    preference_share: float | None  # mean score: win 1, tie 1/2, loss 0
    preference_lower_bound: float | None
    preference_upper_bound: float | None
    margin: float | None  # 0.5 - delta
    promotion_log_e: float | None  # log wealth against "share <= margin"; promotes at >= log(1/alpha)
    quality_detector: float | None  # Shiryaev-Roberts statistic for "share fell below the margin"
    consistency: float | None  # share of judged pairs where both orders agreed
    unjudgeable_rate: float | None
    unjudgeable_rate_upper_bound: float | None
    first_position_wins: int  # order readings preferring the answer shown first
    second_position_wins: int
    first_position_share: float | None  # of decisive order readings; 0.5 means no position bias
    candidate_calls: int  # every candidate call, sampled or not
    candidate_errors: int
    candidate_timeouts: int
    candidate_empty_answers: int
    error_rate: float | None
    error_rate_lower_bound: float | None
    error_rate_upper_bound: float | None
    error_detector: float | None
    timeout_rate: float | None
    timeout_rate_lower_bound: float | None
    timeout_rate_upper_bound: float | None
    timeout_detector: float | None
    empty_answer_rate: float | None
    empty_answer_rate_lower_bound: float | None
    empty_answer_rate_upper_bound: float | None
    empty_answer_detector: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    latency_p95_lower_bound_s: float | None  # order statistics: distribution-free
    latency_p95_upper_bound_s: float | None  # needs >= 59 samples
    primary_latency_p50_s: float | None
    primary_latency_p95_s: float | None
    primary_latency_p95_lower_bound_s: float | None
    primary_latency_p95_upper_bound_s: float | None
    primary_latency_max_s: float | None
    latency_p50_ratio: float | None
    latency_p95_ratio: float | None
    ttft_p50_ratio: float | None
    ttft_p95_ratio: float | None
    latency_samples: int
    cost_per_request_usd: float | None
    primary_cost_per_request_usd: float | None
    human_ratings: int = 0
    human_rated_pairs: int = 0
    human_agreement: float | None = None  # raw agreement, for reading; the gate reads kappa
    human_kappa: float | None = None
    human_kappa_lower_bound: float | None = None
    human_kappa_upper_bound: float | None = None
    last_verdict_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("since", "until", "last_verdict_at"):
            data[key] = None if data[key] is None else data[key].isoformat()
        return {key: _finite(value) for key, value in data.items()}


def _finite(value: Any) -> Any:
    """JSON has no infinity: a detector past every float is reported as the largest one."""
    if isinstance(value, float) and math.isinf(value):
        return math.copysign(1.7976931348623157e308, value)
    return value


def is_timeout(error: str) -> bool:
    lowered = error.lower()
    return any(marker in lowered for marker in TIMEOUT_MARKERS)


def quality(verdicts: Sequence[Verdict], gates: Gates) -> dict[str, Any]:
    """The quality fields of `Evidence` from verdicts in the order they were judged."""
    judged = [verdict for verdict in verdicts if verdict.outcome is not None]
    scores = [SCORES[verdict.outcome or "tie"] for verdict in judged]
    counts = Counter(scores)
    wins, ties, losses = counts[1.0], counts[0.5], counts[0.0]
    lower, upper = confidence_bounds(counts, gates.alpha)
    margin = gates.margin
    detector = None
    if margin is not None and scores:
        steps = np.array([[score == value for value in SCORE_VALUES] for score in scores], dtype=float)
        detector = shiryaev_roberts_now(steps, SCORE_VALUES, margin, "below")
    readings = [reading for verdict in judged for reading in _positions(verdict)]
    first, second = readings.count(1), readings.count(2)
    unread = len(verdicts) - len(judged)
    _, unread_upper = confidence_bounds({1.0: unread, 0.0: len(judged)}, gates.alpha)
    return {"judged_pairs": len(judged), "unjudgeable_pairs": unread, "wins": wins, "ties": ties, "losses": losses,
            "empty_answer_losses": sum(v.problem == EMPTY_ANSWER for v in judged),
            "preference_share": (wins + ties / 2) / len(judged) if judged else None,
            "preference_lower_bound": lower, "preference_upper_bound": upper, "margin": margin,
            "promotion_log_e": None if margin is None or not judged else log_wealth(counts, margin, "above"),
            "quality_detector": detector,
            "consistency": sum(bool(v.consistent) for v in judged) / len(judged) if judged else None,
            "unjudgeable_rate": unread / len(verdicts) if verdicts else None,
            "unjudgeable_rate_upper_bound": unread_upper, "first_position_wins": first,
            "second_position_wins": second,
            "first_position_share": first / (first + second) if first + second else None,
            "last_verdict_at": max((v.judged_at for v in verdicts), default=None), **_human(judged)}


EMPTY_ANSWER = "empty candidate answer"  # the problem noted on a verdict scored without the judge


def _positions(verdict: Verdict) -> list[int]:
    """Which position (1 or 2) each order's reading preferred; ties and unread orders give nothing."""
    found = []
    for outcome, candidate_position in ((verdict.candidate_first_outcome, 1), (verdict.primary_first_outcome, 2)):
        if outcome == "win":
            found.append(candidate_position)
        elif outcome == "loss":
            found.append(3 - candidate_position)
    return found


def _human(judged: Sequence[Verdict]) -> dict[str, Any]:
    pairs = [(verdict.outcome or "", label) for verdict in judged for label in verdict.human_labels]
    kappa = cohen_kappa(pairs)
    return {"human_ratings": len(pairs), "human_rated_pairs": sum(bool(v.human_labels) for v in judged),
            "human_agreement": kappa.observed if pairs else None, "human_kappa": kappa.kappa,
            "human_kappa_lower_bound": kappa.lower, "human_kappa_upper_bound": kappa.upper}


def failures(tallies: Sequence[CallTally], gates: Gates) -> dict[str, Any]:
    """The failure-rate fields of `Evidence` from every candidate call, flush by flush."""
    table = np.array([(t.calls, t.errors, t.timeouts, t.empty_answers) for t in tallies], dtype=float).reshape(-1, 4)
    total = int(table[:, 0].sum())
    fields: dict[str, Any] = {"candidate_calls": total}
    for column, (name, attribute, bound) in enumerate((("error", "errors", gates.error_rate_max),
                                                       ("timeout", "timeouts", gates.timeout_rate_max),
                                                       ("empty_answer", "empty_answers", gates.empty_answer_rate_max)),
                                                      start=1):
        bad = int(table[:, column].sum())
        lower, upper = confidence_bounds({1.0: bad, 0.0: total - bad}, gates.alpha)
        detector = None
        if bound is not None and tallies:
            steps = np.stack([table[:, 0] - table[:, column], table[:, column]], axis=1)
            detector = shiryaev_roberts_now(steps, (0.0, 1.0), bound, "above")
        key = "candidate_empty_answers" if name == "empty_answer" else f"candidate_{attribute}"
        fields.update({key: bad, f"{name}_rate": bad / total if total else None, f"{name}_rate_lower_bound": lower,
                       f"{name}_rate_upper_bound": upper, f"{name}_detector": detector})
    return fields


def _pair_calls(store: RolloutStore, models: tuple[str, str], since: dt.datetime,
                until: dt.datetime) -> dict[str, dict[str, Any]]:
    """pair_id -> {model: call row} for pairs created in [since, until) that hold both models."""
    query = (select(shadow_calls.c.pair_id, shadow_calls.c.model, shadow_calls.c.error, shadow_calls.c.latency_s,
                    shadow_calls.c.ttft_s, shadow_calls.c.input_tokens, shadow_calls.c.output_tokens,
                    shadow_calls.c.cache_hit)
             .join(shadow_pairs, shadow_pairs.c.pair_id == shadow_calls.c.pair_id)
             .where(shadow_pairs.c.created_at >= utc(since), shadow_pairs.c.created_at < utc(until),
                    shadow_calls.c.model.in_(models)))
    pairs: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as connection:
        for row in connection.execute(query):
            pairs.setdefault(row.pair_id, {}).setdefault(row.model, row)
    return {pair_id: calls for pair_id, calls in pairs.items() if len(calls) == 2}


def latency(mine: Sequence[float], theirs: Sequence[float], alpha: float) -> dict[str, Any]:
    """The latency fields of `Evidence` from the paired latencies of answers both models generated."""
    p50, p95 = percentile(list(mine), 0.5), percentile(list(mine), 0.95)
    primary_p50, primary_p95 = percentile(list(theirs), 0.5), percentile(list(theirs), 0.95)
    lower, upper = quantile_bounds(mine, 0.95, confidence=1 - alpha)
    primary_lower, primary_upper = quantile_bounds(theirs, 0.95, confidence=1 - alpha)
    return {"latency_p50_s": p50, "latency_p95_s": p95, "latency_p95_lower_bound_s": lower,
            "latency_p95_upper_bound_s": upper, "primary_latency_p50_s": primary_p50,
            "primary_latency_p95_s": primary_p95, "primary_latency_p95_lower_bound_s": primary_lower,
            "primary_latency_p95_upper_bound_s": primary_upper, "primary_latency_max_s": max(theirs, default=None),
            "latency_p50_ratio": ratio(p50, primary_p50),
            "latency_p95_ratio": ratio(p95, primary_p95), "latency_samples": len(mine)}


def _cost(prices: Prices | None, rows: list[Any]) -> float | None:
    if prices is None or not rows:
        return None
    return sum(prices.cost_usd(row.model, row.input_tokens or 0, row.output_tokens or 0) for row in rows) / len(rows)


def compute_evidence(store: RolloutStore, *, candidate: str, primary: str, since: dt.datetime, until: dt.datetime,
                     gates: Gates | None = None, prices: Prices | None = None) -> Evidence:
    """The candidate's evidence against `primary` over [since, until), read against `gates` (default: defaults)."""
    gates = gates or Gates()
    pairs = _pair_calls(store, (candidate, primary), since, until)
    # Latency compares answers that both models really generated (no cache hits, no failures).
    both_ok = [calls for calls in pairs.values()
               if all(row.error is None and not row.cache_hit and row.latency_s is not None for row in calls.values())]
    mine_ttft = [calls[candidate].ttft_s for calls in both_ok if calls[candidate].ttft_s is not None]
    their_ttft = [calls[primary].ttft_s for calls in both_ok if calls[primary].ttft_s is not None]
    verdicts = [verdict for verdict in store.verdicts(candidate, since=since, until=until) if verdict.primary == primary]
    return Evidence(
        candidate=candidate, primary=primary, since=utc(since), until=utc(until), pairs=len(pairs),
        **quality(verdicts, gates),
        **failures(store.tallies(candidate, since=since, until=until), gates),
        **latency([calls[candidate].latency_s for calls in both_ok], [calls[primary].latency_s for calls in both_ok],
                  gates.alpha),
        ttft_p50_ratio=ratio(percentile(mine_ttft, 0.5), percentile(their_ttft, 0.5)),
        ttft_p95_ratio=ratio(percentile(mine_ttft, 0.95), percentile(their_ttft, 0.95)),
        cost_per_request_usd=_cost(prices, [calls[candidate] for calls in pairs.values()]),
        primary_cost_per_request_usd=_cost(prices, [calls[primary] for calls in pairs.values()]),
    )
