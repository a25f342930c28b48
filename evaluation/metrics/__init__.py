"""Similarity metrics of each response against the reference response, by name."""

from __future__ import annotations

from collections.abc import Callable

from evaluation.metrics.base import SCALE_RANGE, Scale, SimilarityMetric
from evaluation.metrics.bleu import BleuMetric
from evaluation.metrics.embeddings import EmbeddingsMetric
from evaluation.metrics.sbert import SbertMetric
from evaluation.metrics.sem_bleu import SemBleuMetric
from evaluation.metrics.tfidf import TfidfMetric
from evaluation.metrics.use_qa import UseQaMetric
from evaluation.settings import EvalSettings


def _embeddings(settings: EvalSettings) -> SimilarityMetric:
    key = settings.eval_embeddings_api_key
    return EmbeddingsMetric(base_url=settings.eval_embeddings_base_url, model=settings.eval_embeddings_model,
                            api_key=key.get_secret_value() if key else None, timeout_s=settings.request_timeout_s)


METRICS: dict[str, Callable[[EvalSettings], SimilarityMetric]] = {
    "tfidf": lambda settings: TfidfMetric(),
    "sbert": lambda settings: SbertMetric(),
    "embeddings": _embeddings,
    "bleu": lambda settings: BleuMetric(),
    "sem-bleu": lambda settings: SemBleuMetric(),
    "use-qa": lambda settings: UseQaMetric(),
}

__all__ = [
    "METRICS",
    "SCALE_RANGE",
    "BleuMetric",
    "EmbeddingsMetric",
    "Scale",
    "SbertMetric",
    "SemBleuMetric",
    "SimilarityMetric",
    "TfidfMetric",
    "UseQaMetric",
]
