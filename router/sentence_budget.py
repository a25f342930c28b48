"""An optional sentence budget: stop a stream once it has written N whole sentences.

For models that write past a length instruction (the catalog's `ignores_length`), such as SmolLM2-135M,
which asked for four sentences may write forty. A sentence ends at `.`, `!` or `?` (closing quotes and
brackets included) followed by white space; the stream is cut right after the Nth end, so the answer keeps
whole sentences and no piece of the next one. A list marker's dot (`1.` or `a.` first on its line) and the dot
of a title or Latin abbreviation (`Dr.`, `e.g.`) end no sentence: SmolLM2 numbers its points, and an answer cut
after a bare "2." ended in the middle of nothing. Off unless `PEPTALK_SENTENCE_BUDGET` is set, and never on in
reproduction runs, whose answers must be the model's own.
"""

from __future__ import annotations

import re

FINISH_REASON = "sentence_budget"  # the finish reason of a cut answer: not `length`, so not `truncated`

_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "vs", "e.g", "i.e", "cf", "approx"})


def _ends_a_sentence(text: str, match: re.Match[str]) -> bool:
    """False for a list marker's dot (`2.` alone at the start of a line) and an abbreviation's dot."""
    if match.group() != ".":
        return True
    words = text[: match.start()].rsplit("\n", 1)[-1].split()  # the line so far, up to the dot
    word = words[-1] if words else ""
    if len(words) == 1 and (word.isdigit() or (len(word) == 1 and word.isalpha())):
        return False
    return word.lower() not in _ABBREVIATIONS


class SentenceBudget:
    """Counts sentence ends across streamed pieces of text and says where to stop."""

    def __init__(self, sentences: int) -> None:
        if sentences < 1:
            raise ValueError("a sentence budget is at least 1")
        self.sentences = sentences
        self._text = ""
        self.exhausted = False

    def feed(self, piece: str) -> str:
        """The part of `piece` to emit; after the budget's last sentence, `exhausted` is True and the rest is cut."""
        if self.exhausted:
            return ""
        start = len(self._text)
        self._text += piece
        ends = [match.end() for match in _END.finditer(self._text) if _ends_a_sentence(self._text, match)]
        if len(ends) < self.sentences:
            return piece
        self.exhausted = True
        cut = ends[self.sentences - 1]
        return self._text[start:cut] if cut > start else ""
