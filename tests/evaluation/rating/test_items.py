"""Reading what to rate: dataset JSONL, shadow export JSONL, and the units of each mode."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from evaluation.rating import RatingDataError, build_units, load_items, parse_items
from evaluation.records import CallRecord, ShadowExportRow
from tests.evaluation.rating.conftest import MODELS, make_items, write_dataset


def test_dataset_jsonl_round_trips(tmp_path: Path) -> None:
    items = make_items(3)
    assert load_items(write_dataset(tmp_path / "d.jsonl", items)) == items


def test_shadow_export_rows_become_items_without_failed_candidates() -> None:
    row = ShadowExportRow(request_id="r1", created_at=dt.datetime(2026, 11, 22, tzinfo=dt.UTC), user_id="u",
                          request={}, prompt="Cheer me up",
                          primary=CallRecord(model=MODELS[0], response="Primary says hi"),
                          candidates=[CallRecord(model=MODELS[1], response="Candidate says hi"),
                                      CallRecord(model=MODELS[2], error="timeout")])
    [item] = parse_items([row.model_dump_json()])
    assert item.prompt_id == "r1" and item.reference_model == MODELS[0]
    assert item.responses == {MODELS[0]: "Primary says hi", MODELS[1]: "Candidate says hi"}


@pytest.mark.parametrize(("lines", "problem"), [
    (["{not json"], ":1: not a dataset item"),
    (['{"prompt_id": "p"}'], ":1: not a dataset item"),
    (["[1, 2]"], "expected a JSON object"),
    ([json.dumps({"prompt_id": "p", "prompt": "x", "responses": {}, "reference_model": "m"})] * 2, "appears twice"),
])
def test_bad_lines_name_their_line(lines: list[str], problem: str) -> None:
    with pytest.raises(RatingDataError, match=problem):
        parse_items(lines)


def test_missing_or_empty_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(RatingDataError, match="cannot read"):
        load_items(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(RatingDataError, match="no items"):
        load_items(tmp_path / "empty.jsonl")


def test_units_score_mode_is_one_per_item_and_pairwise_pits_the_reference_against_each_model() -> None:
    items = make_items(2)
    assert [unit.unit_id for unit in build_units(items, "score")] == ["p0", "p1"]
    pairs = build_units(items, "pairwise")
    assert len(pairs) == 4
    assert all(MODELS[0] in unit.models and len(unit.models) == 2 for unit in pairs)
    no_reference = [type(items[0])("q", "x", dict.fromkeys(MODELS, "t"), reference_model=None)]
    assert len(build_units(no_reference, "pairwise")) == 3  # every pair
