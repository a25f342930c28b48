"""Export: the rows and columns the agreement analysis reads, as CSV and JSONL, through the CLI too."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from evaluation.rating import RatingStore, ResponseScore, Submission, export_rows, write_export
from evaluation.rating.store import TIE
from peptalk.db import make_engine, sqlite_url
from tests.helpers import ROOT

CRITERIA = ["clarity", "overall"]


def fill(store: RatingStore) -> None:
    store.save(Submission("ann", "p0", "p0", "score", "n" * 16, (ResponseScore("m1", 7, {}, "nice"),
                                                                   ResponseScore("m2", 2))))
    store.save(Submission("ann", "p1|m1|m2", "p1", "pairwise", "o" * 16,
                          (ResponseScore("m1", 8, {"clarity": 9, "overall": 8}), ResponseScore("m2", 5, {
                              "clarity": 4, "overall": 5})), preference="m1"))
    store.save(Submission("bob", "p1|m1|m2", "p1", "pairwise", "p" * 16,
                          (ResponseScore("m1", 6, {"clarity": 6, "overall": 6}), ResponseScore("m2", 6, {
                              "clarity": 6, "overall": 6})), preference=TIE))


def test_rows_carry_scores_preferences_and_criteria(tmp_path: Path) -> None:
    store = RatingStore(make_engine(sqlite_url(tmp_path / "peptalk.db")))
    store.migrate()
    fill(store)
    rows = export_rows(store.score_rows(), CRITERIA)
    assert [(row["prompt_id"], row["model"], row["rater"], row["score"]) for row in rows] == [
        ("p0", "m1", "ann", 7.0), ("p0", "m2", "ann", 2.0),
        ("p1", "m1", "ann", 8.0), ("p1", "m2", "ann", 5.0), ("p1", "m1", "bob", 6.0), ("p1", "m2", "bob", 6.0)]
    assert rows[0]["comment"] == "nice" and rows[0]["preference"] is None and rows[0]["clarity"] is None
    assert [(row["preference"], row["opponent"], row["clarity"]) for row in rows[2:4]] == [
        ("win", "m2", 9), ("loss", "m1", 4)]
    assert {row["preference"] for row in rows[4:]} == {"tie"}

    write_export(rows, tmp_path / "r.csv", "csv", CRITERIA)
    with (tmp_path / "r.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0])[:4] == ["prompt_id", "model", "rater", "score"]
    assert {"comment", "clarity", "overall"} <= set(table[0]) and len(table) == 6
    write_export(rows, tmp_path / "r.jsonl", "jsonl", CRITERIA)
    assert [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()] == rows


def test_cli_export_writes_the_file_and_refuses_an_unknown_format(tmp_path: Path) -> None:
    store = RatingStore(make_engine(sqlite_url(tmp_path / "var" / "peptalk.db")))
    store.migrate()
    fill(store)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PEPTALK_DATA_DIR": str(tmp_path / "var")}
    run = [sys.executable, "-m", "peptalk.cli", "rate", "export"]
    done = subprocess.run([*run, str(tmp_path / "out.jsonl")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "wrote 6 rows" in done.stdout
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 6
    bad = subprocess.run([*run, str(tmp_path / "out.xls")], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "csv or jsonl" in bad.stderr
