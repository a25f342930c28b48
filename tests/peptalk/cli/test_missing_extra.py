"""A command whose extra is not installed says which extra to install and exits 2, instead of a traceback."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT


def test_a_command_without_its_extra_names_the_extra() -> None:
    # Hide scipy as a serving-only install would lack it, then run a command that needs it.
    code = ("import sys; sys.modules['scipy'] = None\n"
            "import peptalk.cli.eval as ev\n"
            "@ev.eval_app.command('needs-scipy')\n"
            "def needs_scipy() -> None:\n"
            "    import scipy.stats  # noqa: F401\n"
            "sys.argv = ['peptalk', 'eval', 'needs-scipy']\n"
            "from peptalk.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            check=False, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2, result.stderr[-2000:]
    assert "the `eval` extra" in result.stderr and "Traceback" not in result.stderr
