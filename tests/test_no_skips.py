"""Under the test command (`scripts/test.sh`), a skipped test fails: a missing service cannot pass silently."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, python


@pytest.mark.parametrize(("require", "returncode"), [("1", 1), ("", 0)])
def test_a_skip_fails_only_under_the_test_command(tmp_path: Path, require: str, returncode: int) -> None:
    probe = ROOT / "tests" / f"test_zz_skip_probe_{os.getpid()}_{require or 'off'}.py"
    probe.write_text("import pytest\n\ndef test_needs_a_service():\n    pytest.skip('the service is missing')\n")
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PEPTALK_TEST_REQUIRE_SERVICES": require}
        result = subprocess.run([python(), "-m", "pytest", str(probe), "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=120)
    finally:
        probe.unlink()
    assert result.returncode == returncode, result.stdout + result.stderr
    if require:
        assert "allows no skips: Skipped: the service is missing" in result.stdout


def test_the_test_command_requires_services() -> None:
    assert "export PEPTALK_TEST_REQUIRE_SERVICES=1" in (ROOT / "scripts" / "test.sh").read_text()
