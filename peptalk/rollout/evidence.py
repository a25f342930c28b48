"""Evidence about a candidate over a time window, from the shadow pairs and the judge's verdicts."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from peptalk.observability.prices import Prices
from peptalk.rollout.base import Verdict
from peptalk.rollout.stats import percentile, ratio, wilson_bounds
from peptalk.rollout.store import RolloutStore, utc
from peptalk.shadow.store import shadow_calls, shadow_pairs

TIMEOUT_MARKERS = ("timeout", "deadline", "timed out")


@dataclass(frozen=True)
class Evidence:
    """What the gates read: volume, judged quality with its bounds, latency ratios, failure rates and cost."""

    candidate: str
    primary: str
    since: dt.datetime
    until: dt.datetime
    pairs: int  # pairs holding an answer (or a failure) of both models
    judged_pairs: int  # pairs with a verdict read from both orders
    unjudgeable_pairs: int  # pairs the judge answered but an order could not be read
    wins: int
    ties: int
    losses: int
    win_or_tie_rate: float | None
    win_or_tie_lower_bound: float | None  # one-sided 95% (Wilson)
    win_or_tie_upper_bound: float | None  # one-sided 95% (Wilson): below the margin means "worse"
    loss_rate: float | None
    consistency: float | None  # share of judged pairs where both orders agreed
    candidate_calls: int
    candidate_errors: int
    candidate_timeouts: int
    error_rate: float | None
    error_rate_lower_bound: float | None
    timeout_rate: float | None
    timeout_rate_lower_bound: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    primary_latency_p50_s: float | None
    primary_latency_p95_s: float | None
    latency_p50_ratio: float | None
    latency_p95_ratio: float | None
    ttft_p50_ratio: float | None
    ttft_p95_ratio: float | None
    latency_samples: int
    cost_per_request_usd: float | None
    primary_cost_per_request_usd: float | None
    human_agreement: float | None = None
    human_rated_pairs: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"], data["until"] = self.since.isoformat(), self.until.isoformat()
        return data


def is_timeout(error: str) -> bool:
    lowered = error.lower()
    return any(marker in lowered for marker in TIMEOUT_MARKERS)


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


def _quality(verdicts: list[Verdict]) -> dict[str, Any]:
    judged = [verdict for verdict in verdicts if verdict.outcome is not None]
    wins = sum(verdict.outcome == "win" for verdict in judged)
    ties = sum(verdict.outcome == "tie" for verdict in judged)
    losses = len(judged) - wins - ties
    lower, upper = wilson_bounds(wins + ties, len(judged))
    rated = [verdict for verdict in judged if verdict.human_total]
    human_total = sum(verdict.human_total or 0 for verdict in rated)
    return {"judged_pairs": len(judged), "unjudgeable_pairs": len(verdicts) - len(judged), "wins": wins, "ties": ties,
            "losses": losses, "win_or_tie_rate": (wins + ties) / len(judged) if judged else None,
            "win_or_tie_lower_bound": lower, "win_or_tie_upper_bound": upper,
            "loss_rate": losses / len(judged) if judged else None,
            "consistency": sum(bool(verdict.consistent) for verdict in judged) / len(judged) if judged else None,
            "human_agreement": sum(v.human_agree or 0 for v in rated) / human_total if human_total else None,
            "human_rated_pairs": len(rated)}


def _cost(prices: Prices | None, rows: list[Any]) -> float | None:
    if prices is None or not rows:
        return None
    return sum(prices.cost_usd(row.model, row.input_tokens or 0, row.output_tokens or 0) for row in rows) / len(rows)


def compute_evidence(store: RolloutStore, *, candidate: str, primary: str, since: dt.datetime, until: dt.datetime,
                     prices: Prices | None = None) -> Evidence:
    """The candidate's evidence against `primary` over pairs created in [since, until)."""
    pairs = _pair_calls(store, (candidate, primary), since, until)
    mine = [calls[candidate] for calls in pairs.values()]
    theirs = [calls[primary] for calls in pairs.values()]
    errors = [row for row in mine if row.error is not None]
    timeouts = [row for row in errors if is_timeout(row.error)]
    # Latency compares answers that both models really generated (no cache hits, no failures).
    both_ok = [calls for calls in pairs.values()
               if all(row.error is None and not row.cache_hit and row.latency_s is not None for row in calls.values())]
    mine_latency = [calls[candidate].latency_s for calls in both_ok]
    their_latency = [calls[primary].latency_s for calls in both_ok]
    mine_ttft = [calls[candidate].ttft_s for calls in both_ok if calls[candidate].ttft_s is not None]
    their_ttft = [calls[primary].ttft_s for calls in both_ok if calls[primary].ttft_s is not None]
    error_lower, _ = wilson_bounds(len(errors), len(mine))
    timeout_lower, _ = wilson_bounds(len(timeouts), len(mine))
    verdicts = [verdict for verdict in store.verdicts(candidate, since=since, until=until) if verdict.primary == primary]
    p50, p95 = percentile(mine_latency, 0.5), percentile(mine_latency, 0.95)
    primary_p50, primary_p95 = percentile(their_latency, 0.5), percentile(their_latency, 0.95)
    return Evidence(
        candidate=candidate, primary=primary, since=utc(since), until=utc(until), pairs=len(pairs),
        **_quality(verdicts),
        candidate_calls=len(mine), candidate_errors=len(errors), candidate_timeouts=len(timeouts),
        error_rate=len(errors) / len(mine) if mine else None, error_rate_lower_bound=error_lower,
        timeout_rate=len(timeouts) / len(mine) if mine else None, timeout_rate_lower_bound=timeout_lower,
        latency_p50_s=p50, latency_p95_s=p95, primary_latency_p50_s=primary_p50, primary_latency_p95_s=primary_p95,
        latency_p50_ratio=ratio(p50, primary_p50), latency_p95_ratio=ratio(p95, primary_p95),
        ttft_p50_ratio=ratio(percentile(mine_ttft, 0.5), percentile(their_ttft, 0.5)),
        ttft_p95_ratio=ratio(percentile(mine_ttft, 0.95), percentile(their_ttft, 0.95)),
        latency_samples=len(both_ok),
        cost_per_request_usd=_cost(prices, mine), primary_cost_per_request_usd=_cost(prices, theirs),
    )
