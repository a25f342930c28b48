"""TF-IDF cosine (scikit-learn), with the IDF fitted on each reference/candidate pair."""

from __future__ import annotations

from evaluation.metrics.base import SimilarityMetric, check_pairs


class TfidfMetric(SimilarityMetric):
    """Cosine of the two texts' TF-IDF vectors: 1.0 for the same words, 0.0 for no word in common."""

    name = "tfidf"
    scale = "0-1"

    def similarities(self, references: list[str], candidates: list[str]) -> list[float]:
        check_pairs(references, candidates)
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.metrics.pairwise import cosine_similarity

        scores = []
        for reference, candidate in zip(references, candidates, strict=True):
            try:
                matrix = TfidfVectorizer().fit_transform([reference, candidate])
            except ValueError:  # neither text has a single word
                scores.append(0.0)
                continue
            scores.append(float(min(max(cosine_similarity(matrix[0], matrix[1])[0, 0], 0.0), 1.0)))
        return scores
