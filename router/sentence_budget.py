"""An optional sentence budget: stop a stream once it has written N whole sentences.

For models that write past a length instruction (the catalog's `ignores_length`), such as SmolLM2-135M,
which asked for four sentences may write forty. A sentence ends at `.`, `!` or `?` (closing quotes and
brackets included) followed by white space; the stream is cut right after the Nth end, so the answer keeps
whole sentences and no piece of the next one. Off unless `PEPTALK_SENTENCE_BUDGET` is set, and never on in
reproduction runs, whose answers must be the model's own.
"""

from __future__ import annotations

import re

FINISH_REASON = "sentence_budget"  # the finish reason of a cut answer: not `length`, so not `truncated`

_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)")


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
        ends = [match.end() for match in _END.finditer(self._text)]
        if len(ends) < self.sentences:
            return piece
        self.exhausted = True
        cut = ends[self.sentences - 1]
        return self._text[start:cut] if cut > start else ""
