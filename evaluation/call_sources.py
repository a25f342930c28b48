"""Where timed calls come from: the generator's `calls.jsonl`, shadow exports (any format), and the probe tables."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from evaluation.errors import RecordFileError
from evaluation.jsonl import read_jsonl
from evaluation.records import CallRecord, ShadowExportRow
from evaluation.shadow_export import ShadowExportError, load_shadow_export


def _jsonl(path: Path) -> Iterable[tuple[int, dict[str, object]]]:
    return read_jsonl(Path(path), error=RecordFileError)


def load_calls(path: Path) -> list[CallRecord]:
    """The `CallRecord`s of a JSONL file, one per line (the generator's `calls.jsonl`)."""
    records = []
    for number, row in _jsonl(path):
        try:
            records.append(CallRecord.model_validate(row))
        except ValidationError as exc:
            raise RecordFileError(f"{path}:{number}: not a call record: {exc.errors()[0]['msg']}") from exc
    return records


def shadow_calls(row: ShadowExportRow) -> list[CallRecord]:
    """The primary answer and every candidate of one shadow row, as shadow-sourced calls."""
    calls = []
    for record in [row.primary, *row.candidates]:
        calls.append(record.model_copy(update={
            "source": "shadow",
            "started_at": record.started_at or row.created_at,
            "prompt_id": record.prompt_id or row.request_id,
        }))
    return calls


def load_shadow_calls(path: Path) -> list[CallRecord]:
    """Every call of a `peptalk shadow export` file, JSONL, CSV or Parquet (primary and candidates)."""
    try:
        rows = load_shadow_export(path)
    except ShadowExportError as exc:
        raise RecordFileError(str(exc)) from exc
    return [call for row in rows for call in shadow_calls(row)]
