"""`peptalk rate`: bad input exits 2 with a clear message; rater tokens are issued and listed."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from evaluation.settings import EvalSettings
from tests.helpers import ROOT


def rate(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "PEPTALK_DATA_DIR": str(tmp_path / "var"), **env}
    return subprocess.run([sys.executable, "-m", "peptalk.cli", "rate", *args], env=full_env, capture_output=True,
                          text=True, timeout=60)


def test_serve_refuses_a_missing_or_bad_dataset_and_a_bad_mode(tmp_path: Path) -> None:
    missing = rate(tmp_path, "serve", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    (tmp_path / "bad.jsonl").write_text('{"prompt_id": "p"}\n')
    bad = rate(tmp_path, "serve", str(tmp_path / "bad.jsonl"))
    assert bad.returncode == 2 and "bad.jsonl:1" in bad.stderr
    mode = rate(tmp_path, "serve", str(tmp_path / "bad.jsonl"), "--mode", "stars")
    assert mode.returncode == 2 and "--mode" in mode.stderr
    (tmp_path / "one.jsonl").write_text('{"prompt_id": "p", "prompt": "x", "responses": {"m": "hi"}, '
                                        '"reference_model": "m"}\n')
    lonely = rate(tmp_path, "serve", str(tmp_path / "one.jsonl"), "--mode", "pairwise")
    assert lonely.returncode == 2 and "pairwise" in lonely.stderr
    config = rate(tmp_path, "serve", str(tmp_path / "one.jsonl"), PEPTALK_RATING_CRITERIA="Bad Name")
    assert config.returncode == 2 and "invalid configuration" in config.stderr


def test_raters_add_and_list(tmp_path: Path) -> None:
    added = rate(tmp_path, "raters", "add", "ann", "bob")
    assert added.returncode == 0, added.stderr
    tokens = dict(line.split("\t") for line in added.stdout.splitlines())
    assert set(tokens) == {"ann", "bob"} and tokens["ann"] != tokens["bob"] and len(tokens["ann"]) >= 20
    listed = rate(tmp_path, "raters", "list")
    assert listed.stdout.splitlines() == ["ann\ttoken", "bob\ttoken"]
    with sqlite3.connect(tmp_path / "var" / "peptalk.db") as connection:
        kept = dict(connection.execute("SELECT name, token_hash FROM rating_raters").fetchall())
    assert kept["ann"] == hashlib.sha256(tokens["ann"].encode()).hexdigest()  # only the hash is kept
    bad = rate(tmp_path, "raters", "add", "no spaces")
    assert bad.returncode == 2 and "rater name" in bad.stderr


@pytest.mark.parametrize("criteria", ["score", "Clarity", "a,a", "rater"])
def test_criteria_must_be_distinct_slugs_that_do_not_clash_with_export_columns(criteria: str) -> None:
    with pytest.raises(ValidationError):
        EvalSettings(_env_file=None, rating_criteria=criteria)
