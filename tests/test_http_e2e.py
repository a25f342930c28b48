"""The app on a real uvicorn on 127.0.0.1, called with LangServe's RemoteRunnable on every backend."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, OLLAMA_TAG, OPENAI_ALIAS
from tests.helpers import free_port, python, running

REQUEST = {
    "user_id": "ada",
    "today": "2026-11-22",
    "last_login": "2026-11-20",
    "completed_tasks": ["Paid the electricity bill"],
    "focused_tasks": ["Prepare the sprint demo", "Book a dentist appointment"],
    "rituals": ["Ten minutes of stretching"],
    "goals": ["Finish the onboarding flow"],
}
MODELS = ["embedded:smollm2-135m", f"openai:{OPENAI_ALIAS}", f"ollama:{OLLAMA_TAG}"]


def app_env(openai_server: str, ollama_double: str, **extra: str) -> dict[str, str]:
    return {
        "PEPTALK_BACKENDS": "embedded,openai,ollama",
        "PEPTALK_OPENAI_BASE_URL": openai_server,
        "PEPTALK_OPENAI_API_KEY": "test-key",
        "PEPTALK_OPENAI_MODELS": OPENAI_ALIAS,
        "PEPTALK_OLLAMA_BASE_URL": ollama_double,
        "PEPTALK_OLLAMA_MODELS": OLLAMA_TAG,
        "PEPTALK_MAX_TOKENS": "24",
        # The servers queue requests one at a time on a shared 2-core machine: allow for slow, not broken.
        "PEPTALK_REQUEST_TIMEOUT_S": "600",
        "PEPTALK_FIRST_TOKEN_TIMEOUT_S": "600",
        "PEPTALK_REQUEST_DEADLINE_S": "900",
        **extra,
    }


@pytest.fixture(scope="module")
def app_url(openai_server: str, ollama_double: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    cmd = [python(), "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port)]
    data_dir = str(tmp_path_factory.mktemp("e2e-data"))
    with running(cmd, f"http://127.0.0.1:{port}/healthz", log=ARTIFACTS / "uvicorn-e2e.log",
                 env=app_env(openai_server, ollama_double, PEPTALK_DATA_DIR=data_dir)):
        yield f"http://127.0.0.1:{port}"


def remote(app_url: str, model: str):
    from langserve import RemoteRunnable

    return RemoteRunnable(f"{app_url}/peptalk/", timeout=120).with_config(configurable={"model": model})


@pytest.mark.parametrize("model", MODELS)
def test_invoke_on_each_backend(app_url: str, model: str) -> None:
    output = remote(app_url, model).invoke(REQUEST)
    assert output["text"].strip()
    assert output["model"] == model


@pytest.mark.parametrize("model", MODELS)
def test_batch_on_each_backend(app_url: str, model: str) -> None:
    outputs = remote(app_url, model).batch([REQUEST, REQUEST | {"user_id": "grace"}])
    assert [output["model"] for output in outputs] == [model, model]
    assert all(output["text"].strip() for output in outputs)


@pytest.mark.parametrize("model", MODELS)
async def test_stream_on_each_backend(app_url: str, model: str) -> None:
    chunks = [chunk async for chunk in remote(app_url, model).astream(REQUEST)]
    assert chunks[0]["model"] == model
    assert sum(1 for chunk in chunks if chunk.get("text")) >= 2
    assert "".join(chunk.get("text", "") for chunk in chunks).strip()


def test_readyz_and_models_over_http(app_url: str) -> None:
    import httpx

    ready = httpx.get(f"{app_url}/readyz").json()
    assert all(backend["reachable"] for backend in ready["backends"].values()), ready
    assert httpx.get(f"{app_url}/models").json()["models"] == MODELS


def start_and_expect_failure(env: dict[str, str], log_name: str) -> str:
    port = free_port()
    log = ARTIFACTS / log_name
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [python(), "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)]
    import os

    from tests.helpers import ROOT

    result = subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    log.write_text(result.stdout + result.stderr)
    assert result.returncode != 0
    return result.stdout + result.stderr


def test_startup_fails_clearly_on_missing_model_file(tmp_path: Path) -> None:
    output = start_and_expect_failure({"PEPTALK_EMBEDDED_MODEL_PATH": str(tmp_path / "missing.gguf")},
                                      "startup-missing-model.log")
    assert "embedded model file not found" in output and "missing.gguf" in output


def test_startup_fails_clearly_on_unknown_backend() -> None:
    output = start_and_expect_failure({"PEPTALK_BACKENDS": "embedded,tgi"}, "startup-unknown-backend.log")
    assert "backends" in output and "tgi" in output


def test_cli_serve_reports_config_error_with_exit_2() -> None:
    import os

    from tests.helpers import ROOT

    result = subprocess.run([python(), "-m", "peptalk.cli", "serve"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "PEPTALK_DEFAULT_MODEL": "openai:gpt-4"},
                            timeout=120)
    assert result.returncode == 2
    assert "default model" in result.stderr
