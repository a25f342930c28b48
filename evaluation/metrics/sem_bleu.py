"""SEM-BLEU: the arithmetic mean of SBERT cosine and BLEU, both on a 0-1 scale."""

from __future__ import annotations

from evaluation.metrics.base import SimilarityMetric, check_pairs
from evaluation.metrics.bleu import BleuMetric
from evaluation.metrics.sbert import SbertMetric


class SemBleuMetric(SimilarityMetric):
    """(SBERT cosine clipped to 0-1 + BLEU / 100) / 2."""

    name = "sem-bleu"
    scale = "0-1"

    def __init__(self, *, sbert: SimilarityMetric | None = None, bleu: SimilarityMetric | None = None) -> None:
        self.sbert = sbert or SbertMetric()
        self.bleu = bleu or BleuMetric()

    def similarities(self, references: list[str], candidates: list[str]) -> list[float]:
        check_pairs(references, candidates)
        semantic = self.sbert.similarities(references, candidates)
        lexical = self.bleu.similarities(references, candidates)
        return [(min(max(cosine, 0.0), 1.0) + bleu / 100.0) / 2.0
                for cosine, bleu in zip(semantic, lexical, strict=True)]
