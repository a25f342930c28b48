"""Real MiniLM, remembering the vectors of texts it has embedded (the test machine has 2 busy cores)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from peptalk.cache.embedder import MiniLMEmbedder


class RememberingMiniLM(MiniLMEmbedder):
    """`MiniLMEmbedder` that computes each text once per test session."""

    seen: ClassVar[dict[str, np.ndarray]] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [text for text in dict.fromkeys(texts) if text not in self.seen]
        if missing:
            self.seen.update(zip(missing, super().embed(missing), strict=True))
        return np.stack([self.seen[text] for text in texts])
