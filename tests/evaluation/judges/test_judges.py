"""The judges over a scripted layer: prompts, parsing, bounded retries, the disk cache and the selector's orders."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.judges import (CompareJudge, JudgeCache, JudgeClient, ScoreJudge, SelectJudge, cache_key,
                               orders_for)
from tests.evaluation.fakes import ScriptedLayer


def client(layer: ScriptedLayer, tmp_path: Path | None = None, **options: object) -> JudgeClient:
    values: dict[str, object] = {"model": "fake:judge", "cache": JudgeCache(tmp_path / "c.sqlite") if tmp_path else None,
                                 "temperature": 0.0, "max_tokens": 64, "max_attempts": 2, "retry_wait_s": 0.0}
    values.update(options)
    return JudgeClient(layer, **values)  # type: ignore[arg-type]


async def test_scorer_reads_the_score_and_keeps_the_raw_text() -> None:
    layer = ScriptedLayer(lambda prompt: "It names every task.\nScore: 8")
    verdict = await ScoreJudge(client(layer)).score("Write a pep talk", "You can do it!")
    assert (verdict.score, verdict.parsed, verdict.raw) == (8.0, True, "It names every task.\nScore: 8")
    assert "You can do it!" in str(layer.calls[0].messages[0].content)
    assert layer.calls[0].model == "fake:judge"


async def test_unparsable_is_recorded_with_its_raw_text() -> None:
    layer = ScriptedLayer(lambda prompt: "Score: 11")
    verdict = await ScoreJudge(client(layer)).score("p", "r")
    assert (verdict.score, verdict.parsed, verdict.problem, verdict.raw) == (None, False, "out_of_range", "Score: 11")
    assert verdict.reason is None  # an unreadable answer has no reason to quote; raw keeps every word
    assert len(layer.calls) == 1  # a greedy judge would answer the same again


async def test_sampling_judge_retries_a_bounded_number_of_times() -> None:
    layer = ScriptedLayer(lambda prompt: "no idea")
    verdict = await ScoreJudge(client(layer, temperature=0.7, max_attempts=3)).score("p", "r")
    assert not verdict.parsed and verdict.attempts == 3 and len(layer.calls) == 3


async def test_transport_errors_are_retried_then_recorded() -> None:
    flaky = ScriptedLayer(lambda prompt: "Score: 6", failures=1)
    assert (await ScoreJudge(client(flaky)).score("p", "r")).score == 6.0
    down = ScriptedLayer(lambda prompt: "Score: 6", failures=5)
    verdict = await ScoreJudge(client(down)).score("p", "r")
    assert verdict.problem == "error" and "ConnectionError" in (verdict.error or "") and len(down.calls) == 2


async def test_cache_makes_a_rerun_free(tmp_path: Path) -> None:
    layer = ScriptedLayer(lambda prompt: "Reason: close.\nScore: 7")
    first = await CompareJudge(client(layer, tmp_path), with_reason=True).compare("p", "ref", "cand")
    again_client = client(layer, tmp_path)
    again = await CompareJudge(again_client, with_reason=True).compare("p", "ref", "cand")
    assert len(layer.calls) == 1 and again.cached and not first.cached
    assert (again.score, again.reason) == (7.0, "close.")
    assert again_client.cache is not None and again_client.cache.hits == 1
    # Another judge model, prompt or parameter misses the cache.
    other = cache_key(model="fake:other", messages=[{"role": "user", "content": "x"}], params={})
    assert other != cache_key(model="fake:judge", messages=[{"role": "user", "content": "x"}], params={})


async def test_comparer_variants_use_their_own_prompts() -> None:
    layer = ScriptedLayer(lambda prompt: "Score: 5")
    plain = CompareJudge(client(layer))
    reasoned = CompareJudge(client(layer), with_reason=True)
    assert "Reason:" not in plain.prompt("p", "ref", "cand") and "Reason:" in reasoned.prompt("p", "ref", "cand")
    assert plain.evaluator == "judge-comparer:fake:judge"
    assert reasoned.evaluator == "judge-comparer-reason:fake:judge"
    assert (await plain.compare("p", "ref", "cand")).reason is None


def test_orders_are_distinct_and_bounded() -> None:
    assert orders_for(["a", "b"], 5, seed="s") == [["a", "b"], ["b", "a"]]
    six = orders_for(["a", "b", "c"], 6, seed="s")
    assert len(six) == 6 and len({tuple(order) for order in six}) == 6
    assert orders_for(["a", "b", "c"], 3, seed="s") == orders_for(["a", "b", "c"], 3, seed="s")


async def test_selector_with_position_bias_disagrees_across_orders() -> None:
    layer = ScriptedLayer(lambda prompt: "Reason: the first is best.\nBest: 1")  # always the first position
    result = await SelectJudge(client(layer)).select("p1", "prompt", {"m1": "x", "m2": "y"}, orders=2)
    assert [pick.model for pick in result.picks] == ["m1", "m2"]
    assert result.agreement is False and result.agreement_rate == 0.5
    assert result.win_share("m1") == 0.5


async def test_selector_that_follows_content_agrees() -> None:
    def answer(prompt: str) -> str:
        first = prompt.index("GOOD") < prompt.index("meh")
        return f"Best: {1 if first else 2}"

    result = await SelectJudge(client(ScriptedLayer(answer))).select("p1", "prompt", {"m1": "meh", "m2": "GOOD"},
                                                                     orders=2)
    assert result.agreement is True and result.win_share("m2") == 1.0


@pytest.mark.parametrize("answer", ["Best: 3", "I like both"])
async def test_selector_unparsable(answer: str) -> None:
    result = await SelectJudge(client(ScriptedLayer(lambda prompt: answer))).select(
        "p1", "prompt", {"m1": "a", "m2": "b"}, orders=2)
    assert result.agreement is None and result.win_share("m1") is None
    assert all(pick.verdict.raw == answer and not pick.verdict.parsed for pick in result.picks)
