"""Where timed calls come from: the generator's `calls.jsonl`, shadow exports, and the probe tables."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from evaluation.errors import RecordFileError
from evaluation.jsonl import read_jsonl
from evaluation.records import CallRecord, ShadowExportRow


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


def load_shadow_export(path: Path) -> list[CallRecord]:
    """Every call of a `peptalk shadow export` JSONL file (primary and candidates)."""
    records = []
    for number, row in _jsonl(path):
        try:
            records.extend(shadow_calls(ShadowExportRow.model_validate(row)))
        except ValidationError as exc:
            raise RecordFileError(f"{path}:{number}: not a shadow export row: {exc.errors()[0]['msg']}") from exc
    return records
