"""Evaluation inputs: the JSONL dataset of `DatasetItem`s, and shadow-log exports turned into such items."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from evaluation.errors import DatasetError
from evaluation.jsonl import read_jsonl, write_jsonl
from evaluation.records import DatasetItem

InputFormat = Literal["auto", "dataset", "shadow"]


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "item"
    return f"{where}: {first['msg']}"


def load_dataset(path: Path) -> list[DatasetItem]:
    """The items of a dataset JSONL file `{prompt_id, prompt, responses: {model: text}, reference_model}`."""
    items: list[DatasetItem] = []
    seen: set[str] = set()
    for number, value in read_jsonl(path, error=DatasetError):
        try:
            item = DatasetItem.model_validate(value)
        except ValidationError as exc:
            raise DatasetError(f"{path}:{number}: {_problem(exc)}") from exc
        if item.prompt_id in seen:
            raise DatasetError(f"{path}:{number}: prompt_id {item.prompt_id!r} appears twice")
        if not item.responses:
            raise DatasetError(f"{path}:{number}: responses is empty")
        seen.add(item.prompt_id)
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: the dataset holds no items")
    return items


def write_dataset(path: Path, items: Iterable[DatasetItem]) -> int:
    return write_jsonl(path, items)


def load_shadow_dataset(path: Path, *, reference_model: str | None = None) -> list[DatasetItem]:
    """A shadow export (`peptalk shadow export`: JSONL, CSV or Parquet) as dataset items.

    The shadow feature reads the file and turns each pair into an item; the primary (GPT-4 in production) is the
    reference unless `reference_model` names another, and failed calls are left out.
    """
    from evaluation.shadow_export import ShadowExportError, load_shadow_export, to_dataset_items

    try:
        items = to_dataset_items(load_shadow_export(path))
    except ShadowExportError as exc:
        raise DatasetError(str(exc)) from exc
    if not items:
        raise DatasetError(f"{path}: the shadow export holds no answered request")
    if reference_model:
        items = [item.model_copy(update={"reference_model": reference_model}) for item in items]
    return items


def _detect(path: Path) -> InputFormat:
    if path.suffix.lower() in (".csv", ".parquet"):
        return "shadow"
    for _, value in read_jsonl(path, error=DatasetError):
        if "responses" in value:
            return "dataset"
        if "primary" in value:
            return "shadow"
        raise DatasetError(f"{path}: neither a dataset (no 'responses') nor a shadow export (no 'primary')")
    raise DatasetError(f"{path}: the file holds no items")


def load_items(path: Path, *, input_format: InputFormat = "auto", reference_model: str | None = None) -> list[DatasetItem]:
    """Dataset items from a dataset file or a shadow export; `reference_model` overrides each item's reference."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    kind = _detect(path) if input_format == "auto" else input_format
    if kind == "shadow":
        return load_shadow_dataset(path, reference_model=reference_model)
    items = load_dataset(path)
    if reference_model:
        items = [item.model_copy(update={"reference_model": reference_model}) for item in items]
    return items
