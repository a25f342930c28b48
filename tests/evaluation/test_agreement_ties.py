"""Fig. 10 agreement as the study means it: the reference is excluded, and ties never decide by name."""

from __future__ import annotations

import itertools
import math

import pytest

from evaluation.agreement import agreement, agreement_table, bottom_k_split, expected_jaccard, jaccard
from evaluation.rankings import rank_all
from evaluation.scores import ScoreRow


def brute_force_expected(first: dict[str, float], second: dict[str, float], k: int) -> float:
    """The mean Jaccard over every pair of tie-breaking orders (the definition, by enumeration)."""
    def bottoms(means: dict[str, float]) -> list[frozenset[str]]:
        models = sorted(means)
        sets = [frozenset(sorted(order, key=lambda m: means[m])[:k]) for order in itertools.permutations(models)]
        return sets  # each permutation is one equally likely tie order (stable sort keeps it among equals)

    firsts, seconds = bottoms(first), bottoms(second)
    return sum(jaccard(a, b) for a in firsts for b in seconds) / (len(firsts) * len(seconds))


def test_the_reference_is_left_out_of_the_bottom_k() -> None:
    # Both evaluators put GPT-4 at the bottom; counting it would inflate the agreement.
    human = {"gpt-4": 0.0, "a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}
    judge = {"gpt-4": 0.0, "a": 4.0, "b": 2.0, "c": 3.0, "d": 1.0}
    with_reference = agreement("judge", judge, human, k=2)
    without = agreement("judge", judge, human, k=2, exclude=["gpt-4"])
    assert with_reference.jaccard == pytest.approx(1 / 3)  # {gpt-4, d} vs {gpt-4, a}
    assert without.jaccard == pytest.approx(1 / 3)  # {d, b} vs {a, b}
    assert without.n_models == 4 and without.excluded == ["gpt-4"]
    assert agreement("judge", {"gpt-4": 0, "a": 1, "b": 2}, {"gpt-4": 0, "a": 2, "b": 1}, k=1,
                     exclude=["gpt-4"]).jaccard == 0.0  # with GPT-4 counted it would be 1.0


def test_a_table_excludes_the_reference_for_every_evaluator() -> None:
    rows = [ScoreRow(evaluator=name, prompt_id="p", model=model, score=score, scale="0-10", parsed=True)
            for name, means in (("human", {"gpt-4": 9.0, "a": 1.0, "b": 5.0}), ("j", {"gpt-4": 0.0, "a": 2.0, "b": 3.0}))
            for model, score in means.items()]
    rankings = rank_all(rows)
    table = agreement_table({"j": rankings["j"]}, rankings["human"], k=1, exclude=["gpt-4"])
    assert table[0].jaccard == 1.0 and table[0].n_models == 2 and table[0].excluded == ["gpt-4"]


def test_ties_do_not_decide_by_name() -> None:
    # A selector that gave zero wins to four of six models: its bottom 2 is any 2 of those 4, not {a, b}.
    selector = {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0, "e": 0.5, "f": 0.5}
    human = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 5.0, "f": 6.0}
    row = agreement("selector", selector, human, k=2)
    # Renaming the models must not change the agreement.
    renamed = {"z" + model: mean for model, mean in selector.items()}
    renamed_human = {"z" + model: mean for model, mean in human.items()}
    assert agreement("selector", renamed, renamed_human, k=2).jaccard == pytest.approx(row.jaccard)
    reordered = {"d": 0.0, "c": 0.0, "b": 0.0, "a": 0.0, "e": 0.5, "f": 0.5}
    assert agreement("selector", reordered, {"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0, "e": 5.0, "f": 6.0},
                     k=2).jaccard == pytest.approx(row.jaccard)  # by name it would be {a,b} vs {c,d}: 0
    assert row.jaccard == pytest.approx(brute_force_expected(selector, human, 2))
    assert row.jaccard_tie_sets == pytest.approx(2 / 4)  # {a,b,c,d} against {a,b}
    assert row.method == "expected over tie orders"


@pytest.mark.parametrize(("first", "second", "k"), [
    ({"a": 0, "b": 0, "c": 1, "d": 2}, {"a": 0, "b": 1, "c": 1, "d": 1}, 2),
    ({"a": 0, "b": 0, "c": 0, "d": 0, "e": 1}, {"a": 0, "b": 0, "c": 1, "d": 1, "e": 1}, 3),
    ({"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, 2),
    ({"a": 0, "b": 1, "c": 2, "d": 3}, {"a": 3, "b": 2, "c": 1, "d": 0}, 2),
])
def test_exact_expectation_matches_enumeration(first: dict[str, float], second: dict[str, float], k: int) -> None:
    exact = expected_jaccard(bottom_k_split(first, k), bottom_k_split(second, k))
    assert exact == pytest.approx(brute_force_expected(first, second, k))


def test_all_tied_on_both_sides_is_fast_and_in_range() -> None:
    flat = {f"m{index:02d}": 0.0 for index in range(28)}
    value = expected_jaccard(bottom_k_split(flat, 10), bottom_k_split(flat, 10))
    # Two independent random 10-sets of 28: E[I] = 100/28; the Jaccard's expectation is below 1/2 and above 0.
    assert 0.0 < value < 0.5 and not math.isnan(value)
