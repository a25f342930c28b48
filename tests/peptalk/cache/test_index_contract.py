"""One contract over every vector index configuration: flat, HNSW, and flat switching to HNSW."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from peptalk.cache.base import VectorIndex
from peptalk.cache.faiss_index import FaissIndex

DIM = 32
INDEXES: dict[str, Callable[[], VectorIndex]] = {
    "flat": lambda: FaissIndex(DIM, hnsw_above=10_000),
    "hnsw": lambda: FaissIndex(DIM, hnsw_above=0),
    "flat-then-hnsw": lambda: FaissIndex(DIM, hnsw_above=20),
}


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture(params=list(INDEXES))
def index(request: pytest.FixtureRequest) -> VectorIndex:
    return INDEXES[request.param]()


def test_finds_each_vector_as_its_own_nearest(index: VectorIndex) -> None:
    vectors = unit_vectors(50)
    ids = list(range(1000, 1050))
    index.add(ids, vectors)
    assert len(index) == 50 and index.ids() == set(ids)
    for entry_id, vector in zip(ids, vectors, strict=True):
        best_id, score = index.search(vector, 3)[0]
        assert best_id == entry_id and score == pytest.approx(1.0, abs=1e-5)


def test_search_returns_at_most_k_best_first(index: VectorIndex) -> None:
    index.add(list(range(30)), unit_vectors(30))
    found = index.search(unit_vectors(1, seed=9)[0], 5)
    assert len(found) == 5
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)
    assert index.search(unit_vectors(1)[0], 0) == []


def test_removed_ids_are_never_found(index: VectorIndex) -> None:
    vectors = unit_vectors(40)
    index.add(list(range(40)), vectors)
    index.remove([3, 7, 99])  # 99 is unknown: ignored
    assert len(index) == 38 and {3, 7}.isdisjoint(index.ids())
    for removed in (3, 7):
        assert removed not in {entry_id for entry_id, _ in index.search(vectors[removed], 10)}


def test_vectors_come_back_by_id(index: VectorIndex) -> None:
    vectors = unit_vectors(25)
    ids = [5 * n + 11 for n in range(25)]  # not positions
    index.add(ids, vectors)
    np.testing.assert_allclose(index.vectors([ids[4], ids[0]]), vectors[[4, 0]], atol=1e-6)


def test_round_trips_through_bytes_keeping_only_the_given_ids(index: VectorIndex) -> None:
    vectors = unit_vectors(30)
    index.add(list(range(30)), vectors)
    index.remove([0])
    data = index.to_bytes()
    restored = INDEXES["flat"]()
    restored.load_bytes(data, keep=set(range(1, 20)))
    assert restored.ids() == set(range(1, 20))
    assert restored.search(vectors[5], 1)[0][0] == 5
    assert 25 not in {entry_id for entry_id, _ in restored.search(vectors[25], 5)}


def test_many_removals_rebuild_without_losing_live_vectors(index: VectorIndex) -> None:
    vectors = unit_vectors(60)
    index.add(list(range(60)), vectors)
    index.remove(list(range(45)))
    assert index.ids() == set(range(45, 60))
    index.add([100], unit_vectors(1, seed=3))
    for entry_id in range(45, 60):
        assert index.search(vectors[entry_id], 1)[0][0] == entry_id


def test_switches_from_flat_to_hnsw_above_the_threshold() -> None:
    index = FaissIndex(DIM, hnsw_above=20)
    index.add(list(range(20)), unit_vectors(20))
    assert index.kind == "flat"
    index.add([20], unit_vectors(1, seed=1))
    assert index.kind == "hnsw" and len(index) == 21


def test_a_wider_hnsw_search_finds_more_true_neighbours() -> None:
    index = FaissIndex(DIM, hnsw_above=0, ef_search=1)
    vectors = unit_vectors(3000)
    index.add(list(range(3000)), vectors)
    index.remove([0, 1, 2])  # searches then carry a tombstone filter, which must get the new breadth too
    noise = 0.15 * np.random.default_rng(5).standard_normal((300, DIM)).astype(np.float32)
    queries = vectors[3:303] + noise

    def recall() -> float:
        return sum(index.search(query, 1)[0][0] == entry_id for entry_id, query in enumerate(queries, start=3)) / 300

    narrow = recall()
    index.set_ef_search(256)
    wide = recall()
    assert wide >= 0.97 and wide > narrow
