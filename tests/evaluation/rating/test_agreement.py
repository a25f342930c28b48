"""Agreement: Krippendorff's alpha against the published worked example, and the mean pairwise Spearman."""

from __future__ import annotations

import pytest

from evaluation.rating.agreement import krippendorff_alpha_interval, mean_pairwise_spearman

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 observers, 12 units, missing values.
RELIABILITY_DATA = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}


def by_unit(data: dict[str, list[float | None]]) -> dict[int, dict[str, float]]:
    units: dict[int, dict[str, float]] = {}
    for rater, values in data.items():
        for unit, value in enumerate(values):
            if value is not None:
                units.setdefault(unit, {})[rater] = value
    return units


def test_alpha_interval_matches_the_published_value() -> None:
    assert krippendorff_alpha_interval(by_unit(RELIABILITY_DATA)) == pytest.approx(0.849, abs=5e-4)


def test_alpha_is_one_for_perfect_agreement_and_none_without_pairable_values() -> None:
    assert krippendorff_alpha_interval({1: {"a": 2, "b": 2}, 2: {"a": 8, "b": 8}}) == pytest.approx(1.0)
    assert krippendorff_alpha_interval({1: {"a": 2}, 2: {"b": 8}}) is None
    assert krippendorff_alpha_interval({1: {"a": 5, "b": 5}}) is None


def test_alpha_is_low_when_raters_disagree() -> None:
    assert krippendorff_alpha_interval({1: {"a": 0, "b": 10}, 2: {"a": 10, "b": 0}, 3: {"a": 5, "b": 5}}) < 0


def test_mean_pairwise_spearman() -> None:
    same = {unit: {"a": unit, "b": unit * 2, "c": 10 - unit} for unit in range(5)}
    assert mean_pairwise_spearman(same) == pytest.approx((1 - 1 - 1) / 3)
    assert mean_pairwise_spearman({1: {"a": 1, "b": 1}}) is None  # too few shared units
