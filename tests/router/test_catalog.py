"""The model catalog matches the SLaM study's Table I as printed (data/slam-table1.tsv), row for row."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from router.catalog import find, load_catalog
from tests.helpers import ROOT

TABLE = ROOT / "data" / "slam-table1.tsv"
# The team's copy: in or beside the clone (CI), or beside the main checkout of a worktree.
SHARED = [folder / "shared" / "slam-table1.tsv" for folder in (ROOT, ROOT.parent, ROOT.parent.parent)]


def _table_rows(path: Path) -> list[list[str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    header, *rows = list(csv.reader(lines, delimiter="\t"))
    assert header == ["Model", "# bits", "# Params (B)", "Model Size (GB)", "Memory Usage (MB)"]
    return rows


def test_the_committed_table_is_the_shared_one() -> None:
    shared = next((path for path in SHARED if path.is_file()), None)
    if shared is None:
        pytest.skip("no shared/slam-table1.tsv in or beside this clone")
    assert TABLE.read_text(encoding="utf-8") == shared.read_text(encoding="utf-8")


def test_the_catalog_holds_table_one_as_printed() -> None:
    rows = _table_rows(TABLE)
    assert len(rows) == 28  # as printed, although the paper's text says 29 variants
    study = [entry for entry in load_catalog() if entry.in_study]
    assert [entry.tag for entry in study] == [row[0] for row in rows]
    for entry, (tag, bits, params, size, memory) in zip(study, rows, strict=True):
        assert (entry.bits, entry.params_b, entry.size_gb, entry.memory_mb) == (
            int(bits), float(params), float(size), int(memory)), tag
        assert entry.backend == "ollama" and entry.family == tag.partition(":")[0]


def test_the_printed_oddities_carry_a_note_and_the_others_none() -> None:
    noted = {entry.tag for entry in load_catalog() if entry.in_study and entry.notes}
    assert noted == {"stablelm-zephyr:3b-q2_K_L", "starling-lm:7b-alpha-q3_K_L", "vicuna:7b-q2_K_L"}


def test_find_takes_a_tag_with_or_without_latest() -> None:
    assert find("orca-mini:3b") is not None and find("orca-mini:3b").memory_mb == 3089  # type: ignore[union-attr]
    assert find("smollm2-135m") is not None and find("nope:1b") is None
