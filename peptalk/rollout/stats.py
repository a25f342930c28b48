"""The rollout's statistics: anytime-valid tests and bounds for bounded means, change detectors, quantile bounds,
and Cohen's kappa. docs/rollout.md explains each with its formula.

Every test here is a *test martingale*: a wealth that starts at 1 and, while the null hypothesis holds, does
not grow in expectation, however many times it is looked at. By Ville's inequality it ever reaches 1/alpha with
probability at most alpha, so the controller may re-read it every tick for as long as a stage lasts.

The wealth bets a fraction `f` of itself on each observation `x` in [0, 1]. Against H0 "mean <= m" one step
multiplies it by `1 - f + f * x / m` (>= 1 - f > 0); against H0 "mean >= m" by `1 - f + f * (1 - x) / (1 - m)`.
The wealth used is the average over a fixed grid of fractions (`FRACTIONS`), which is again a test martingale
and is within a factor len(FRACTIONS) of the best fraction in hindsight. With a constant fraction per grid
point the wealth depends only on how many observations took each value, so it is cheap to recompute.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from peptalk.shadow.store import percentile

Side = Literal["above", "below"]  # "above": evidence that the mean is above m (H0: mean <= m); "below": the reverse
FRACTIONS = np.geomspace(0.005, 0.9, 16)  # the bets mixed: from 0.5% to 90% of the wealth per observation
_EPS = 1e-9


def _step_logs(values: Sequence[float], m: float, side: Side) -> np.ndarray:
    """log(1 + f (gain_v - 1)) per fraction f (rows) and value v (columns): one observation's log wealth factor."""
    m = min(max(m, _EPS), 1 - _EPS)
    gains = np.array([value / m if side == "above" else (1 - value) / (1 - m) for value in values])
    return np.log1p(FRACTIONS[:, None] * (gains[None, :] - 1))


def log_wealth_array(counts: np.ndarray, values: Sequence[float], m: float, side: Side) -> np.ndarray:
    """`log_wealth` for many count vectors at once: `counts[..., v]` observations took `values[v]`."""
    logs = np.asarray(counts, dtype=float) @ _step_logs(values, m, side).T  # (..., F)
    top = logs.max(axis=-1, keepdims=True)
    return (top + np.log(np.exp(logs - top).mean(axis=-1, keepdims=True)))[..., 0]


def log_wealth(counts: Mapping[float, int], m: float, side: Side) -> float:
    """log of the mixture wealth against H0 (`side` "above": mean <= m; "below": mean >= m) after observations
    taking value v (in [0, 1]) counts[v] times."""
    values = list(counts)
    return float(log_wealth_array(np.array([counts[value] for value in values]), values, m, side))


def rejects(counts: Mapping[float, int], m: float, side: Side, alpha: float) -> bool:
    """Whether the evidence rejects H0 at `m` (anytime-valid, level `alpha`)."""
    return log_wealth(counts, m, side) >= math.log(1 / alpha)


def confidence_bounds(counts: Mapping[float, int], alpha: float) -> tuple[float | None, float | None]:
    """Anytime-valid one-sided (1 - alpha) lower and upper bounds of the mean; (None, None) with no observations.

    The lower bound is the largest m whose H0 "mean <= m" is rejected (0 when none is); the wealth falls as m
    rises, so bisection finds it. The upper bound is the mirror image.
    """
    if not sum(counts.values()):
        return None, None
    return _bounds(tuple(sorted((value, count) for value, count in counts.items() if count)), alpha)


@lru_cache(maxsize=4096)
def _bounds(items: tuple[tuple[float, int], ...], alpha: float) -> tuple[float, float]:
    """`confidence_bounds` of hashable counts: each tick re-reads mostly the same counts."""
    counts = dict(items)
    threshold = math.log(1 / alpha)

    def search(side: Side) -> float:
        low, high = 0.0, 1.0  # for "above": rejected at low, not at high; for "below" the reverse
        for _ in range(40):
            middle = (low + high) / 2
            rejected = log_wealth(counts, middle, side) >= threshold
            if side == "above":
                low, high = (middle, high) if rejected else (low, middle)
            else:
                low, high = (low, middle) if rejected else (middle, high)
        return low if side == "above" else high

    return search("above"), search("below")


def shiryaev_roberts(counts: np.ndarray, values: Sequence[float], m: float, side: Side) -> np.ndarray:
    """The mixture Shiryaev-Roberts change detector after each step; `counts[..., t, v]` observations took
    `values[v]` at step t (a step is one verdict, or one flush of call counts). Leading axes are independent runs.

    Per fraction f: R_t = (1 + R_{t-1}) * E_t(f), R_0 = 0, where E_t(f) is the step's wealth factor against
    H0 at m; the detector is the average over `FRACTIONS`. While H0 holds at every step, R_t - t is a
    supermartingale, so the mean number of steps before R_t first reaches A is at least A (Shin, Ramdas and
    Rinaldo, e-detectors). R_t sums the wealths of tests started at every earlier step, so a recent change shows
    however long the stage has run.
    """
    step_logs = np.asarray(counts, dtype=float) @ _step_logs(values, m, side).T  # (..., T, F)
    # R_t = sum_{j<=t} exp(L_t - L_{j-1}) with L the running sum of the step logs, so
    # log R_t = L_t + logcumsumexp_j(-L_{j-1}): vectorised, and stable however large R grows.
    running = np.cumsum(step_logs, axis=-2)
    before = np.concatenate([np.zeros_like(running[..., :1, :]), running[..., :-1, :]], axis=-2)
    log_r = running + np.logaddexp.accumulate(-before, axis=-2)
    top = log_r.max(axis=-1, keepdims=True)
    log_mean = (top + np.log(np.exp(log_r - top).mean(axis=-1, keepdims=True)))[..., 0]
    with np.errstate(over="ignore"):
        return np.exp(log_mean)


def shiryaev_roberts_now(counts: np.ndarray, values: Sequence[float], m: float, side: Side) -> float:
    """The last value of `shiryaev_roberts(counts, ...)` for one run (`counts[t, v]`), without the path:
    log R_T = L_T + logsumexp_j(-L_{j-1}), so one tick's cost is one pass over the stage."""
    if not len(counts):
        return 0.0
    step_logs = np.asarray(counts, dtype=float) @ _step_logs(values, m, side).T  # (T, F)
    running = np.cumsum(step_logs, axis=0)
    before = np.vstack([np.zeros((1, running.shape[1])), running[:-1]])
    low = (-before).max(axis=0)
    log_r = running[-1] + low + np.log(np.exp(-before - low).sum(axis=0))
    top = log_r.max()
    with np.errstate(over="ignore"):
        return float(np.exp(top + np.log(np.exp(log_r - top).mean())))


@lru_cache(maxsize=256)
def _order_ranks(n: int, q: float, confidence: float) -> tuple[int | None, int | None]:
    """1-based ranks (k_low, k_high) with P(X_(k_low) <= q-quantile) >= confidence and
    P(X_(k_high) >= q-quantile) >= confidence (distribution-free); None where n is too small."""
    from scipy.stats import binom

    low = high = None
    for k in range(n, 0, -1):  # X_(k) <= xi_q  <=>  at least k samples <= xi_q: P(Bin(n, q) >= k)
        if binom.sf(k - 1, n, q) >= confidence:
            low = k
            break
    for k in range(1, n + 1):  # X_(k) >= xi_q  <=>  at most k - 1 samples < xi_q: P(Bin(n, q) <= k - 1)
        if binom.cdf(k - 1, n, q) >= confidence:
            high = k
            break
    return low, high


def quantile_bounds(samples: Sequence[float], q: float, *,
                    confidence: float = 0.95) -> tuple[float | None, float | None]:
    """One-sided distribution-free bounds (order statistics) of the `q`-quantile, each at `confidence`.

    The upper bound of a p95 needs at least 59 samples at 95% (0.95**59 < 0.05); below that it is None.
    """
    if not samples:
        return None, None
    ordered = sorted(samples)
    low, high = _order_ranks(len(ordered), q, confidence)
    return (None if low is None else ordered[low - 1]), (None if high is None else ordered[high - 1])


@dataclass(frozen=True)
class Kappa:
    """Cohen's kappa between two raters over the same items, with its large-sample interval."""

    n: int
    observed: float
    expected: float
    kappa: float | None
    lower: float | None
    upper: float | None


@lru_cache(maxsize=8)
def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(confidence))


def cohen_kappa(pairs: Sequence[tuple[str, str]], *, confidence: float = 0.95) -> Kappa:
    """kappa = (p_o - p_e) / (1 - p_e) over (label A, label B) pairs; the interval is two-sided at `confidence`,
    with SE = sqrt(p_o (1 - p_o) / n) / (1 - p_e)."""
    n = len(pairs)
    if n == 0:
        return Kappa(0, 0.0, 0.0, None, None, None)
    observed = sum(a == b for a, b in pairs) / n
    labels = {label for pair in pairs for label in pair}
    expected = sum((sum(a == label for a, _ in pairs) / n) * (sum(b == label for _, b in pairs) / n)
                   for label in labels)
    if expected >= 1:  # one label only, on both sides: agreement beyond chance is undefined
        return Kappa(n, observed, expected, None, None, None)
    kappa = (observed - expected) / (1 - expected)
    spread = _z(1 - (1 - confidence) / 2) * math.sqrt(observed * (1 - observed) / n) / (1 - expected)
    return Kappa(n, observed, expected, kappa, max(-1.0, kappa - spread), min(1.0, kappa + spread))


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


__all__ = ["FRACTIONS", "Kappa", "cohen_kappa", "confidence_bounds", "log_wealth", "log_wealth_array", "percentile", "quantile_bounds",
           "ratio", "rejects", "shiryaev_roberts", "shiryaev_roberts_now"]
