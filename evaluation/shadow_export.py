"""The shadow export file (`peptalk shadow export`): JSONL, flattened CSV or Parquet, read back for evaluation.

JSONL holds one `ShadowExportRow` per line. CSV and Parquet hold one flat row per pair: the pair's fields,
`request_json`, then `primary_<field>` and `candidate<i>_<field>` for each `CallRecord` field listed in
`CALL_FIELDS`. An empty `candidate<i>_model` means the pair had fewer candidates.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

from evaluation.records import CallRecord, DatasetItem, ShadowExportRow

ExportFormat = Literal["jsonl", "csv", "parquet"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "parquet")
PAIR_FIELDS = ("pair_id", "request_id", "created_at", "user_id", "request_json", "prompt")
CALL_FIELDS = ("model", "response", "error", "latency_s", "ttft_s", "input_tokens", "output_tokens", "cache_hit",
               "usage_source", "started_at")


class ShadowExportError(ValueError):
    """A shadow export file has an unknown format or cannot be parsed."""


def format_of(path: Path) -> ExportFormat:
    """The format named by the file's suffix."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in EXPORT_FORMATS:
        raise ShadowExportError(f"{path}: unknown shadow export format {suffix!r}; use .jsonl, .csv or .parquet")
    return suffix  # type: ignore[return-value]


def _prefixes(slots: int) -> list[str]:
    return ["primary"] + [f"candidate{index}" for index in range(1, slots + 1)]


def columns(slots: int) -> list[str]:
    """The flat columns for pairs with at most `slots` candidates."""
    return list(PAIR_FIELDS) + [f"{prefix}_{name}" for prefix in _prefixes(slots) for name in CALL_FIELDS]


def flatten(row: ShadowExportRow, slots: int) -> dict[str, Any]:
    """`row` as one flat dict (Python values; None where a candidate slot is empty)."""
    flat: dict[str, Any] = {"pair_id": row.pair_id, "request_id": row.request_id, "created_at": row.created_at,
                            "user_id": row.user_id, "request_json": json.dumps(row.request, sort_keys=True),
                            "prompt": row.prompt}
    calls: list[CallRecord | None] = [row.primary, *row.candidates]
    calls += [None] * (slots + 1 - len(calls))
    for prefix, record in zip(_prefixes(slots), calls, strict=True):
        for name in CALL_FIELDS:
            flat[f"{prefix}_{name}"] = getattr(record, name) if record is not None else None
    return flat


def _unflatten(flat: dict[str, Any], slots: int) -> ShadowExportRow:
    records = []
    for prefix in _prefixes(slots):
        values = {name: flat.get(f"{prefix}_{name}") for name in CALL_FIELDS}
        if values["model"] is None:
            continue
        if values["response"] is None and values["error"] is None:
            values["response"] = ""  # CSV cannot tell an empty answer from none; only a failed call has none
        records.append(CallRecord.model_validate({"source": "shadow", **values}))
    if not records:
        raise ShadowExportError(f"pair {flat.get('pair_id')} has no primary call")
    return ShadowExportRow(pair_id=flat["pair_id"], request_id=flat["request_id"], created_at=flat["created_at"],
                           user_id=flat["user_id"] or "", request=json.loads(flat["request_json"] or "{}"),
                           prompt=flat["prompt"] or "", primary=records[0], candidates=records[1:])


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _parquet_schema(slots: int) -> Any:
    import pyarrow as pa

    timestamp = pa.timestamp("us", tz="UTC")
    call_types = {"model": pa.string(), "response": pa.string(), "error": pa.string(), "latency_s": pa.float64(),
                  "ttft_s": pa.float64(), "input_tokens": pa.int64(), "output_tokens": pa.int64(),
                  "cache_hit": pa.bool_(), "usage_source": pa.string(), "started_at": timestamp}
    fields = [pa.field(name, timestamp if name == "created_at" else pa.string()) for name in PAIR_FIELDS]
    fields += [pa.field(f"{prefix}_{name}", call_types[name]) for prefix in _prefixes(slots) for name in CALL_FIELDS]
    return pa.schema(fields)


def write_shadow_export(rows: Iterable[ShadowExportRow], path: Path, export_format: ExportFormat | None = None, *,
                        on_row: Callable[[], None] | None = None) -> int:
    """Writes `rows` to `path` (format from the suffix unless given); returns how many were written."""
    export_format = export_format or format_of(path)
    if export_format not in EXPORT_FORMATS:
        raise ShadowExportError(f"unknown shadow export format {export_format!r}; "
                                f"use one of {', '.join(EXPORT_FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    if export_format == "jsonl":
        with path.open("w", encoding="utf-8") as sink:
            for row in rows:
                sink.write(row.model_dump_json() + "\n")
                count += 1
                if on_row:
                    on_row()
        return count
    materialised = []
    for row in rows:  # flat formats need the widest pair before the header
        materialised.append(row)
        if on_row:
            on_row()
    slots = max((len(row.candidates) for row in materialised), default=0)
    flats = [flatten(row, slots) for row in materialised]
    if export_format == "csv":
        with path.open("w", encoding="utf-8", newline="") as sink:
            writer = csv.DictWriter(sink, fieldnames=columns(slots))
            writer.writeheader()
            writer.writerows({key: _csv_value(value) for key, value in flat.items()} for flat in flats)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(flats, schema=_parquet_schema(slots)), path)
    return len(flats)


def _slots(header: Iterable[str]) -> int:
    names = set(header)
    slots = 0
    while f"candidate{slots + 1}_model" in names:
        slots += 1
    return slots


def load_shadow_export(path: str | Path) -> list[ShadowExportRow]:
    """Every pair in a shadow export file, whatever its format."""
    path = Path(path)
    export_format = format_of(path)
    try:
        if export_format == "jsonl":
            with path.open(encoding="utf-8") as source:
                return [ShadowExportRow.model_validate_json(line) for line in source if line.strip()]
        if export_format == "csv":
            with path.open(encoding="utf-8", newline="") as source:
                reader = csv.DictReader(source)
                slots = _slots(reader.fieldnames or [])
                return [_unflatten({key: value if value != "" else None for key, value in flat.items()}, slots)
                        for flat in reader]
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        slots = _slots(table.column_names)
        return [_unflatten(flat, slots) for flat in table.to_pylist()]
    except (OSError, ValueError, KeyError) as exc:
        if isinstance(exc, ShadowExportError):
            raise
        raise ShadowExportError(f"{path}: not a readable shadow export ({type(exc).__name__}: {exc})") from exc


def to_dataset_items(rows: Iterable[ShadowExportRow]) -> list[DatasetItem]:
    """One `DatasetItem` per pair whose primary answered: the primary is the reference, each answering
    candidate a response. A candidate that is the primary's own model is keyed `<model>#shadow`."""
    items = []
    for row in rows:
        if row.primary.error is not None or not row.primary.response:
            continue
        responses = {row.primary.model: row.primary.response}
        for candidate in row.candidates:
            if candidate.error is None and candidate.response:
                key = candidate.model if candidate.model not in responses else f"{candidate.model}#shadow"
                responses[key] = candidate.response
        items.append(DatasetItem(prompt_id=row.pair_id or row.request_id, prompt=row.prompt, responses=responses,
                                 reference_model=row.primary.model, request=row.request))
    return items
