"""The dataset and shadow-export loaders, and human ratings: good files load, bad ones name the line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from evaluation.errors import DatasetError, HumanRatingsError
from evaluation.humans import human_score_rows, load_human_ratings
from evaluation.loaders import load_dataset, load_items, write_dataset
from evaluation.records import CallRecord, DatasetItem, ShadowExportRow

ITEM = {"prompt_id": "p1", "prompt": "Write a pep talk", "responses": {"openai:gpt-4": "Go!", "embedded:s": "Yes!"},
        "reference_model": "openai:gpt-4"}


def write_lines(path: Path, *rows: object) -> Path:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path


def test_dataset_round_trip(tmp_path: Path) -> None:
    items = [DatasetItem.model_validate(ITEM), DatasetItem.model_validate({**ITEM, "prompt_id": "p2"})]
    write_dataset(tmp_path / "d.jsonl", items)
    assert load_dataset(tmp_path / "d.jsonl") == items


@pytest.mark.parametrize(("lines", "message"), [
    (["{not json"], ":1: not JSON"),
    ([{**ITEM, "responses": "text"}], ":1: responses"),
    ([ITEM, ITEM], ":2: prompt_id 'p1' appears twice"),
    ([{k: v for k, v in ITEM.items() if k != "prompt"}], ":1: prompt"),
    ([{**ITEM, "responses": {}}], "responses is empty"),
    ([], "holds no items"),
])
def test_bad_dataset_names_the_line(tmp_path: Path, lines: list[object], message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_dataset(write_lines(tmp_path / "d.jsonl", *lines))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load_items(tmp_path / "nope.jsonl")


def shadow_row(request_id: str, *, candidate_error: str | None = None) -> dict[str, object]:
    now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    row = ShadowExportRow(
        request_id=request_id, created_at=now, user_id="hash", request={"user_id": "hash"}, prompt="Prompt",
        primary=CallRecord(model="openai:gpt-4", response="GPT answer", source="shadow"),
        candidates=[CallRecord(model="ollama:starling-lm:7b", response=None if candidate_error else "SLM answer",
                               error=candidate_error, source="shadow"),
                    CallRecord(model="embedded:smollm2-135m", response="Tiny answer", source="shadow")],
    )
    return row.model_dump(mode="json")


def test_shadow_export_becomes_items(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "s.jsonl", shadow_row("r1"), shadow_row("r2", candidate_error="timeout"))
    items = load_items(path)  # detected as a shadow export
    assert [item.prompt_id for item in items] == ["r1", "r2"]
    assert items[0].reference_model == "openai:gpt-4"
    assert items[0].responses == {"openai:gpt-4": "GPT answer", "ollama:starling-lm:7b": "SLM answer",
                                  "embedded:smollm2-135m": "Tiny answer"}
    assert "ollama:starling-lm:7b" not in items[1].responses  # a failed call is left out, not scored as empty
    assert load_items(path, reference_model="embedded:smollm2-135m")[0].reference_model == "embedded:smollm2-135m"


def test_bad_shadow_row(tmp_path: Path) -> None:
    row = shadow_row("r1")
    del row["primary"]["model"]  # type: ignore[index]
    with pytest.raises(DatasetError, match="not a readable shadow export(.|\n)*primary.model"):
        load_items(write_lines(tmp_path / "s.jsonl", row), input_format="shadow")


def test_human_ratings_csv_and_jsonl(tmp_path: Path) -> None:
    csv_path = tmp_path / "h.csv"
    csv_path.write_text("prompt_id,model,rater,score\np1,a,r1,8\np1,a,r2,6\np1,b,r1,3.5\n")
    jsonl_path = write_lines(tmp_path / "h.jsonl", {"prompt_id": "p1", "model": "a", "rater": "r1", "score": 8},
                             {"prompt_id": "p1", "model": "a", "rater": "r2", "score": 6},
                             {"prompt_id": "p1", "model": "b", "rater": "r1", "score": 3.5})
    assert load_human_ratings(csv_path) == load_human_ratings(jsonl_path)
    rows = {row.model: row.score for row in human_score_rows(load_human_ratings(csv_path))}
    assert rows == {"a": 7.0, "b": 3.5}


@pytest.mark.parametrize(("name", "text", "message"), [
    ("h.csv", "prompt_id,model,score\np1,a,5\n", "header lacks rater"),
    ("h.csv", "prompt_id,model,rater,score\np1,a,r1,11\n", "line 2: score"),
    ("h.csv", "prompt_id,model,rater,score\np1,a,r1,great\n", "line 2: score"),
    ("h.jsonl", '{"prompt_id": "p1", "model": "a", "rater": "r1"}\n', ":1: score"),
    ("h.csv", "prompt_id,model,rater,score\n", "no ratings"),
])
def test_bad_human_ratings(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(HumanRatingsError, match=message):
        load_human_ratings(path)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_reads_the_rating_ui_export(tmp_path: Path, fmt: str) -> None:
    """What `peptalk rate export` writes (extra columns included) loads as human ratings."""
    from evaluation.rating.export import export_rows, write_export
    from evaluation.rating.store import ScoreRow as StoredScore

    now = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    stored = [StoredScore(prompt_id="p1", unit_id="u1", model=model, rater="ada", mode="score", score=score,
                          criteria={"overall": score}, comment=None, preference=None, updated_at=now)
              for model, score in (("a", 7.0), ("b", 2.5))]
    path = tmp_path / f"ratings.{fmt}"
    write_export(export_rows(stored, ["overall"]), path, fmt, ["overall"])  # type: ignore[arg-type]
    ratings = load_human_ratings(path)
    assert [(rating.prompt_id, rating.model, rating.rater, rating.score) for rating in ratings] == [
        ("p1", "a", "ada", 7.0), ("p1", "b", "ada", 2.5)]
