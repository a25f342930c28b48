"""Per evaluator: each model's mean, spread, distribution and rank (1 = best)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from pydantic import BaseModel, Field

from evaluation.metrics.base import SCALE_RANGE, Scale
from evaluation.scores import ScoreRow

HISTOGRAM_BINS = 10


class ModelStats(BaseModel):
    """One model under one evaluator; `mean` and `rank` are None when no score of it could be read."""

    mean: float | None
    std: float | None  # sample standard deviation (0 for a single score)
    n: int  # scores read
    unparsed: int  # scores that could not be read
    rank: int | None  # 1 = the highest mean; tied means share the better rank
    histogram: list[int]  # counts in HISTOGRAM_BINS equal bins over the scale
    bin_edges: list[float]


class EvaluatorRanking(BaseModel):
    """Every model's stats under one evaluator, or why the evaluator could not run."""

    evaluator: str
    scale: Scale | None = None
    available: bool = True
    reason: str | None = None
    models: dict[str, ModelStats] = Field(default_factory=dict)

    def means(self) -> dict[str, float]:
        """Each model with a readable score, to its mean."""
        return {model: stats.mean for model, stats in self.models.items() if stats.mean is not None}

    def order(self) -> list[str]:
        """The ranked models, best first (ties by name)."""
        return [model for model, _ in sorted(self.means().items(), key=lambda pair: (-pair[1], pair[0]))]


def ranks(means: dict[str, float]) -> dict[str, int]:
    """Competition ranks of `means`: 1 for the highest; equal means share the better rank."""
    ordered = sorted(means.values(), reverse=True)
    return {model: ordered.index(mean) + 1 for model, mean in means.items()}


def _stats(values: list[float], unparsed: int, scale: Scale) -> ModelStats:
    low, high = SCALE_RANGE[scale]
    counts, edges = np.histogram(np.clip(values, low, high), bins=HISTOGRAM_BINS, range=(low, high))
    if not values:
        return ModelStats(mean=None, std=None, n=0, unparsed=unparsed, rank=None, histogram=counts.tolist(),
                          bin_edges=edges.tolist())
    return ModelStats(mean=float(np.mean(values)), std=float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                      n=len(values), unparsed=unparsed, rank=None, histogram=counts.tolist(), bin_edges=edges.tolist())


def rank_evaluator(evaluator: str, rows: list[ScoreRow]) -> EvaluatorRanking:
    """The ranking of one evaluator's rows (all of one scale)."""
    scale = rows[0].scale
    values: dict[str, list[float]] = defaultdict(list)
    unparsed: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.score is None:
            unparsed[row.model] += 1
        else:
            values[row.model].append(row.score)
    models = sorted(set(values) | set(unparsed))
    stats = {model: _stats(values[model], unparsed[model], scale) for model in models}
    model_ranks = ranks({model: entry.mean for model, entry in stats.items() if entry.mean is not None})
    for model, entry in stats.items():
        entry.rank = model_ranks.get(model)
    return EvaluatorRanking(evaluator=evaluator, scale=scale, models=stats)


def rank_all(rows: list[ScoreRow]) -> dict[str, EvaluatorRanking]:
    """One ranking per evaluator in `rows`, in order of first appearance."""
    grouped: dict[str, list[ScoreRow]] = defaultdict(list)
    for row in rows:
        grouped[row.evaluator].append(row)
    return {evaluator: rank_evaluator(evaluator, group) for evaluator, group in grouped.items()}
