"""A save killed with SIGKILL half-way leaves the previous generation loadable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from peptalk.cache import SnapshotDir
from tests.helpers import ROOT
from tests.peptalk.cache.test_semantic_cache import BASE, lookup, make_cache, put


async def test_a_save_killed_mid_way_keeps_the_previous_copy(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-m", "tests.peptalk.cache.save_then_hang", str(tmp_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        lines = []
        assert child.stdout is not None
        for line in child.stdout:  # bounded: the child hangs at most 600 s, pytest's timeout is 300 s
            lines.append(line.strip())
            if line.startswith("MID-SAVE"):
                break
        assert lines[-1] == "MID-SAVE", lines
        first = lines[0].split()[1]
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert any(path.name.endswith(".tmp") for path in tmp_path.iterdir())  # the interrupted generation
    assert SnapshotDir(tmp_path).current() == first

    reloaded = make_cache(tmp_path)
    await reloaded.load()
    assert len(reloaded) == 1
    found = await lookup(reloaded, BASE)
    assert found is not None and found.entry.text == "first generation"

    await put(reloaded, BASE | {"user_id": "after"}, "after the crash")
    assert await reloaded.save() not in (None, first)
    assert not any(path.name.endswith(".tmp") for path in tmp_path.iterdir())
