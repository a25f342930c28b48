"""Agreement of each evaluator's model ranking with the humans': bottom-k Jaccard, Spearman and Kendall."""

from __future__ import annotations

import math

from pydantic import BaseModel

from evaluation.rankings import EvaluatorRanking


class AgreementRow(BaseModel):
    """How well one evaluator's model ranking matches the human one (over the models both scored)."""

    evaluator: str
    k: int  # bottom-k actually used: min(k asked, n_models)
    jaccard: float | None
    spearman: float | None
    kendall: float | None
    n_models: int


def bottom_k(means: dict[str, float], k: int) -> set[str]:
    """The `k` models with the lowest means (ties broken by model name, so the set is deterministic)."""
    return {model for model, _ in sorted(means.items(), key=lambda pair: (pair[1], pair[0]))[:k]}


def jaccard(first: set[str], second: set[str]) -> float:
    """|A ∩ B| / |A ∪ B|; two empty sets agree fully."""
    union = first | second
    return 1.0 if not union else len(first & second) / len(union)


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def agreement(evaluator: str, means: dict[str, float], human_means: dict[str, float], *, k: int) -> AgreementRow:
    """The agreement of `means` with `human_means` over their common models."""
    from scipy.stats import kendalltau, spearmanr

    common = sorted(set(means) & set(human_means))
    used_k = min(k, len(common))
    if not common:
        return AgreementRow(evaluator=evaluator, k=0, jaccard=None, spearman=None, kendall=None, n_models=0)
    theirs = {model: means[model] for model in common}
    humans = {model: human_means[model] for model in common}
    overlap = jaccard(bottom_k(theirs, used_k), bottom_k(humans, used_k))
    spearman = kendall = None
    first, second = [theirs[model] for model in common], [humans[model] for model in common]
    if len(set(first)) > 1 and len(set(second)) > 1:  # a constant ranking has no correlation
        spearman = _finite(spearmanr(first, second).statistic)
        kendall = _finite(kendalltau(first, second).statistic)
    return AgreementRow(evaluator=evaluator, k=used_k, jaccard=overlap, spearman=spearman, kendall=kendall,
                        n_models=len(common))


def _sort_key(row: AgreementRow) -> tuple[float, float, float, str]:
    def worst_last(value: float | None) -> float:
        return -value if value is not None else math.inf

    return worst_last(row.jaccard), worst_last(row.spearman), worst_last(row.kendall), row.evaluator


def agreement_table(rankings: dict[str, EvaluatorRanking], human: EvaluatorRanking, *, k: int) -> list[AgreementRow]:
    """One row per available evaluator, best agreement first (Jaccard, then Spearman, then Kendall)."""
    human_means = human.means()
    rows = [agreement(name, ranking.means(), human_means, k=k)
            for name, ranking in rankings.items() if ranking.available and name != human.evaluator]
    return sorted(rows, key=_sort_key)
