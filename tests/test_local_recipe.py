"""docs/local.md runs as written: its shell blocks, in order, against the real servers they start.

The README's first request runs too, against the same server, right after the servers are up.

The only rewrites are the ones a test needs on a shared machine: `.venv/bin/` becomes this interpreter's
folder, the fixed ports become free ones, and `var/` becomes a temporary folder (and with it the data folder,
`var` by default). No `PEPTALK_*` setting is added: a setting the recipe needs is on the page.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
RECIPE = ROOT / "docs" / "local.md"
README = ROOT / "README.md"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)


def recipe_blocks(path: Path = RECIPE) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def runnable(blocks: list[str], *, tmp: Path) -> str:
    script = "\n".join(blocks)
    script = script.replace(".venv/bin/", f"{Path(sys.executable).parent}/")
    for port in ("8000", "8001", "8080"):
        script = re.sub(rf"\b{port}\b", str(free_port()), script)
    script = re.sub(r"(?<![\w/.-])var/", f"{tmp}/var/", script)
    script = re.sub(r"(?<![\w/.-])var(?=\s)", f"{tmp}/var", script)
    preamble = ("set -euo pipefail -x\nPS4='+ $(date +%T) '\n"  # each command with its time, for a failure's log
                "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n")
    return preamble + script


def readme_requests() -> list[str]:
    """The README's shell blocks that call the running service."""
    return [block for block in recipe_blocks(README) if "curl" in block and "127.0.0.1:8000" in block]


def test_the_recipe_has_every_step() -> None:
    script = "\n".join(recipe_blocks())
    for command in ("llama_cpp.server", "peptalk serve", "/peptalk/invoke", "/peptalk/stream", "eval generate",
                    "eval run", "eval report", "rate serve", "shadow export", "loadtest run", "cost api"):
        assert command in script, command
    assert "--interrupt_requests False" in script  # the stand-in queues requests instead of cutting answers off
    assert "var/eval/dataset.jsonl" in script.split("rate serve", 1)[1]  # rates the file the recipe wrote


def test_the_local_recipe_runs_as_written(tmp_path: Path) -> None:
    servers, *rest = recipe_blocks()
    assert readme_requests(), "the README's first request is missing"
    script = runnable([servers, *readme_requests(), *rest], tmp=tmp_path)
    # This worktree's code in the servers the script starts; the data folder follows the `var/` rewrite.
    env = {**{key: value for key, value in os.environ.items() if not key.startswith("PEPTALK_")},
           "PYTHONPATH": str(ROOT), "PEPTALK_DATA_DIR": str(tmp_path / "var")}
    process = subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=1700)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail("the recipe did not finish:\n" + output[-6000:])
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    logs = "".join(f"\n--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
                   for log in sorted((tmp_path / "var").glob("*.log")))
    assert process.returncode == 0, output[-8000:] + logs
    assert '"model":"embedded:smollm2-135m"' in output.replace(" ", "")  # the invoke
    assert '"model":"openai:gpt-4"' in output.replace(" ", "")  # the pinned stream's first chunk
    assert '"usage_source":"counted"' in output.replace(" ", "")  # its last chunk: usage, counted by peptalk
    assert re.search(r"generating: \d+/4 done, .* elapsed, about .* left", output)  # eval generate's progress
    assert "peptalk_requests_total{" in output
    assert (tmp_path / "var" / "shadow.jsonl").read_text().strip()  # the mirrored requests, exported
    assert (tmp_path / "var" / "eval" / "run1" / "calls.jsonl").is_file()
    report = (tmp_path / "var" / "eval" / "report" / "index.html").read_text()
    assert "Summary" in report and "Quality source:" in report
    assert (tmp_path / "var" / "eval" / "ratings.csv").is_file()
    assert list((tmp_path / "var" / "loadtest").glob("*.csv"))
    assert "results:" in output and "no request finished" not in output  # the load test measured answers
