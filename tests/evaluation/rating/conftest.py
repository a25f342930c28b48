"""Fixtures of the rating tests: a small dataset with three models, settings on a fresh SQLite file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evaluation.rating import RatingItem
from evaluation.settings import EvalSettings

MODELS = ["openai:gpt-4", "ollama:starling-lm:7b", "embedded:smollm2-135m"]
# Every string that would give a model away: the full names and their parts (but not "7b", which random hex ids hold).
MODEL_MARKERS = sorted({part for model in MODELS for part in [model, *model.split(":")] if len(part) > 2}
                       | {"gpt", "starling", "smollm", "reference"})
ADMIN_TOKEN = "admin-token-for-tests-0123456789"


def make_items(count: int = 4) -> list[RatingItem]:
    """Items whose responses say which prompt and which writer number they are, never which model."""
    return [RatingItem(prompt_id=f"p{index}", prompt=f"Cheer up user {index}: they finished task {index}.",
                       responses={model: f"Great work on task {index}! Keep going, writer {position}."
                                  for position, model in enumerate(MODELS)},
                       reference_model=MODELS[0])
            for index in range(count)]


def write_dataset(path: Path, items: list[RatingItem]) -> Path:
    with path.open("w") as handle:
        for item in items:
            handle.write(json.dumps({"prompt_id": item.prompt_id, "prompt": item.prompt,
                                     "responses": item.responses, "reference_model": item.reference_model}) + "\n")
    return path


@pytest.fixture
def rating_settings(tmp_path: Path) -> Callable[..., EvalSettings]:
    def build(**overrides: Any) -> EvalSettings:
        values: dict[str, Any] = {"data_dir": tmp_path / "var", "log_level": "WARNING",
                                  "rating_admin_token": ADMIN_TOKEN, "rating_raters_per_item": 2,
                                  "rating_items_per_rater": 3}
        values.update(overrides)
        return EvalSettings(_env_file=None, **values)

    return build
