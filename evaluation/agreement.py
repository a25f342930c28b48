"""Agreement of each evaluator's model ranking with the humans': bottom-k Jaccard, Spearman and Kendall (Fig. 10).

As the study means it: the bottom k is taken over the candidate SLMs only (the reference model, GPT-4, is left
out of every agreement figure), and ties never decide membership by name. `jaccard` is the expected Jaccard
over every order of the tied models at the bottom-k boundary (each tie order equally likely, the two
evaluators' tie orders independent), computed exactly. `jaccard_tie_sets` is the other tie-aware reading: the
Jaccard of the bottom sets widened to every model tied at the boundary. `method` says which `jaccard` is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel

from evaluation.rankings import EvaluatorRanking

JACCARD_METHOD = "expected over tie orders"


class AgreementRow(BaseModel):
    """How well one evaluator's model ranking matches the human one (over the candidates both scored)."""

    evaluator: str
    k: int  # bottom-k actually used: min(k asked, n_models)
    jaccard: float | None  # expected bottom-k Jaccard over tie orders
    spearman: float | None
    kendall: float | None
    n_models: int  # candidates compared (the reference excluded)
    jaccard_tie_sets: float | None = None  # Jaccard of the bottom sets widened to every boundary tie
    method: str = JACCARD_METHOD
    excluded: list[str] = []  # reference models left out


@dataclass(frozen=True)
class BottomK:
    """The bottom k of a ranking: the models surely in it, and `draw` more drawn from the boundary `tied`."""

    sure: frozenset[str]
    tied: frozenset[str]
    draw: int

    @property
    def widened(self) -> frozenset[str]:
        """Every model that can be in the bottom k (the tie-aware set)."""
        return self.sure | self.tied if self.draw else self.sure


def bottom_k_split(means: dict[str, float], k: int) -> BottomK:
    """The bottom `k` of `means`, split into the models below the boundary value and those tied at it."""
    if k <= 0 or not means:
        return BottomK(frozenset(), frozenset(), 0)
    ordered = sorted(means.values())
    boundary = ordered[min(k, len(ordered)) - 1]
    sure = frozenset(model for model, mean in means.items() if mean < boundary)
    tied = frozenset(model for model, mean in means.items() if mean == boundary)
    return BottomK(sure, tied, min(k, len(means)) - len(sure))


def bottom_k(means: dict[str, float], k: int) -> set[str]:
    """The bottom `k` when no tie straddles the boundary; with ties, every model that could be in it."""
    return set(bottom_k_split(means, k).widened)


def jaccard(first: set[str] | frozenset[str], second: set[str] | frozenset[str]) -> float:
    """|A ∩ B| / |A ∪ B|; two empty sets agree fully."""
    union = first | second
    return 1.0 if not union else len(first & second) / len(union)


@lru_cache(maxsize=4096)
def _hypergeometric(population: int, successes: int, draws: int, hits: int) -> float:
    """P(`hits` of `draws` drawn without replacement from `population` are among `successes`)."""
    if hits < 0 or hits > successes or draws - hits > population - successes or draws > population:
        return 0.0
    return math.comb(successes, hits) * math.comb(population - successes, draws - hits) / math.comb(population,
                                                                                                  draws)


def _picks(sizes: tuple[int, int, int], draws: int) -> Iterable[tuple[int, int, float]]:
    """Multivariate hypergeometric over three groups: (from group 0, from group 1, probability)."""
    total = sum(sizes)
    for first in range(min(sizes[0], draws) + 1):
        for second in range(min(sizes[1], draws - first) + 1):
            third = draws - first - second
            if third > sizes[2]:
                continue
            weight = math.comb(sizes[0], first) * math.comb(sizes[1], second) * math.comb(sizes[2], third)
            yield first, second, weight / math.comb(total, draws)


def expected_jaccard(first: BottomK, second: BottomK) -> float:
    """E[Jaccard] of two bottom-k sets whose boundary ties are broken uniformly at random, independently.

    Both sets have the same size k, so the Jaccard is I / (2k - I) for an intersection of I; I is the sure
    overlap plus what each side draws from the other's sure part plus the overlap of the two draws.
    """
    size = len(first.sure) + first.draw
    if size == 0:
        return 1.0
    base = len(first.sure & second.sure)
    # First's draw comes from its ties: those sure in second, tied in second, or neither.
    first_groups = (len(first.tied & second.sure), len(first.tied & second.tied),
                    len(first.tied - second.sure - second.tied))
    second_groups = (len(second.tied & first.sure), len(second.tied & first.tied),
                     len(second.tied - first.sure - first.tied))
    shared = first_groups[1]
    expected = 0.0
    for into_second_sure, into_shared_a, p_first in _picks(first_groups, first.draw):
        for into_first_sure, into_shared_b, p_second in _picks(second_groups, second.draw):
            for common in range(min(into_shared_a, into_shared_b) + 1):
                p_common = _hypergeometric(shared, into_shared_a, into_shared_b, common)
                if p_common:
                    overlap = base + into_second_sure + into_first_sure + common
                    expected += p_first * p_second * p_common * overlap / (2 * size - overlap)
    return expected


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def agreement(evaluator: str, means: dict[str, float], human_means: dict[str, float], *, k: int,
              exclude: Iterable[str] = ()) -> AgreementRow:
    """The agreement of `means` with `human_means` over their common models, less `exclude` (the reference)."""
    from scipy.stats import kendalltau, spearmanr

    left_out = sorted(set(exclude) & (set(means) | set(human_means)))
    common = sorted((set(means) & set(human_means)) - set(left_out))
    used_k = min(k, len(common))
    if not common:
        return AgreementRow(evaluator=evaluator, k=0, jaccard=None, spearman=None, kendall=None, n_models=0,
                            excluded=left_out)
    theirs = {model: means[model] for model in common}
    humans = {model: human_means[model] for model in common}
    ours_split, human_split = bottom_k_split(theirs, used_k), bottom_k_split(humans, used_k)
    spearman = kendall = None
    first, second = [theirs[model] for model in common], [humans[model] for model in common]
    if len(set(first)) > 1 and len(set(second)) > 1:  # a constant ranking has no correlation
        spearman = _finite(spearmanr(first, second).statistic)
        kendall = _finite(kendalltau(first, second).statistic)
    return AgreementRow(evaluator=evaluator, k=used_k, jaccard=expected_jaccard(ours_split, human_split),
                        jaccard_tie_sets=jaccard(ours_split.widened, human_split.widened), spearman=spearman,
                        kendall=kendall, n_models=len(common), excluded=left_out)


def _sort_key(row: AgreementRow) -> tuple[float, float, float, str]:
    def worst_last(value: float | None) -> float:
        return -value if value is not None else math.inf

    return worst_last(row.jaccard), worst_last(row.spearman), worst_last(row.kendall), row.evaluator


def agreement_table(rankings: dict[str, EvaluatorRanking], human: EvaluatorRanking, *, k: int,
                    exclude: Iterable[str] = ()) -> list[AgreementRow]:
    """One row per available evaluator, best agreement first; `exclude` (the reference models) is left out."""
    human_means = human.means()
    left_out = list(exclude)
    rows = [agreement(name, ranking.means(), human_means, k=k, exclude=left_out)
            for name, ranking in rankings.items() if ranking.available and name != human.evaluator]
    return sorted(rows, key=_sort_key)
