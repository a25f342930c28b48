"""Confidence bounds for rates (Wilson score interval, one-sided) and percentiles."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache


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


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q` quantile (0..1) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator
