"""Inter-rater agreement for the admin page: Krippendorff's alpha (interval) and the mean pairwise Spearman."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Hashable, Mapping
from typing import TypeVar
from statistics import fmean

Unit = TypeVar("Unit", bound=Hashable)


def krippendorff_alpha_interval(ratings: Mapping[Unit, Mapping[str, float]]) -> float | None:
    """Alpha with the interval metric; `ratings[unit][rater] = value`. None when fewer than two pairable values.

    Units rated by a single rater are not pairable and are left out, as in Krippendorff (2011).
    """
    units = [list(values.values()) for values in ratings.values() if len(values) >= 2]
    pooled = [value for unit in units for value in unit]
    total = len(pooled)
    if total < 2:
        return None
    observed = sum(sum((first - second) ** 2 for first, second in itertools.permutations(unit, 2)) / (len(unit) - 1)
                   for unit in units) / total
    # Sum over ordered pairs of (v_i - v_j)^2 = 2 * n * sum((v - mean)^2).
    mean = fmean(pooled)
    expected = 2 * total * sum((value - mean) ** 2 for value in pooled) / (total * (total - 1))
    if expected == 0:
        return None  # every value is the same: agreement is undefined, not perfect
    return 1.0 - observed / expected


def mean_pairwise_spearman(ratings: Mapping[Unit, Mapping[str, float]], *, min_common: int = 3) -> float | None:
    """The mean Spearman correlation over rater pairs that share at least `min_common` units."""
    from scipy.stats import spearmanr

    by_rater: dict[str, dict[Unit, float]] = {}
    for unit, values in ratings.items():
        for rater, value in values.items():
            by_rater.setdefault(rater, {})[unit] = value
    correlations: list[float] = []
    for first, second in itertools.combinations(sorted(by_rater), 2):
        common = sorted(set(by_rater[first]) & set(by_rater[second]), key=repr)
        if len(common) < min_common:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a rater who gave one score everywhere: rho is NaN, skipped below
            rho = spearmanr([by_rater[first][unit] for unit in common],
                            [by_rater[second][unit] for unit in common]).statistic
        if not math.isnan(rho):
            correlations.append(float(rho))
    return fmean(correlations) if correlations else None
