"""Without human ratings the report still reaches a verdict, from an evaluator that scores the reference too."""

from __future__ import annotations

from evaluation.report.analysis import quality_rows, summarize_models
from evaluation.report.inputs import Score

REFERENCE = "openai:gpt-4"


def _scores() -> list[Score]:
    scores = []
    for prompt in ("p1", "p2", "p3"):
        # A similarity metric compares each model with the reference's answer: it never scores the reference.
        scores += [Score("bleu", prompt, "ollama:starling-lm:7b", 0.62, "0-1"),
                   Score("bleu", prompt, "embedded:smollm2-135m", 0.20, "0-1")]
        # An absolute judge scores every model, the reference included.
        scores += [Score("judge-scorer:embedded:smollm2-135m", prompt, REFERENCE, 9.0),
                   Score("judge-scorer:embedded:smollm2-135m", prompt, "ollama:starling-lm:7b", 8.5),
                   Score("judge-scorer:embedded:smollm2-135m", prompt, "embedded:smollm2-135m", 3.0)]
    return scores


def test_without_humans_the_verdict_comes_from_a_judge_that_scores_the_reference() -> None:
    verdict = summarize_models(quality_rows(_scores()), [], [], [], reference=REFERENCE)
    assert verdict.quality_source == "judge-scorer:embedded:smollm2-135m"
    assert verdict.candidates == ["ollama:starling-lm:7b"] and verdict.worse == ["embedded:smollm2-135m"]
    assert verdict.text[0].startswith("No human ratings were given")


def test_human_ratings_still_win() -> None:
    scores = _scores() + [Score("human", "p1", REFERENCE, 9, rater="ann"),
                          Score("human", "p1", "ollama:starling-lm:7b", 4, rater="ann")]
    verdict = summarize_models(quality_rows(scores), [], [], [], reference=REFERENCE)
    assert verdict.quality_source == "human" and verdict.worse == ["ollama:starling-lm:7b"]
