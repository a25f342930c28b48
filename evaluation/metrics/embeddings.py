"""Embedding cosine through any OpenAI-compatible `/v1/embeddings` endpoint (`OpenAIEmbeddings` with a `base_url`)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from evaluation.errors import MetricUnavailable
from evaluation.metrics.base import SimilarityMetric, check_pairs


def pooled(vector: Any) -> np.ndarray:
    """One unit vector per text; a server that returns one vector per token (llama.cpp without pooling) is mean-pooled."""
    array = np.asarray(vector, dtype=float)
    if array.ndim == 2:
        array = array.mean(axis=0)
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else array


class EmbeddingsMetric(SimilarityMetric):
    """Cosine of the endpoint's embeddings of the two texts (GPT embeddings in the study)."""

    name = "embeddings"
    scale = "0-1"

    def __init__(self, *, base_url: str | None, model: str, api_key: str | None = None, timeout_s: float = 60.0) -> None:
        if not base_url:
            raise MetricUnavailable(self.name, "no embeddings endpoint is configured (set PEPTALK_EVAL_EMBEDDINGS_BASE_URL)")
        self.base_url = base_url
        self.model = model
        self._api_key = api_key
        self._timeout_s = timeout_s

    def _client(self) -> Any:
        from langchain_openai import OpenAIEmbeddings
        from pydantic import SecretStr

        # check_embedding_ctx_length=False sends raw text: tiktoken's tables cannot be downloaded here,
        # and other engines do not share OpenAI's tokenizer anyway.
        return OpenAIEmbeddings(base_url=self.base_url, api_key=SecretStr(self._api_key or "not-set"), model=self.model,
                                check_embedding_ctx_length=False, timeout=self._timeout_s, max_retries=1)

    def similarities(self, references: list[str], candidates: list[str]) -> list[float]:
        check_pairs(references, candidates)
        if not references:
            return []
        texts = list(dict.fromkeys(references + candidates))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pydantic warns about per-token (nested) vectors
                vectors = self._client().embed_documents(texts)
        except Exception as exc:  # any transport or protocol failure makes the metric unavailable, not the run
            raise MetricUnavailable(self.name, f"{self.base_url}: {type(exc).__name__}: {exc}") from exc
        unit = {text: pooled(vector) for text, vector in zip(texts, vectors, strict=True)}
        return [float(min(unit[reference] @ unit[candidate], 1.0))
                for reference, candidate in zip(references, candidates, strict=True)]
