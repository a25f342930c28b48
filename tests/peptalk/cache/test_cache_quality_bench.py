"""bench/cache_quality.py at a small size, as a subprocess with real MiniLM: the per-source table (per pair and per
request) and the targets it checks; a local (uncommitted) pairs file as its own row, outside the committed totals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import cache_quality
from tests.helpers import ROOT

SOURCES = ("generated", "mnli-dev", "hans-mnli-contradicting")
EXTERNAL = ROOT / "data" / "cache_pairs_external.jsonl"


def test_the_quality_bench_prints_a_table_per_source_with_no_must_miss_served() -> None:
    env = os.environ | {"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "bench/cache_quality.py", "--limit", "3"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert any("req.served" in line for line in lines)
    for source in SOURCES:
        rows = [line.split() for line in lines if line.startswith(f"{source} ")]
        miss = next(row for row in rows if row[1] == "must-miss" and row[2] == "ALL")
        assert int(miss[3]) >= 3 and miss[4] == "0" and miss[7] == "0", miss  # pairs, served, served per request
        assert any(row[1] == "same-answer-ok" for row in rows)
        assert f"MET  {source}: 0 must-miss served per pair and per request" in done.stdout
    assert "targets:" in done.stdout and "external must-miss:" in done.stdout


def test_no_sick_pairs_are_committed_and_the_local_file_is_ignored_by_git() -> None:
    sources = {json.loads(line)["source"] for line in EXTERNAL.read_text(encoding="utf-8").splitlines() if line}
    assert sources == {"mnli-dev", "hans-mnli-contradicting"}  # SICK is CC BY-NC-SA 3.0: never in the repository
    ignored = subprocess.run(["git", "check-ignore", "-q", str(cache_quality.LOCAL_PAIRS)], cwd=ROOT, check=False)
    assert ignored.returncode == 0


def rows_of(output: str, source: str) -> dict[tuple[str, str], list[str]]:
    return {(row[1], row[2]): row for row in (line.split() for line in output.splitlines()) if row and row[0] == source}


def test_a_local_pairs_file_is_its_own_row_and_stays_out_of_the_committed_totals(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    lines = EXTERNAL.read_text(encoding="utf-8").splitlines()
    local = tmp_path / "cache_pairs_external_sick.local.jsonl"
    local.write_text("".join(json.dumps(json.loads(line) | {"source": "sick"}) + "\n" for line in lines[:5]),
                     encoding="utf-8")

    assert cache_quality.main(["--pairs", str(EXTERNAL), "--no-requests"]) == 0
    alone = capsys.readouterr().out
    monkeypatch.setattr(cache_quality, "LOCAL_PAIRS", local)
    assert cache_quality.default_pairs()[-1] == local
    assert cache_quality.main(["--pairs", str(EXTERNAL), str(local), "--no-requests"]) == 0
    both = capsys.readouterr().out

    assert rows_of(both, "sick")[("must-miss", "ALL")][3] == "5" and "MET  sick: 0 must-miss" in both
    assert f"local (not committed, not in the external and ALL rows): {local.name}" in both
    for total in ("external", "ALL"):
        assert rows_of(both, total) == rows_of(alone, total)
    monkeypatch.setattr(cache_quality, "LOCAL_PAIRS", tmp_path / "absent.local.jsonl")
    assert cache_quality.default_pairs() == cache_quality.PAIRS


def test_each_pair_counts_once_in_the_all_row() -> None:
    assert cache_quality.rows({"source": "generated", "local": False}) == ("generated", "ALL")
    assert cache_quality.rows({"source": "mnli-dev", "local": False}) == ("mnli-dev", "external", "ALL")
    assert cache_quality.rows({"source": "sick", "local": True}) == ("sick",)
