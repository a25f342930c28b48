"""`peptalk rate export`: one row per (prompt, model, rater) as CSV or JSONL, the format agreement analysis reads.

Columns: `prompt_id, model, rater, score` (0-10; pairwise: the `overall` criterion, or the criteria's mean), then
`comment, mode, unit_id, preference` (pairwise, from this model's side: win, loss or tie), `opponent`, one column
per criterion, and `updated_at`.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from evaluation.rating.store import TIE, ScoreRow

ExportFormat = Literal["csv", "jsonl"]
BASE_COLUMNS = ["prompt_id", "model", "rater", "score", "comment", "mode", "unit_id", "preference", "opponent"]


def export_columns(criteria: Sequence[str]) -> list[str]:
    return [*BASE_COLUMNS, *criteria, "updated_at"]


def export_rows(rows: Sequence[ScoreRow], criteria: Sequence[str]) -> list[dict[str, Any]]:
    """The export rows for stored scores, in a stable order."""
    models_by_rating: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in rows:
        models_by_rating[(row.rater, row.unit_id)].append(row.model)
    out: list[dict[str, Any]] = []
    for row in rows:
        preference = opponent = None
        if row.mode == "pairwise":
            others = [model for model in models_by_rating[(row.rater, row.unit_id)] if model != row.model]
            opponent = others[0] if others else None
            preference = "tie" if row.preference == TIE else "win" if row.preference == row.model else "loss"
        record: dict[str, Any] = {"prompt_id": row.prompt_id, "model": row.model, "rater": row.rater,
                                  "score": row.score, "comment": row.comment, "mode": row.mode,
                                  "unit_id": row.unit_id, "preference": preference, "opponent": opponent}
        record.update({criterion: row.criteria.get(criterion) for criterion in criteria})
        record["updated_at"] = row.updated_at.isoformat()
        out.append(record)
    return out


def write_export(records: Sequence[dict[str, Any]], path: Path, fmt: ExportFormat, criteria: Sequence[str]) -> None:
    """Writes the rows to `path` (CSV with a header, or one JSON object a line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        if fmt == "jsonl":
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        writer = csv.DictWriter(handle, fieldnames=export_columns(criteria))
        writer.writeheader()
        for record in records:
            writer.writerow({key: "" if value is None else value for key, value in record.items()})
