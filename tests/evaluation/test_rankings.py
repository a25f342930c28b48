"""Per-evaluator means, spreads, distributions and ranks."""

from __future__ import annotations

import pytest

from evaluation.rankings import rank_all, ranks
from evaluation.scores import ScoreRow


def row(model: str, score: float | None, prompt: str = "p1") -> ScoreRow:
    return ScoreRow(evaluator="judge-scorer:x", prompt_id=prompt, model=model, score=score, scale="0-10",
                    parsed=score is not None)


def test_means_std_n_unparsed_and_rank() -> None:
    ranking = rank_all([row("a", 8, "p1"), row("a", 6, "p2"), row("b", 9, "p1"), row("b", None, "p2"),
                        row("c", None, "p1")])["judge-scorer:x"]
    a, b, c = ranking.models["a"], ranking.models["b"], ranking.models["c"]
    assert (a.mean, a.n, a.unparsed) == (7.0, 2, 0)
    assert a.std == pytest.approx(2**0.5)
    assert (b.mean, b.std, b.n, b.unparsed) == (9.0, 0.0, 1, 1)
    assert (b.rank, a.rank, c.rank, c.mean) == (1, 2, None, None)
    assert sum(a.histogram) == 2 and len(a.bin_edges) == 11
    assert ranking.order() == ["b", "a"]


def test_ties_share_the_better_rank() -> None:
    assert ranks({"a": 5.0, "b": 5.0, "c": 1.0}) == {"a": 1, "b": 1, "c": 3}
