"""USE-QA cosine (Universal Sentence Encoder QA), only where TensorFlow Hub and its model can be had."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from evaluation.errors import MetricUnavailable
from evaluation.metrics.base import SimilarityMetric, check_pairs

USE_QA_URL = "https://tfhub.dev/google/universal-sentence-encoder-multilingual-qa/3"


class UseQaMetric(SimilarityMetric):
    """Cosine of USE-QA response embeddings; raises `MetricUnavailable` with the reason where it cannot run."""

    name = "use-qa"
    scale = "0-1"

    def __init__(self, *, model_url: str = USE_QA_URL) -> None:
        missing = [name for name in ("tensorflow", "tensorflow_hub", "tensorflow_text")
                   if importlib.util.find_spec(name) is None]
        if missing:
            raise MetricUnavailable(self.name, f"needs {', '.join(missing)} and the USE-QA model from TF Hub "
                                               f"({model_url}); neither is installable on this machine")
        try:
            import tensorflow_hub as hub
            import tensorflow_text  # noqa: F401  (registers the ops the model needs)

            self._model: Any = hub.load(model_url)
        except Exception as exc:
            raise MetricUnavailable(self.name, f"cannot load {model_url}: {type(exc).__name__}: {exc}") from exc

    def similarities(self, references: list[str], candidates: list[str]) -> list[float]:
        check_pairs(references, candidates)
        if not references:
            return []
        encode = self._model.signatures["response_encoder"]
        texts = references + candidates
        vectors = np.asarray(encode(input=texts, context=texts)["outputs"])
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        count = len(references)
        return [float(vectors[i] @ vectors[count + i]) for i in range(count)]
