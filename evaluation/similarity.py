"""Runs the similarity metrics: every non-reference response against its prompt's reference response."""

from __future__ import annotations

from evaluation.errors import MetricUnavailable
from evaluation.metrics import METRICS
from evaluation.progress import NoProgress, Progress
from evaluation.records import DatasetItem
from evaluation.scores import ScoreRow
from evaluation.settings import EvalSettings


def reference_pairs(items: list[DatasetItem]) -> list[tuple[DatasetItem, str, str, str]]:
    """(item, model, reference text, candidate text) for each response that has a reference to compare with."""
    pairs = []
    for item in items:
        reference = item.responses.get(item.reference_model)
        if reference is None:
            continue
        pairs += [(item, model, reference, text) for model, text in item.responses.items()
                  if model != item.reference_model]
    return pairs


def run_metrics(items: list[DatasetItem], *, names: list[str], settings: EvalSettings,
                progress: Progress | None = None) -> tuple[list[ScoreRow], dict[str, str]]:
    """Rows of every metric that can run, and `{metric: reason}` for each that cannot."""
    progress = progress or NoProgress()
    progress.start("similarity metrics", len(names))
    pairs = reference_pairs(items)
    rows: list[ScoreRow] = []
    unavailable: dict[str, str] = {}
    for name in names:
        try:
            metric = METRICS[name](settings)
            scores = metric.similarities([pair[2] for pair in pairs], [pair[3] for pair in pairs])
        except MetricUnavailable as exc:
            unavailable[name] = exc.reason
        else:
            rows += [ScoreRow(evaluator=name, prompt_id=item.prompt_id, model=model, score=score, scale=metric.scale,
                              parsed=True) for (item, model, _, _), score in zip(pairs, scores, strict=True)]
        progress.advance()
    return rows, unavailable
