"""`peptalk models list|pull|warmup`, against the Ollama-protocol double (which supports /api/pull)."""

from __future__ import annotations

import json
import os
import subprocess

import httpx
import pytest
from typer.testing import CliRunner

from peptalk.cli import app
from tests.conftest import OLLAMA_TAG
from tests.doubles.faults import closed_port_url
from tests.helpers import ROOT, python

runner = CliRunner()
pytestmark = pytest.mark.timeout(300)


def test_list_shows_the_study_variants_and_the_other_models() -> None:
    result = runner.invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in result.output.splitlines()]
    study = [entry for entry in entries if entry["in_study"]]
    assert len(study) == 28 and len({entry["family"] for entry in study}) == 10
    tags = {entry["tag"] for entry in entries}
    assert {"starling-lm:7b", "mistral:7b-instruct-q2_K", "orca-mini:3b", "stablelm-zephyr:3b", "vicuna:7b-q2_K",
            "zephyr:7b-beta-q3_K_L", "gpt-4", "smollm2-135m"} <= tags
    assert all(entry["bits"] in (2, 3, 4) and entry["memory_mb"] > entry["size_gb"] * 500 for entry in study)
    table = runner.invoke(app, ["models", "list", "--family", "vicuna"])
    assert table.exit_code == 0 and "vicuna:7b-q2_K_L*" in table.output and "zephyr" not in table.output


def test_list_rejects_an_unknown_family() -> None:
    result = runner.invoke(app, ["models", "list", "--family", "gpt-5"])
    assert result.exit_code == 2 and "families" in result.output


def test_pull_streams_progress_and_installs_the_model(ollama_double: str) -> None:
    result = runner.invoke(app, ["models", "pull", "orca-mini:3b", "--ollama-url", ollama_double])
    assert result.exit_code == 0, result.output
    assert "orca-mini:3b" in result.output and "success" in result.output
    assert "MB" in result.output  # the download column of the progress bar
    installed = {entry["name"] for entry in httpx.get(f"{ollama_double}/api/tags").json()["models"]}
    assert "orca-mini:3b" in installed


def test_pull_of_a_tag_the_registry_lacks_fails_clearly(ollama_double: str) -> None:
    result = runner.invoke(app, ["models", "pull", "nosuchmodel:1b", "--ollama-url", ollama_double])
    assert result.exit_code == 2
    assert "not in the catalog" in result.output and "file does not exist" in result.output


def test_warmup_prints_each_latency(ollama_double: str) -> None:
    result = runner.invoke(app, ["models", "warmup", OLLAMA_TAG, "-n", "2", "--max-tokens", "4",
                                 "--ollama-url", ollama_double])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("request ")]
    assert len(lines) == 2 and all(" ms (load " in line for line in lines)
    assert "warm median" in result.output


def test_warmup_of_a_model_not_pulled_says_how_to_fix_it(ollama_double: str) -> None:
    result = runner.invoke(app, ["models", "warmup", "vicuna:7b-q2_K", "--ollama-url", ollama_double])
    assert result.exit_code == 2 and "peptalk models pull vicuna:7b-q2_K" in result.output


@pytest.mark.parametrize("command", [["pull", "starling-lm:7b"], ["warmup", "starling-lm:7b"]])
def test_unreachable_ollama_is_a_clear_error_with_exit_2(command: list[str]) -> None:
    result = subprocess.run([python(), "-m", "peptalk.cli", "models", *command, "--ollama-url", closed_port_url()],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert "no Ollama server answers" in result.stderr and "Traceback" not in result.stderr
