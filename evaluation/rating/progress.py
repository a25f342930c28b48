"""The admin's progress summary: ratings per unit, inter-rater agreement and per-model mean scores."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean

from evaluation.rating.agreement import krippendorff_alpha_interval, mean_pairwise_spearman
from evaluation.rating.items import RatingUnit
from evaluation.rating.store import TIE, ScoreRow


@dataclass(frozen=True)
class UnitProgress:
    unit_id: str
    prompt_id: str
    assigned: int
    rated: int
    target: int
    raters: tuple[str, ...]


@dataclass
class ModelSummary:
    model: str
    ratings: int = 0
    mean_score: float | None = None
    criteria_means: dict[str, float] = field(default_factory=dict)
    wins: int = 0
    losses: int = 0
    ties: int = 0


@dataclass(frozen=True)
class Progress:
    units: list[UnitProgress]
    target_ratings: int
    done_ratings: int
    alpha: float | None
    spearman: float | None
    models: list[ModelSummary]
    raters: dict[str, int]  # submissions per rater


def summarise(units: Sequence[RatingUnit], rows: Sequence[ScoreRow], loads: Mapping[str, int], *,
              raters_per_item: int, criteria: Sequence[str]) -> Progress:
    """Everything the admin page shows, from the units being rated and every stored score."""
    known = {unit.unit_id for unit in units}
    rows = [row for row in rows if row.unit_id in known]
    raters_by_unit: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        raters_by_unit[row.unit_id].add(row.rater)
    unit_progress = [UnitProgress(unit.unit_id, unit.item.prompt_id, loads.get(unit.unit_id, 0),
                                  len(raters_by_unit[unit.unit_id]), raters_per_item,
                                  tuple(sorted(raters_by_unit[unit.unit_id]))) for unit in units]

    ratings: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    scores_by_model: dict[str, list[float]] = defaultdict(list)
    criteria_by_model: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    summaries: dict[str, ModelSummary] = {}
    for row in rows:
        ratings[(row.unit_id, row.model)][row.rater] = row.score
        scores_by_model[row.model].append(row.score)
        for criterion in criteria:
            if isinstance(row.criteria.get(criterion), int | float):
                criteria_by_model[row.model][criterion].append(float(row.criteria[criterion]))
        summary = summaries.setdefault(row.model, ModelSummary(row.model))
        if row.mode == "pairwise" and row.preference is not None:
            if row.preference == TIE:
                summary.ties += 1
            elif row.preference == row.model:
                summary.wins += 1
            else:
                summary.losses += 1
    for model, summary in summaries.items():
        summary.ratings = len(scores_by_model[model])
        summary.mean_score = fmean(scores_by_model[model])
        summary.criteria_means = {name: fmean(values) for name, values in criteria_by_model[model].items()}

    per_rater = Counter(rater for rater, _ in {(row.rater, row.unit_id) for row in rows})
    return Progress(units=unit_progress, target_ratings=raters_per_item * len(units),
                    done_ratings=sum(progress.rated for progress in unit_progress),
                    alpha=krippendorff_alpha_interval(ratings), spearman=mean_pairwise_spearman(ratings),
                    models=sorted(summaries.values(), key=lambda summary: summary.model),
                    raters=dict(sorted(per_rater.items())))
