"""The shadow export file round-trips through `load_shadow_export` in every format, and feeds the evaluators."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from evaluation.records import CallRecord, DatasetItem, ShadowExportRow
from evaluation.shadow_export import (EXPORT_FORMATS, ShadowExportError, load_shadow_export, to_dataset_items,
                                      write_shadow_export)

NOW = dt.datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=dt.timezone.utc)


def record(model: str, **fields: object) -> CallRecord:
    values: dict = {"response": f"Keep going, says {model}! «ünïcode», \"quotes\", commas, new\nline",
                    "latency_s": 0.731, "ttft_s": 0.052, "input_tokens": 143, "output_tokens": 37, "started_at": NOW,
                    "source": "shadow", "usage_source": "backend"}
    values.update(fields)
    return CallRecord(model=model, **values)


def rows() -> list[ShadowExportRow]:
    request = {"user_id": "9f2c", "today": "2026-11-22", "goals": ["Ship, the beta", "Sleep"], "rituals": []}
    return [
        ShadowExportRow(pair_id="p1", request_id="r1", created_at=NOW, user_id="9f2c", request=request,
                        prompt="Write a pep talk.\nWith lines.",
                        primary=record("embedded:smollm2-135m", cache_hit=True),
                        candidates=[record("openai:gpt-4"), record("ollama:starling-lm:7b", error="TimeoutError: 5 s",
                                                                   response=None, output_tokens=0,
                                                                   usage_source="counted")]),
        ShadowExportRow(pair_id="p2", request_id="r1", created_at=NOW + dt.timedelta(seconds=1), user_id="", request={},
                        prompt="p", primary=record("embedded:smollm2-135m", response="", ttft_s=None),
                        candidates=[record("openai:gpt-4", error="RuntimeError: x", response="partial")]),
        ShadowExportRow(pair_id="p3", request_id="r3", created_at=NOW, user_id="u", request={"a": 1}, prompt="q",
                        primary=record("openai:gpt-4", error="BackendUnavailable: 503", response=None)),
    ]


@pytest.mark.parametrize("export_format", EXPORT_FORMATS)
def test_every_format_round_trips(tmp_path: Path, export_format: str) -> None:
    path = tmp_path / f"shadow.{export_format}"
    assert write_shadow_export(rows(), path) == 3
    assert [row.model_dump() for row in load_shadow_export(path)] == [row.model_dump() for row in rows()]


def test_an_empty_export_round_trips(tmp_path: Path) -> None:
    for export_format in EXPORT_FORMATS:
        path = tmp_path / f"empty.{export_format}"
        assert write_shadow_export([], path) == 0
        assert load_shadow_export(path) == []


def test_pairs_become_dataset_items_with_the_primary_as_reference() -> None:
    items = to_dataset_items(rows())
    assert items == [DatasetItem(prompt_id="p1", prompt="Write a pep talk.\nWith lines.",
                                 responses={"embedded:smollm2-135m": rows()[0].primary.response,
                                            "openai:gpt-4": rows()[0].candidates[0].response},
                                 reference_model="embedded:smollm2-135m", request=rows()[0].request)]
    same_model = rows()[0].model_copy(update={"candidates": [record("embedded:smollm2-135m", response="again")]})
    assert to_dataset_items([same_model])[0].responses["embedded:smollm2-135m#shadow"] == "again"


def test_unreadable_files_raise_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ShadowExportError, match="unknown shadow export format"):
        load_shadow_export(tmp_path / "shadow.xlsx")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"request_id": "r1"}\n')
    with pytest.raises(ShadowExportError, match="broken.jsonl"):
        load_shadow_export(broken)
    missing_column = tmp_path / "broken.csv"
    missing_column.write_text("pair_id,primary_model\np1,embedded:x\n")
    with pytest.raises(ShadowExportError):
        load_shadow_export(missing_column)
