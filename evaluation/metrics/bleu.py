"""Sentence BLEU (sacrebleu) of the candidate against the reference, 0-100."""

from __future__ import annotations

from evaluation.metrics.base import SimilarityMetric, check_pairs


class BleuMetric(SimilarityMetric):
    """sacrebleu's sentence BLEU with its default exponential smoothing."""

    name = "bleu"
    scale = "0-100"

    def similarities(self, references: list[str], candidates: list[str]) -> list[float]:
        check_pairs(references, candidates)
        import sacrebleu

        return [float(sacrebleu.sentence_bleu(candidate, [reference]).score)
                for reference, candidate in zip(references, candidates, strict=True)]
