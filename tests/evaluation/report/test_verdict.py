"""Without human ratings the report still reaches a verdict, from an evaluator that scores the reference too."""

from __future__ import annotations

from evaluation.report.analysis import Evidence, quality_rows, summarize_models
from evaluation.report.inputs import Score
from evaluation.settings import eval_default

REFERENCE = "openai:gpt-4"


def _scores(prompts: int = 10) -> list[Score]:
    scores = []
    for prompt in (f"p{index}" for index in range(prompts)):
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
    scores = _scores() + [score for prompt in range(10) for score in (
        Score("human", f"p{prompt}", REFERENCE, 9, rater="ann"),
        Score("human", f"p{prompt}", "ollama:starling-lm:7b", 4, rater="ann"))]
    verdict = summarize_models(quality_rows(scores), [], [], [], reference=REFERENCE)
    assert verdict.quality_source == "human" and verdict.worse == ["ollama:starling-lm:7b"]
    # One human rating each is a source, but not yet a verdict.
    verdict = summarize_models(quality_rows(scores[:-18]), [], [], [], reference=REFERENCE)
    assert verdict.quality_source == "human" and verdict.worse == [] and verdict.insufficient == [
        "ollama:starling-lm:7b"]


JUDGE = "judge-scorer:embedded:smollm2-135m"


def test_the_evidence_minimums_are_the_documented_settings() -> None:
    assert Evidence() == Evidence(eval_default("report_min_scored_per_model"),
                                  eval_default("report_max_unparsed_share"))
    assert Evidence().min_scored == 10  # the study scored 10 responses per model


def test_one_scored_response_with_half_the_answers_unparsable_is_not_enough_evidence() -> None:
    # The case the issue saw: n=1 per model and half the judge answers unreadable.
    scores = [Score(JUDGE, "p1", REFERENCE, 9.0), Score(JUDGE, "p1", "embedded:smollm2-135m", 2.0),
              Score(JUDGE, "p2", REFERENCE, 8.0), Score(JUDGE, "p2", "embedded:smollm2-135m", None)]
    verdict = summarize_models(quality_rows(scores), [], [], [], reference=REFERENCE)
    assert verdict.worse == [] and verdict.candidates == [] and verdict.insufficient == ["embedded:smollm2-135m"]
    (row,) = [row for row in verdict.rows if row["model"] == "embedded:smollm2-135m"]
    assert row["verdict"] == "not enough evidence" and (row["scored"], row["unparsed"]) == (1, 1)
    text = " ".join(verdict.text)
    assert "Clearly worse" not in text
    assert "at least 10 scored responses per model" in text and "at most 20%" in text
    assert ("Not enough evidence: embedded:smollm2-135m (1 scored response of the 10 needed; 1 of 2 answers "
            "unparsable (50%; at most 20% allowed); the reference has 2 scored responses of the 10 needed)") in text


def test_a_reference_short_of_evidence_withholds_every_verdict() -> None:
    scores = [score for score in _scores() if not (score.model == REFERENCE and score.prompt_id != "p0")]
    verdict = summarize_models(quality_rows(scores), [], [], [], reference=REFERENCE)
    assert verdict.candidates == [] and verdict.worse == []
    assert set(verdict.insufficient) == {"ollama:starling-lm:7b", "embedded:smollm2-135m"}
    assert all("the reference has 1 scored response of the 10 needed" in str(row["missing_evidence"])
               for row in verdict.rows if row["model"] != REFERENCE)


def test_lower_minimums_let_a_small_run_reach_a_verdict() -> None:
    verdict = summarize_models(quality_rows(_scores(3)), [], [], [], reference=REFERENCE,
                               evidence=Evidence(min_scored=3, max_unparsed_share=0.0))
    assert verdict.worse == ["embedded:smollm2-135m"] and verdict.insufficient == []
