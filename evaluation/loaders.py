"""Evaluation inputs: the JSONL dataset of `DatasetItem`s, and shadow-log exports turned into such items."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from evaluation.errors import DatasetError
from evaluation.jsonl import read_jsonl, write_jsonl
from evaluation.records import DatasetItem, ShadowExportRow

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


def shadow_rows_to_items(rows: Iterable[ShadowExportRow], *, reference_model: str | None = None) -> list[DatasetItem]:
    """One item per mirrored request: the primary's and each candidate's answer; failed calls are left out.

    The reference is the primary model (GPT-4 in production) unless `reference_model` names another.
    """
    items = []
    for row in rows:
        responses = {call.model: call.response for call in [row.primary, *row.candidates]
                     if call.response is not None and call.error is None}
        if not responses:
            continue
        items.append(DatasetItem(prompt_id=row.request_id, prompt=row.prompt, responses=responses,
                                 reference_model=reference_model or row.primary.model, request=row.request))
    return items


def _read_shadow_rows(path: Path) -> list[ShadowExportRow]:
    try:  # the shadow feature's own reader (JSONL, CSV, Parquet), where it is installed
        from evaluation.shadow_export import load_shadow_export  # type: ignore[import-not-found]
    except ImportError:
        load_shadow_export = None
    if load_shadow_export is not None:
        try:
            return [row if isinstance(row, ShadowExportRow) else ShadowExportRow.model_validate(row)
                    for row in load_shadow_export(path)]
        except (ValueError, OSError) as exc:  # pydantic's ValidationError is a ValueError
            raise DatasetError(f"{path}: {exc}") from exc
    rows = []
    for number, value in read_jsonl(path, error=DatasetError):
        try:
            rows.append(ShadowExportRow.model_validate(value))
        except ValidationError as exc:
            raise DatasetError(f"{path}:{number}: {_problem(exc)}") from exc
    return rows


def load_shadow_dataset(path: Path, *, reference_model: str | None = None) -> list[DatasetItem]:
    """A shadow export (`peptalk shadow export`) as dataset items."""
    items = shadow_rows_to_items(_read_shadow_rows(path), reference_model=reference_model)
    if not items:
        raise DatasetError(f"{path}: the shadow export holds no answered request")
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
    kind = _detect(path) if input_format == "auto" else input_format
    if kind == "shadow":
        return load_shadow_dataset(path, reference_model=reference_model)
    items = load_dataset(path)
    if reference_model:
        items = [item.model_copy(update={"reference_model": reference_model}) for item in items]
    return items
