"""Validation of a submitted rating form into a `Submission`; anything wrong raises `FormError` naming the field."""

from __future__ import annotations

import re
from collections.abc import Sequence
from statistics import fmean

from starlette.datastructures import FormData

from evaluation.rating.blind import Slot
from evaluation.rating.errors import FormError
from evaluation.rating.items import RatingUnit
from evaluation.rating.store import TIE, ResponseScore, Submission

NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
WHOLE = re.compile(r"\s*\d{1,2}\s*")
CHOICES = {"A", "B", "tie"}
SCORE_MIN, SCORE_MAX = 0, 10


def score_field(slot: Slot, criterion: str | None = None) -> str:
    return f"score-{slot.slot_id}" + (f"-{criterion}" if criterion else "")


def comment_field(slot: Slot) -> str:
    return f"comment-{slot.slot_id}"


def _whole_score(raw: str | None) -> int | str:
    """The score, or what is wrong with it."""
    if raw is None or not raw.strip():
        return "is missing"
    if not WHOLE.fullmatch(raw) or not SCORE_MIN <= int(raw) <= SCORE_MAX:
        return f"must be a whole number from {SCORE_MIN} to {SCORE_MAX}, got {raw[:20]!r}"
    return int(raw)


def parse_rating_form(form: FormData, *, rater: str, unit: RatingUnit, slots: Sequence[Slot], pairwise: bool,
                      criteria: Sequence[str], max_comment_chars: int) -> Submission:
    """The submission in `form`, checked against the slots this rater was shown for this unit."""
    problems: dict[str, str] = {}
    expected = {"nonce"} | ({"choice"} if pairwise else set())
    for slot in slots:
        expected.add(comment_field(slot))
        expected |= {score_field(slot, criterion) for criterion in criteria} if pairwise else {score_field(slot)}
    for name in form.keys():
        if name not in expected:
            problems[name[:80]] = "is not a field of this form (unknown or forged response id)"
        elif len(form.getlist(name)) > 1:
            problems[name] = "was sent more than once"

    nonce = form.get("nonce")
    if not isinstance(nonce, str) or not NONCE.fullmatch(nonce):
        problems["nonce"] = "is missing or malformed; reload the page and submit again"

    preference: str | None = None
    if pairwise:
        choice = form.get("choice")
        if choice not in CHOICES:
            problems["choice"] = "must be A, B or tie"
        else:
            preference = TIE if choice == "tie" else next(slot.model for slot in slots if slot.label == choice)

    scores: list[ResponseScore] = []
    for slot in slots:
        comment = form.get(comment_field(slot))
        comment_text = comment.strip() if isinstance(comment, str) else ""
        if len(comment_text) > max_comment_chars:
            problems[comment_field(slot)] = f"response {slot.label}: longer than {max_comment_chars} characters"
        values: dict[str, int] = {}
        for criterion in (criteria if pairwise else [None]):
            name = score_field(slot, criterion)
            raw = form.get(name)
            parsed = _whole_score(raw if isinstance(raw, str) else None)
            what = f"response {slot.label}" + (f", {criterion}" if criterion else "")
            if isinstance(parsed, str):
                problems[name] = f"{what}: score {parsed}"
            else:
                values[criterion or "score"] = parsed
        if len(values) == (len(criteria) if pairwise else 1):
            if pairwise:
                overall = float(values["overall"]) if "overall" in values else round(fmean(values.values()), 2)
                scores.append(ResponseScore(slot.model, overall, dict(values), comment_text or None))
            else:
                scores.append(ResponseScore(slot.model, float(values["score"]), {}, comment_text or None))

    if problems:
        raise FormError(problems)
    assert isinstance(nonce, str)
    return Submission(rater=rater, unit_id=unit.unit_id, prompt_id=unit.item.prompt_id,
                      mode="pairwise" if pairwise else "score", nonce=nonce, scores=tuple(scores),
                      preference=preference)
