"""bench/cache_quality.py at a small size, as a subprocess with real MiniLM: the per-source table (per pair and per
request) and the targets it checks."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT

SOURCES = ("generated", "mnli-dev", "hans-mnli-contradicting", "sick")


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
