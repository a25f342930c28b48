"""TF-IDF and BLEU on cases small enough to compute by hand."""

from __future__ import annotations

import math

import pytest

from evaluation.metrics import METRICS, BleuMetric, TfidfMetric


def test_tfidf_identical_and_disjoint() -> None:
    metric = TfidfMetric()
    same, disjoint = metric.similarities(["plan the weekend hike", "water the plants"],
                                         ["plan the weekend hike", "book dentist appointment"])
    assert same == pytest.approx(1.0)
    assert disjoint == 0.0


def test_tfidf_half_overlap_by_hand() -> None:
    # Two documents; smooth idf = ln((1 + 2) / (1 + df)) + 1: "apple" (df 2) -> 1, "banana"/"cherry" (df 1) -> ln 1.5 + 1.
    rare = math.log(1.5) + 1
    expected = 1 / (1 + rare**2)  # vectors (1, rare, 0) and (1, 0, rare)
    assert TfidfMetric().similarity("apple banana", "apple cherry") == pytest.approx(expected)


def test_tfidf_texts_without_words() -> None:
    assert TfidfMetric().similarity("!!!", "...") == 0.0


def test_bleu_identical_disjoint_and_scale() -> None:
    metric = BleuMetric()
    assert metric.scale == "0-100"
    assert metric.similarity("the cat sat on the mat today", "the cat sat on the mat today") == pytest.approx(100.0)
    assert metric.similarity("the cat sat on the mat today", "quantum flux capacitor output") == pytest.approx(0.0)


def test_bleu_partial_by_hand() -> None:
    # 4 of 5 unigrams, 3 of 4 bigrams, 2 of 3 trigrams, 1 of 2 4-grams match; same length, so no brevity penalty.
    score = BleuMetric().similarity("a b c d e", "a b c d x")
    expected = 100 * math.exp((math.log(4 / 5) + math.log(3 / 4) + math.log(2 / 3) + math.log(1 / 2)) / 4)
    assert score == pytest.approx(expected, rel=1e-6)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        TfidfMetric().similarities(["a"], [])


def test_registry_names() -> None:
    assert set(METRICS) == {"tfidf", "sbert", "embeddings", "bleu", "sem-bleu", "use-qa"}
