"""SBERT (real MiniLM from the wheel), SEM-BLEU, USE-QA's refusal, and the embeddings endpoint (real llama.cpp server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from evaluation.errors import MetricUnavailable
from evaluation.metrics import METRICS, EmbeddingsMetric, SbertMetric, SemBleuMetric, UseQaMetric
from evaluation.metrics.base import SimilarityMetric
from evaluation.metrics.embeddings import pooled
from evaluation.settings import EvalSettings
from tests.conftest import ARTIFACTS
from tests.helpers import free_port, python, running


class FixedMetric(SimilarityMetric):
    name = "fixed"

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def similarities(self, references: list[str], candidates: list[str]) -> list[float]:
        return self.values


def test_sbert_identical_close_and_unrelated() -> None:
    same, close, unrelated = SbertMetric().similarities(
        ["Go for a run this morning.", "Go for a run this morning.", "Go for a run this morning."],
        ["Go for a run this morning.", "Head out for a jog before work.", "The invoice is attached as a PDF."],
    )
    assert same == pytest.approx(1.0, abs=1e-5)
    assert unrelated < close < same


def test_sem_bleu_is_the_mean_of_both_on_0_1() -> None:
    metric = SemBleuMetric(sbert=FixedMetric([0.8, -0.2]), bleu=FixedMetric([40.0, 10.0]))
    assert metric.similarities(["a", "b"], ["c", "d"]) == pytest.approx([(0.8 + 0.4) / 2, (0.0 + 0.1) / 2])


def test_sem_bleu_identical_texts_is_one() -> None:
    text = "Pay the electricity bill and then take a walk in the park."
    assert SemBleuMetric().similarity(text, text) == pytest.approx(1.0, abs=1e-5)


def test_use_qa_reports_unavailable_with_a_reason() -> None:
    with pytest.raises(MetricUnavailable) as caught:
        UseQaMetric()
    assert "tensorflow" in caught.value.reason


def test_embeddings_without_endpoint_is_unavailable() -> None:
    with pytest.raises(MetricUnavailable) as caught:
        METRICS["embeddings"](EvalSettings(_env_file=None))
    assert "PEPTALK_EVAL_EMBEDDINGS_BASE_URL" in caught.value.reason


def test_embeddings_endpoint_down_is_unavailable() -> None:
    metric = EmbeddingsMetric(base_url=f"http://127.0.0.1:{free_port()}/v1", model="x", timeout_s=2)
    with pytest.raises(MetricUnavailable):
        metric.similarities(["a"], ["b"])


def test_pooled_mean_pools_token_vectors() -> None:
    assert pooled([[1.0, 0.0], [0.0, 1.0]]) == pytest.approx(np.array([1, 1]) / np.sqrt(2))
    assert pooled([3.0, 4.0]) == pytest.approx([0.6, 0.8])


@pytest.fixture(scope="module")
def embeddings_server(gguf_path: Path) -> Iterator[str]:
    """`llama_cpp.server --embedding` on 127.0.0.1 (SmolLM2 has no pooling, so it answers per-token vectors)."""
    port = free_port()
    cmd = [python(), "-m", "llama_cpp.server", "--model", str(gguf_path), "--model_alias", "embedder",
           "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2", "--embedding", "True"]
    with running(cmd, f"http://127.0.0.1:{port}/v1/models", log=ARTIFACTS / "embeddings-server.log"):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.mark.slow
def test_embeddings_through_llama_cpp_server(embeddings_server: str) -> None:
    settings = EvalSettings(_env_file=None, eval_embeddings_base_url=embeddings_server, eval_embeddings_model="embedder")
    metric = METRICS["embeddings"](settings)
    same, other = metric.similarities(["Call grandma tonight.", "Call grandma tonight."],
                                      ["Call grandma tonight.", "Quarterly revenue grew by four percent."])
    assert same == pytest.approx(1.0, abs=1e-5)
    assert -1.0 <= other < same


