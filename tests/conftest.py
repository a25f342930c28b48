"""Session fixtures: the shipped GGUF, llama_cpp.server behind the OpenAI-rules proxy, the Ollama double, settings."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from peptalk.settings import Settings
from tests import postgres  # reads PEPTALK_TEST_POSTGRES_URL at import, before the PEPTALK_* sweep below
from tests import redis_server  # issue 19: reads PEPTALK_TEST_REDIS_URL at import, likewise
from tests.helpers import ROOT, free_port, python, running

ARTIFACTS = ROOT / "test-artifacts"
OPENAI_ALIAS = "gpt-4"
OLLAMA_TAG = "starling-lm:7b"
TEST_MAX_TOKENS = 24  # quality is not under test; keep generations short

# scripts/test.sh sets this: there a skipped test is a failure (a missing service, a missing browser ...).
REQUIRE_SERVICES = os.environ.get("PEPTALK_TEST_REQUIRE_SERVICES", "").lower() in ("1", "true", "yes")

for _name in [name for name in os.environ if name.startswith("PEPTALK_")]:
    del os.environ[_name]  # tests build their settings explicitly
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    from router.backends.embedded_runtime import default_gguf_path

    path = default_gguf_path()
    assert path.is_file(), f"the SmolLM2 GGUF is missing at {path}"
    return path


@pytest.fixture(scope="session")
def llama_cpp_server(gguf_path: Path) -> Iterator[str]:
    """`python -m llama_cpp.server` on 127.0.0.1 (lax: it accepts what OpenAI rejects); yields its `/v1` base URL."""
    port = free_port()
    cmd = [python(), "-m", "llama_cpp.server", "--model", str(gguf_path), "--model_alias", OPENAI_ALIAS,
           "--host", "127.0.0.1", "--port", str(port), "--n_threads", "2", "--n_ctx", "2048",
           "--interrupt_requests", "False"]  # queue concurrent requests instead of cutting the running one off
    with running(cmd, f"http://127.0.0.1:{port}/v1/models", log=ARTIFACTS / "openai-server.log"):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="session")
def openai_server(llama_cpp_server: str) -> Iterator[str]:
    """The GPT-4 stand-in: llama_cpp.server behind a proxy that enforces OpenAI's request rules; its `/v1` URL."""
    port = free_port()
    cmd = [python(), "-m", "tests.doubles.openai_proxy", "--port", str(port), "--upstream", llama_cpp_server,
           "--model", OPENAI_ALIAS]
    with running(cmd, f"http://127.0.0.1:{port}/openapi.json", log=ARTIFACTS / "openai-proxy.log"):
        yield f"http://127.0.0.1:{port}/v1"


def start_ollama_double(gguf_path: Path, *, tags: list[str], pullable: list[str] = (), name: str = "ollama-double",
                        extra_args: list[str] = ()):
    port = free_port()
    cmd = [python(), "-m", "tests.doubles.ollama_server", "--port", str(port), "--model-path", str(gguf_path),
           *extra_args]
    for tag in tags:
        cmd += ["--tag", tag]
    for tag in pullable:
        cmd += ["--pullable", tag]
    return port, running(cmd, f"http://127.0.0.1:{port}/api/version", log=ARTIFACTS / f"{name}-{port}.log")


@pytest.fixture(scope="session")
def ollama_double(gguf_path: Path) -> Iterator[str]:
    """The Ollama-protocol double serving `starling-lm:7b` (SmolLM2 underneath); yields its base URL."""
    port, server = start_ollama_double(gguf_path, tags=[OLLAMA_TAG], pullable=["orca-mini:3b"])
    with server:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test: embedded only, short generations, nothing read from the environment."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"max_tokens": TEST_MAX_TOKENS, "log_level": "WARNING"}
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return build


@pytest.fixture
def all_backend_settings(make_settings: Callable[..., Settings], openai_server: str, ollama_double: str) -> Settings:
    return make_settings(
        backends=["embedded", "openai", "ollama"],
        openai_base_url=openai_server,
        openai_api_key="test-key",
        openai_models=[OPENAI_ALIAS],
        ollama_base_url=ollama_double,
        ollama_models=[OLLAMA_TAG],
    )


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test PostgreSQL server (`scripts/services/postgres.sh`); with CI=true, its absence fails the test."""
    return postgres.server_url()


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    with postgres.throwaway_database(postgres_url) as url:
        yield url


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under the test command, a skip is reported as a failure: nothing it promises may go unchecked."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_SERVICES and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped under scripts/test.sh, which allows no skips: {reason}"

@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis (`scripts/services/redis.sh`); its absence fails the test (issue 19)."""
    return redis_server.server_url()
