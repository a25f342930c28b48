"""What raters rate: items read from a dataset JSONL or a shadow export, and the units assigned to raters."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from evaluation.rating.errors import RatingDataError
from evaluation.records import DatasetItem, ShadowExportRow

RatingMode = Literal["score", "pairwise"]


@dataclass(frozen=True)
class RatingItem:
    """One prompt and its responses by model; the models are never shown to raters."""

    prompt_id: str
    prompt: str
    responses: dict[str, str]
    reference_model: str | None = None


@dataclass(frozen=True)
class RatingUnit:
    """One thing a rater rates: every response of an item (score mode) or one pair of them (pairwise mode)."""

    unit_id: str
    item: RatingItem
    models: tuple[str, ...]


def item_from_shadow_row(row: ShadowExportRow) -> RatingItem:
    """A shadow export row as an item: the primary's answer and every candidate's answer that succeeded."""
    responses: dict[str, str] = {}
    for call in [row.primary, *row.candidates]:
        if call.response and not call.error and call.model not in responses:
            responses[call.model] = call.response
    return RatingItem(row.request_id, row.prompt, responses, reference_model=row.primary.model)


def item_from_dataset(item: DatasetItem) -> RatingItem:
    responses = {model: text for model, text in item.responses.items() if text}
    return RatingItem(item.prompt_id, item.prompt, responses, reference_model=item.reference_model)


def parse_items(lines: Iterable[str], *, source: str = "<input>") -> list[RatingItem]:
    """Items from JSONL lines of `DatasetItem` or `ShadowExportRow` (told apart by their fields)."""
    items: list[RatingItem] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise RatingDataError(f"{source}:{number}: expected a JSON object")
            item = (item_from_shadow_row(ShadowExportRow.model_validate(record)) if "primary" in record
                    else item_from_dataset(DatasetItem.model_validate(record)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise RatingDataError(f"{source}:{number}: not a dataset item or shadow export row: {exc}") from exc
        if item.prompt_id in seen:
            raise RatingDataError(f"{source}:{number}: prompt_id {item.prompt_id!r} appears twice")
        seen.add(item.prompt_id)
        items.append(item)
    return items


def load_items(path: Path) -> list[RatingItem]:
    """Items from a dataset JSONL or a shadow export JSONL file."""
    try:
        with path.open(encoding="utf-8") as handle:
            items = parse_items(handle, source=str(path))
    except OSError as exc:
        raise RatingDataError(f"cannot read {path}: {exc}") from exc
    if not items:
        raise RatingDataError(f"{path} holds no items")
    return items


def build_units(items: Sequence[RatingItem], mode: RatingMode) -> list[RatingUnit]:
    """Score mode: one unit per item. Pairwise: the reference against each other model, or every pair."""
    units: list[RatingUnit] = []
    for item in items:
        models = sorted(item.responses)
        if mode == "score":
            if models:
                units.append(RatingUnit(item.prompt_id, item, tuple(models)))
            continue
        if item.reference_model in item.responses:
            reference = item.reference_model
            pairs = [(reference, other) for other in models if other != reference]
        else:
            pairs = list(itertools.combinations(models, 2))
        for first, second in pairs:
            pair = tuple(sorted((first, second)))
            units.append(RatingUnit(f"{item.prompt_id}|{pair[0]}|{pair[1]}", item, pair))
    return units
