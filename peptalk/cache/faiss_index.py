"""The FAISS vector index: exact (flat) while small, HNSW once it passes a configurable size."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from typing import Any, Literal

import numpy as np

from peptalk.cache.base import VectorIndex
from peptalk.cache.settings import cache_default

IndexKind = Literal["flat", "hnsw"]


_faiss_module: Any = None


def _faiss() -> Any:
    """faiss, imported on first use, with OpenMP off for searches.

    One query gains nothing from threads, and FAISS's OpenMP workers fighting torch's for the CPU made a
    search of ten vectors take 25 ms instead of 0.2 ms.
    """
    global _faiss_module
    if _faiss_module is None:
        import faiss

        faiss.omp_set_num_threads(1)
        _faiss_module = faiss
    return _faiss_module


def _ids(ids: Collection[int]) -> np.ndarray:
    return np.asarray(list(ids), dtype=np.int64)


class FaissIndex(VectorIndex):
    """Inner-product search over an `IndexIDMap2`; flat below `hnsw_above` live vectors, HNSW above.

    HNSW cannot delete, so removed ids become tombstones that searches filter out; the graph is
    rebuilt from the live vectors when tombstones pass half of it.
    """

    def __init__(self, dim: int, *, hnsw_above: int = cache_default("cache_hnsw_above"), hnsw_m: int = 16,
                 ef_construction: int = 40, ef_search: int = cache_default("cache_hnsw_ef_search")) -> None:
        self.dim = dim
        self.hnsw_above = hnsw_above
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self._live: set[int] = set()
        self._dead: set[int] = set()
        self._params: Any = None  # search parameters carrying the tombstone filter, rebuilt when it changes
        self._index = self._empty("hnsw" if hnsw_above <= 0 else "flat")

    @property
    def kind(self) -> IndexKind:
        faiss = _faiss()
        return "hnsw" if isinstance(faiss.downcast_index(self._index.index), faiss.IndexHNSW) else "flat"

    def _empty(self, kind: IndexKind) -> Any:
        faiss = _faiss()
        if kind == "flat":
            inner = faiss.IndexFlatIP(self.dim)
        else:
            inner = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = self.ef_construction
            inner.hnsw.efSearch = self.ef_search
        return faiss.IndexIDMap2(inner)

    def _rebuild(self, kind: IndexKind) -> None:
        live = np.array(sorted(self.ids()), dtype=np.int64)
        vectors = self._index.reconstruct_batch(live) if len(live) else np.empty((0, self.dim), np.float32)
        self._index = self._empty(kind)
        self._dead.clear()
        self._params = None
        if len(live):
            faiss = _faiss()
            faiss.omp_set_num_threads(os.cpu_count() or 1)  # a bulk build does gain from threads
            try:
                self._index.add_with_ids(vectors, live)
            finally:
                faiss.omp_set_num_threads(1)

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        faiss = _faiss()
        bulk = len(vectors) >= 1000
        if bulk:
            faiss.omp_set_num_threads(os.cpu_count() or 1)  # a bulk add (loading at start-up) gains from threads
        try:
            self._index.add_with_ids(vectors, _ids(ids))
        finally:
            if bulk:
                faiss.omp_set_num_threads(1)
        self._live.update(ids)
        if self.kind == "flat" and len(self) > self.hnsw_above:
            self._rebuild("hnsw")

    def remove(self, ids: Collection[int]) -> None:
        present = self._live.intersection(ids)
        if not present:
            return
        self._live -= present
        if self.kind == "flat":
            self._index.remove_ids(_ids(present))
            return
        self._dead |= present
        self._params = None
        if len(self._dead) * 2 > self._index.ntotal:
            self._rebuild("flat" if len(self) <= self.hnsw_above else "hnsw")

    def set_ef_search(self, ef_search: int) -> None:
        """How wide an HNSW search looks: higher finds more of the true nearest vectors, and takes longer."""
        faiss = _faiss()
        self.ef_search = ef_search
        self._params = None
        inner = faiss.downcast_index(self._index.index)
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = ef_search

    def _search_params(self) -> Any:
        faiss = _faiss()
        if self._params is None and self._dead:
            dead = faiss.IDSelectorBatch(_ids(self._dead))
            selector = faiss.IDSelectorNot(dead)
            self._params = faiss.SearchParametersHNSW(sel=selector, efSearch=self.ef_search)
            self._params.keep_alive = (dead, selector)  # the SWIG objects must outlive the parameters
        return self._params

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if len(self) == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        scores, labels = self._index.search(query, min(k, len(self)), params=self._search_params())
        return [(int(label), float(score)) for label, score in zip(labels[0], scores[0], strict=True) if label >= 0]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        if not ids:
            return np.empty((0, self.dim), np.float32)
        return self._index.reconstruct_batch(_ids(ids))

    def ids(self) -> set[int]:
        return set(self._live)

    def __len__(self) -> int:
        return len(self._live)

    def to_bytes(self) -> bytes:
        faiss = _faiss()
        return faiss.serialize_index(self._index).tobytes()

    def load_bytes(self, data: bytes, *, keep: set[int]) -> None:
        faiss = _faiss()
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        if index.d != self.dim or not isinstance(index, faiss.IndexIDMap2):
            raise ValueError(f"not a {self.dim}-d IndexIDMap2")
        self._index = index
        self._live = set(faiss.vector_to_array(index.id_map).tolist())
        self._dead = set()
        self._params = None
        self.remove(self._live - keep)
        inner = faiss.downcast_index(index.index)
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = self.ef_search
