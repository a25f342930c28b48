"""JSON Lines reading and writing shared by the evaluation files."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from evaluation.errors import EvaluationError


def read_jsonl(path: Path, *, error: type[EvaluationError]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; `error` names the file and line of bad JSON."""
    if not path.is_file():
        raise error(f"{path}: no such file")
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{path}:{number}: not JSON: {exc.msg}") from exc
            if not isinstance(value, dict):
                raise error(f"{path}:{number}: expected a JSON object, got {type(value).__name__}")
            yield number, value


def write_jsonl(path: Path, rows: Iterable[BaseModel | dict[str, Any]]) -> int:
    """Writes one JSON object per line (creating the folder); returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as sink:
        for row in rows:
            data = row.model_dump(mode="json") if isinstance(row, BaseModel) else row
            sink.write(json.dumps(data, ensure_ascii=False) + "\n")
            count += 1
    return count
