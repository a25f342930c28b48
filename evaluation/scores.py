"""`scores.jsonl`: one row per (evaluator, prompt_id, model), the contract the report reads."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from evaluation.errors import DatasetError
from evaluation.jsonl import read_jsonl, write_jsonl
from evaluation.metrics.base import Scale


class ScoreRow(BaseModel):
    """One evaluator's score of one model's response to one prompt; `score` is None when it could not be read."""

    evaluator: str  # judge-scorer:<judge model> | judge-comparer:... | tfidf | sbert | bleu | sem-bleu | human ...
    prompt_id: str
    model: str
    score: float | None
    scale: Scale
    parsed: bool
    raw: str | None = None  # the judge's answer, word for word (None for metrics)
    reason: str | None = None  # the judge's written reason, where it gave one
    problem: str | None = None  # why `score` is None: missing | out_of_range | contradictory | ... | error
    repeat: int | None = None
    judge_preset: str | None = None  # the judge preset and its templates' version (`slam@<hash>`); None for metrics


def write_scores(path: Path, rows: list[ScoreRow]) -> int:
    return write_jsonl(path, rows)


def read_scores(path: Path) -> list[ScoreRow]:
    rows = []
    for number, value in read_jsonl(path, error=DatasetError):
        try:
            rows.append(ScoreRow.model_validate(value))
        except ValidationError as exc:
            raise DatasetError(f"{path}:{number}: {exc.errors()[0]['msg']}") from exc
    return rows
