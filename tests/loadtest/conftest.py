"""An instant OpenAI-protocol upstream, so a load-test run measures the service and not the model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ARTIFACTS
from tests.helpers import free_port, python, running


@pytest.fixture(scope="session")
def canned_openai() -> Iterator[str]:
    port = free_port()
    cmd = [python(), "-m", "tests.doubles.openai_canned", "--port", str(port)]
    with running(cmd, f"http://127.0.0.1:{port}/v1/models", log=ARTIFACTS / "openai-canned.log"):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def canned_app_env(canned_openai: str) -> dict[str, str]:
    """Settings for the app under load: GPT-4 through the canned upstream."""
    return {"PEPTALK_BACKENDS": "openai", "PEPTALK_DEFAULT_MODEL": "openai:gpt-4", "PEPTALK_OPENAI_MODELS": "gpt-4",
            "PEPTALK_OPENAI_BASE_URL": canned_openai, "PEPTALK_OPENAI_API_KEY": "test-key"}
