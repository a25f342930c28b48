"""What every judge shares: its verdict record, its prompt templates and the client that asks the judge model."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from pydantic import BaseModel

from evaluation.judges.client import JudgeClient
from evaluation.judges.presets import HARDENED, JudgePreset, escape


class JudgeVerdict(BaseModel):
    """One judged item: the score (None when unparsable), the raw answer and why it could not be read."""

    score: float | None = None
    parsed: bool = False
    problem: str | None = None  # missing | out_of_range | contradictory | wrong_scale | ambiguous | empty | error
    raw: str | None = None
    reason: str | None = None
    attempts: int = 0
    cached: bool = False
    error: str | None = None  # the judge model could not be called


@lru_cache(maxsize=None)
def template(name: str) -> str:
    """The judge prompt template `evaluation/judges/<name>.txt`."""
    return resources.files("evaluation.judges").joinpath(f"{name}.txt").read_text(encoding="utf-8")


class Judge:
    """A judge kind (scorer, comparer, selector) over one judge model; `evaluator` names its scores."""

    kind: str = "judge"

    def __init__(self, client: JudgeClient, *, preset: JudgePreset = HARDENED) -> None:
        self.client = client
        self.preset = preset

    def judged(self, text: str) -> str:
        """A judged answer as it goes into the template: escaped under the hardened preset, verbatim under slam."""
        return escape(text) if self.preset.escape_judged_text else text

    @property
    def evaluator(self) -> str:
        return f"judge-{self.kind}:{self.client.model}"
