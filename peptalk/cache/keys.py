"""What a cache entry is keyed on: an exact part (scope, model, dates) and an embedded part (the four lists).

The vector FAISS searches is the concatenation of one MiniLM vector per list plus a pseudo-random
unit vector drawn from the exact key, each weighted 1/sqrt(parts). Its inner product with another
such vector is the mean of the per-part cosines, so entries under a different exact key score at
most about (lists + noise) / parts and rank below every real candidate, while the per-list cosines
can be recovered from the stored vector to check each list on its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

KEY_DIM = 128
ANY_MODEL = "*"


@dataclass(frozen=True)
class CacheKey:
    """The part of a request that must match exactly for a hit."""

    scope: str  # "user:<user_id>" or "shared"
    model: str  # the `backend:model`, or ANY_MODEL when the model is not part of the key
    today: str
    last_login: str

    def digest(self) -> str:
        return hashlib.sha256("\x1f".join((self.scope, self.model, self.today, self.last_login)).encode()).hexdigest()


def content_hash(content_text: str) -> str:
    """A stable hash of a request's canonical content (for exact duplicates and single-flight)."""
    return hashlib.sha256(content_text.encode()).hexdigest()


def key_vector(digest: str) -> np.ndarray:
    """A unit vector drawn deterministically from the key digest; different keys are nearly orthogonal."""
    rng = np.random.default_rng(int(digest[:16], 16))
    vector = rng.standard_normal(KEY_DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


class VectorLayout:
    """Builds the searched vector from `sections` list embeddings of `dim` dims and a key; splits it back."""

    def __init__(self, *, sections: int, dim: int) -> None:
        self.sections = sections
        self.section_dim = dim
        self.parts = sections + 1
        self.dim = sections * dim + KEY_DIM
        self._weight = np.float32(1.0 / np.sqrt(self.parts))

    def compose(self, section_vectors: np.ndarray, digest: str) -> np.ndarray:
        if section_vectors.shape != (self.sections, self.section_dim):
            raise ValueError(f"expected {self.sections} vectors of {self.section_dim} dims, got {section_vectors.shape}")
        return np.concatenate([section_vectors.reshape(-1), key_vector(digest)]).astype(np.float32) * self._weight

    def section_similarities(self, query: np.ndarray, stored: np.ndarray) -> np.ndarray:
        """The cosine of each list (unit vectors assumed) between two composed vectors."""
        width = self.sections * self.section_dim
        left = query[:width].reshape(self.sections, self.section_dim)
        right = stored[:width].reshape(self.sections, self.section_dim)
        return np.einsum("ij,ij->i", left, right) * self.parts
