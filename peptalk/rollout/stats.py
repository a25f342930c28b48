"""Confidence bounds for rates (Wilson score interval, one-sided), ratios, and the shadow log's percentile."""

from __future__ import annotations

import math
from functools import lru_cache

from peptalk.shadow.store import percentile


@lru_cache(maxsize=8)
def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(confidence))


def wilson_bounds(successes: int, total: int, *, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """One-sided Wilson bounds (lower, upper) of a binomial rate, each at `confidence`; (None, None) for no trials."""
    if total <= 0:
        return None, None
    z = _z(confidence)
    rate = successes / total
    denominator = 1 + z * z / total
    centre = rate + z * z / (2 * total)
    spread = z * math.sqrt(rate * (1 - rate) / total + z * z / (4 * total * total))
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
