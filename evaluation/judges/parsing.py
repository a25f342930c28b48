"""Reads scores and choices out of a judge's free text, with regular expressions only (never `eval`).

A score is taken only from an explicit label (`Score: 7`, `rating: 7/10`), a fraction of the scale
(`7/10`, `7 out of 10`), an answer that is nothing but a number, or a bare number alone on the answer's last
line after its reasoning (the SLaM scorer's "Reason step by step and then give a score. Only give a number
between 0 and 10."). The SLaM comparer and selector ask for an output format of `Reason: ...` then `Score: ...`
or `Choice: ...`: given that `label`, a line that starts with it decides alone, so a number inside the reason
never competes with the answer. Anything else is not guessed: a missing, out-of-range, wrong-scale, ranged or
contradictory score is reported as unparsable, with why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Problem = Literal["missing", "out_of_range", "contradictory", "wrong_scale", "ambiguous", "empty"]

WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
         "nine": 9, "ten": 10}
_NUMBER = r"[-+]?\d+(?:\.\d+)?(?!\.\d)|" + "|".join(WORDS)
_SCALE_OF = r"\s*(?:/|out\s+of)\s*"
_LABELED_SCORE = re.compile(
    r"\b(?:score|rating|grade|closeness)\b\s*(?:is|of|:|=)?\s*(?:is|:|=)?\s*"
    rf"(?P<value>{_NUMBER})\b(?!\s*[+*^]\s*\d)(?P<range>\s*(?:-|–|to)\s*\d)?(?:{_SCALE_OF}(?P<scale>{_NUMBER})\b)?",
    re.IGNORECASE,
)
_FRACTION = re.compile(rf"(?<![\w.])(?P<value>{_NUMBER}){_SCALE_OF}(?P<scale>{_NUMBER})\b", re.IGNORECASE)
_BARE = re.compile(rf"^\s*(?P<value>{_NUMBER})\s*\.?\s*$", re.IGNORECASE)
_CHOICE = re.compile(
    r"\b(?:best|choice|winner|pick|picked|chosen|selected)\b(?:\s+(?:response|answer|option))?\s*(?:is|:|=)?\s*"
    r"(?:response|answer|option)?\s*#?\s*(?P<value>[-+]?\d+)\b",
    re.IGNORECASE,
)
_REASON = re.compile(r"\breason(?:ing)?\s*:\s*(?P<text>.+?)(?=\n\s*(?:score|rating|best|choice)\b|\Z)",
                     re.IGNORECASE | re.DOTALL)
_MARKUP = re.compile(r"[*#`]")


@dataclass(frozen=True)
class ParsedScore:
    """A score on the judge's scale, or why there is none."""

    value: float | None
    problem: Problem | None = None

    @property
    def parsed(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class ParsedChoice:
    """The 1-based position of the response the judge picked, or why there is none."""

    position: int | None
    problem: Problem | None = None

    @property
    def parsed(self) -> bool:
        return self.problem is None


def _number(text: str) -> float:
    lowered = text.lower()
    return float(WORDS[lowered]) if lowered in WORDS else float(text)


def _clean(text: str) -> str:
    return _MARKUP.sub("", text)


def _single(values: list[float], low: float, high: float) -> ParsedScore:
    distinct = sorted(set(values))
    if len(distinct) > 1:
        return ParsedScore(None, "contradictory")
    value = distinct[0]
    if not low <= value <= high:
        return ParsedScore(None, "out_of_range")
    return ParsedScore(value)


def _answer_lines(text: str, label: str | None) -> str | None:
    """The lines that start with `label:` (the output format's answer lines), or None when there are none."""
    if label is None:
        return None
    pattern = re.compile(rf"^\s*{re.escape(label)}\s*:.*$", re.IGNORECASE | re.MULTILINE)
    lines = [match.group(0) for match in pattern.finditer(text)]
    return "\n".join(lines) if lines else None


def parse_score(text: str | None, *, low: float = 0.0, high: float = 10.0, label: str | None = None) -> ParsedScore:
    """The one score in `text` on the scale `low`..`high`; a `problem` when there is not exactly one.

    With `label` (the SLaM comparer's `Score`), the lines that start with `label:` decide when there are any.
    """
    if text is None or not text.strip():
        return ParsedScore(None, "empty")
    cleaned = _clean(text)
    if (answers := _answer_lines(cleaned, label)) is not None:
        return parse_score(answers, low=low, high=high)
    labeled = list(_LABELED_SCORE.finditer(cleaned))
    if labeled:
        if any(match.group("range") for match in labeled):
            return ParsedScore(None, "ambiguous")
        if any(match.group("scale") and _number(match.group("scale")) != high for match in labeled):
            return ParsedScore(None, "wrong_scale")
        return _single([_number(match.group("value")) for match in labeled], low, high)
    # Without a label, only a fraction of this very scale counts ("3/5 tasks done" is not a score).
    fractions = [match for match in _FRACTION.finditer(cleaned) if _number(match.group("scale")) == high]
    if fractions:
        return _single([_number(match.group("value")) for match in fractions], low, high)
    bare = _BARE.match(cleaned) or _BARE.match(_last_line(cleaned))
    if bare:
        return _single([_number(bare.group("value"))], low, high)
    return ParsedScore(None, "missing")


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def parse_choice(text: str | None, *, count: int, label: str | None = None) -> ParsedChoice:
    """The 1-based position (1..`count`) the judge picked as best; a `problem` when there is not exactly one.

    With `label` (the SLaM selector's `Choice`), the lines that start with `label:` decide when there are any.
    """
    if text is None or not text.strip():
        return ParsedChoice(None, "empty")
    cleaned = _clean(text)
    if (answers := _answer_lines(cleaned, label)) is not None:
        return parse_choice(answers, count=count)
    values = [int(match.group("value")) for match in _CHOICE.finditer(cleaned)]
    if not values:
        bare = (re.fullmatch(r"\s*(?:response\s*)?#?(\d+)\s*\.?\s*", cleaned, re.IGNORECASE)
                or re.fullmatch(r"\s*(?:response\s*)?#?(\d+)\s*\.?\s*", _last_line(cleaned), re.IGNORECASE))
        values = [int(bare.group(1))] if bare else []
    return _one_choice(values, count)


def _one_choice(values: list[int], count: int) -> ParsedChoice:
    if not values:
        return ParsedChoice(None, "missing")
    if len(set(values)) > 1:
        return ParsedChoice(None, "contradictory")
    if not 1 <= values[0] <= count:
        return ParsedChoice(None, "out_of_range")
    return ParsedChoice(values[0])


def parse_reason(text: str | None) -> str | None:
    """The judge's written reason: the text after `Reason:`, or the answer less its score lines."""
    if text is None:
        return None
    cleaned = _clean(text)
    match = _REASON.search(cleaned)
    if match:
        reason = match.group("text").strip()
    else:
        kept = [line for line in cleaned.splitlines()
                if not _LABELED_SCORE.search(line) and not _CHOICE.search(line)]
        while kept and (not kept[-1].strip() or _BARE.match(kept[-1])):
            kept.pop()  # the bare final number of the SLaM format is the score, not the reason
        reason = "\n".join(kept).strip()
    return reason or None
