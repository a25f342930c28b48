"""Human ratings `(prompt_id, model, rater, score 0-10)` from CSV or JSONL (what the rating UI writes)."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from evaluation.errors import HumanRatingsError
from evaluation.jsonl import read_jsonl
from evaluation.scores import ScoreRow

HUMAN = "human"
COLUMNS = ("prompt_id", "model", "rater", "score")


class HumanRating(BaseModel):
    """One rater's 0-10 score of one model's response to one prompt."""

    prompt_id: str = Field(min_length=1)
    model: str = Field(min_length=1)
    rater: str = Field(min_length=1)
    score: float = Field(ge=0, le=10)


def _validated(path: Path, where: str, value: dict[str, object]) -> HumanRating:
    try:
        return HumanRating.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "row"
        raise HumanRatingsError(f"{path}:{where}: {field}: {first['msg']}") from exc


def load_human_ratings(path: Path) -> list[HumanRating]:
    """Every rating in a `.csv` (header `prompt_id,model,rater,score`) or a `.jsonl` file."""
    if not path.is_file():
        raise HumanRatingsError(f"{path}: no such file")
    ratings: list[HumanRating] = []
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as source:
            reader = csv.DictReader(source)
            missing = [name for name in COLUMNS if name not in (reader.fieldnames or [])]
            if missing:
                raise HumanRatingsError(f"{path}: the header lacks {', '.join(missing)}; expected {','.join(COLUMNS)}")
            for row in reader:
                ratings.append(_validated(path, f"line {reader.line_num}", dict(row)))
    else:
        for number, value in read_jsonl(path, error=HumanRatingsError):
            ratings.append(_validated(path, str(number), value))
    if not ratings:
        raise HumanRatingsError(f"{path}: no ratings")
    return ratings


def human_score_rows(ratings: list[HumanRating]) -> list[ScoreRow]:
    """The raters' mean per (prompt_id, model), as rows of the `human` evaluator."""
    grouped: dict[tuple[str, str], list[float]] = defaultdict(list)
    for rating in ratings:
        grouped[(rating.prompt_id, rating.model)].append(rating.score)
    return [ScoreRow(evaluator=HUMAN, prompt_id=prompt_id, model=model, score=sum(scores) / len(scores), scale="0-10",
                     parsed=True) for (prompt_id, model), scores in grouped.items()]
