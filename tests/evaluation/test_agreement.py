"""Bottom-k Jaccard is exact set arithmetic; Spearman and Kendall come from scipy; the table is sorted by agreement."""

from __future__ import annotations

import pytest

from evaluation.agreement import agreement, agreement_table, bottom_k, jaccard
from evaluation.rankings import rank_all
from evaluation.scores import ScoreRow

# Ten models; the human ranking is m0 (worst) ... m9 (best).
HUMAN = {f"m{index}": float(index) for index in range(10)}


def test_jaccard_set_arithmetic() -> None:
    assert jaccard({"a", "b", "c"}, {"b", "c", "d"}) == pytest.approx(2 / 4)
    assert jaccard({"a"}, {"b"}) == 0.0
    assert jaccard({"a", "b"}, {"b", "a"}) == 1.0
    assert jaccard(set(), set()) == 1.0


def test_bottom_k_takes_the_lowest_means_and_keeps_boundary_ties_together() -> None:
    assert bottom_k(HUMAN, 3) == {"m0", "m1", "m2"}
    assert bottom_k({"b": 1.0, "a": 1.0, "c": 0.5}, 2) == {"c", "a", "b"}  # no name decides between a and b


def test_hand_made_rankings() -> None:
    # The evaluator swaps m2 and m5: its bottom 3 is {m0, m1, m5}; the human bottom 3 is {m0, m1, m2}.
    evaluator = dict(HUMAN, m2=5.0, m5=2.0)
    row = agreement("judge", evaluator, HUMAN, k=3)
    assert row.jaccard == pytest.approx(2 / 4)
    assert row.n_models == 10 and row.k == 3
    # Spearman with one swap of ranks 3 and 6: 1 - 6 * (3^2 + 3^2) / (10 * 99).
    assert row.spearman == pytest.approx(1 - 6 * 18 / 990)
    # Kendall: the swap reverses the pair (m2, m5) and each pair of them with m3 and m4: 5 discordant of 45.
    assert row.kendall == pytest.approx((40 - 5) / 45)


def test_reversed_ranking() -> None:
    reversed_means = {model: -mean for model, mean in HUMAN.items()}
    row = agreement("contrarian", reversed_means, HUMAN, k=3)
    assert row.jaccard == 0.0
    assert row.spearman == pytest.approx(-1.0)
    assert row.kendall == pytest.approx(-1.0)


def test_only_common_models_count_and_k_is_clamped() -> None:
    row = agreement("partial", {"m0": 1.0, "m9": 2.0, "other": 0.0}, HUMAN, k=10)
    assert row.n_models == 2 and row.k == 2 and row.jaccard == 1.0


def test_constant_scores_have_no_correlation() -> None:
    row = agreement("flat", {model: 5.0 for model in HUMAN}, HUMAN, k=2)
    assert row.spearman is None and row.kendall is None


def _rows(evaluator: str, means: dict[str, float]) -> list[ScoreRow]:
    return [ScoreRow(evaluator=evaluator, prompt_id="p", model=model, score=mean, scale="0-10", parsed=True)
            for model, mean in means.items()]


def test_table_is_sorted_by_agreement() -> None:
    rows = (_rows("good", HUMAN) + _rows("swapped", dict(HUMAN, m2=5.0, m5=2.0))
            + _rows("bad", {model: -mean for model, mean in HUMAN.items()}))
    rankings = rank_all(rows)
    human = rank_all(_rows("human", HUMAN))["human"]
    table = agreement_table(rankings, human, k=3)
    assert [row.evaluator for row in table] == ["good", "swapped", "bad"]
    assert table[0].jaccard == 1.0
