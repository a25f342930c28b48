"""The judge parser on a corpus of messy judge outputs: it reads what is explicit and refuses to guess the rest."""

from __future__ import annotations

import pytest

from evaluation.judges.parsing import parse_choice, parse_reason, parse_score

READABLE = [
    ("Score: 7", 7.0),
    ("score: 7/10", 7.0),
    ("The response is warm and specific.\n\nScore: 8", 8.0),
    ("**Score:** 9", 9.0),
    ("## Final score: 6.", 6.0),
    ("8.5", 8.5),
    ("eight", 8.0),
    ("Score: eight", 8.0),
    ("I would rate it 6 out of 10.", 6.0),
    ("Rating = 4/10", 4.0),
    ("Score: 0", 0.0),
    ("Score: 10/10", 10.0),
    ("It lists 3 of the 5 tasks.\nScore: 5", 5.0),  # numbers in the reasoning are not scores
    ("Score: 7\n...\nFinal score: 7", 7.0),  # the same score twice is one score
    ("The score is 3", 3.0),
]

UNREADABLE = [
    ("Score: 11", "out_of_range"),
    ("Score: -1", "out_of_range"),
    ("Score: 7\nScore: 9", "contradictory"),
    ("Score: 6 ... on reflection, score: 8/10", "contradictory"),
    ("Score: 7-8", "ambiguous"),
    ("Score: 3/5", "wrong_scale"),
    ("Score: 70/100", "wrong_scale"),
    ("A lovely, motivating message.", "missing"),
    ("Score: <a whole number from 0 to 10>", "missing"),  # the template echoed back
    ("It covers 3/5 tasks.", "missing"),  # a fraction of another scale is not a score
    ("Score: N/A", "missing"),
    ("", "empty"),
    ("   \n", "empty"),
]


@pytest.mark.parametrize(("text", "expected"), READABLE)
def test_reads_explicit_scores(text: str, expected: float) -> None:
    result = parse_score(text)
    assert result.parsed, result.problem
    assert result.value == expected


@pytest.mark.parametrize(("text", "problem"), UNREADABLE)
def test_refuses_to_guess(text: str, problem: str) -> None:
    result = parse_score(text)
    assert not result.parsed
    assert result.value is None
    assert result.problem == problem


def test_none_is_empty() -> None:
    assert parse_score(None).problem == "empty"


def test_other_scale() -> None:
    assert parse_score("Score: 42/100", low=0, high=100).value == 42.0
    assert parse_score("Score: 7/10", low=0, high=100).problem == "wrong_scale"


def test_never_evaluates_code() -> None:
    payload = "Score: __import__('os').system('echo pwned')"
    assert parse_score(payload).problem == "missing"
    assert parse_score("Score: 2+3").value is None  # an expression is not a score, and is not computed


@pytest.mark.parametrize(("text", "count", "position", "problem"), [
    ("Reason: it is personal.\nBest: 2", 3, 2, None),
    ("The best response is Response 1.", 2, 1, None),
    ("**Choice:** #3", 3, 3, None),
    ("2", 2, 2, None),
    ("Best: 4", 3, None, "out_of_range"),
    ("Best: 0", 3, None, "out_of_range"),
    ("Best: 1\nOn second thought, best: 2", 2, None, "contradictory"),
    ("Both are good.", 2, None, "missing"),
    ("Best: <the number of the best pep talk, from 1 to 2>", 2, None, "missing"),
    ("", 2, None, "empty"),
])
def test_choice(text: str, count: int, position: int | None, problem: str | None) -> None:
    result = parse_choice(text, count=count)
    assert (result.position, result.problem) == (position, problem)


def test_reason() -> None:
    assert parse_reason("Reason: same plan, less warmth.\nScore: 6") == "same plan, less warmth."
    assert parse_reason("It is close in meaning.\nScore: 8") == "It is close in meaning."
    assert parse_reason("Score: 8") is None
