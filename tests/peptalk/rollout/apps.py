"""Real app processes for the rollout tests: env, start, calls over HTTP, and a judge loop on its own thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from evaluation.rollout.worker import judge_passes
from evaluation.settings import EvalSettings
from peptalk.rollout.store import RolloutStore
from tests.conftest import ARTIFACTS, OLLAMA_TAG, OPENAI_ALIAS
from tests.doubles.judge_openai import JudgeDouble
from tests.helpers import free_port, python, running

ADMIN_KEY = "admin-secret"
REQUEST = {"today": "2026-11-26", "last_login": "2026-11-25", "completed_tasks": ["Paid the electricity bill"],
           "focused_tasks": ["Prepare the sprint demo"], "rituals": ["Stretching"], "goals": ["Ship onboarding"]}


def app_env(*, openai_server: str, ollama_url: str, database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "PEPTALK_BACKENDS": "openai,ollama", "PEPTALK_OPENAI_BASE_URL": openai_server,
        "PEPTALK_OPENAI_API_KEY": "test-key", "PEPTALK_OPENAI_MODELS": OPENAI_ALIAS,
        "PEPTALK_OLLAMA_BASE_URL": ollama_url, "PEPTALK_OLLAMA_MODELS": OLLAMA_TAG,
        "PEPTALK_DEFAULT_MODEL": f"openai:{OPENAI_ALIAS}", "PEPTALK_MAX_TOKENS": "4", "PEPTALK_CACHE_ENABLED": "false",
        "PEPTALK_DATA_DIR": str(data_dir), "PEPTALK_DATABASE_URL": database_url, "PEPTALK_LOG_LEVEL": "WARNING",
        "PEPTALK_RATE_LIMIT_PER_KEY_PER_MINUTE": "0", "PEPTALK_RATE_LIMIT_PER_USER_PER_MINUTE": "0",
        # The model servers queue requests one at a time on a shared 2-core machine: allow for slow, not broken.
        "PEPTALK_REQUEST_TIMEOUT_S": "600", "PEPTALK_FIRST_TOKEN_TIMEOUT_S": "600", "PEPTALK_REQUEST_DEADLINE_S": "900",
        "PEPTALK_SHADOW_TIMEOUT_S": "600",
        "PEPTALK_BREAKER_COOLDOWN_S": "30",
        "PEPTALK_ROLLOUT_ENABLED": "true", "PEPTALK_ROLLOUT_REFRESH_INTERVAL_S": "0.2", "PEPTALK_ADMIN_API_KEYS": ADMIN_KEY,
        "PEPTALK_SHADOW_FLUSH_INTERVAL_S": "0.2", "PEPTALK_SHADOW_BATCH_SIZE": "5",
        **extra,
    }


@contextlib.contextmanager
def app_process(env: dict[str, str], name: str) -> Iterator[str]:
    port = free_port()
    cmd = [python(), "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port)]
    with running(cmd, f"http://127.0.0.1:{port}/healthz", log=ARTIFACTS / f"rollout-{name}.log", env=env):
        yield f"http://127.0.0.1:{port}"


def invoke(client: httpx.Client, url: str, user: str) -> dict[str, Any]:
    """One pep talk for `user`; fails the test on any non-200 answer."""
    response = client.post(f"{url}/peptalk/invoke", json={"input": {**REQUEST, "user_id": user}}, timeout=900)
    assert response.status_code == 200, f"{user}: {response.status_code} {response.text[:300]}"
    return response.json()["output"]


def status(client: httpx.Client, url: str) -> dict[str, Any]:
    response = client.get(f"{url}/rollout/status.json", headers={"X-Admin-Key": ADMIN_KEY}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


class JudgeLoop:
    """`peptalk rollout judge` passes on a thread, against the judge double, until stopped.

    Every pass runs on the thread's one event loop, as `peptalk rollout judge` does: langchain-openai caches its
    HTTP clients per base URL, bound to the loop they were first used on, so a loop per pass would fail the next
    pass's first call ("Event loop is closed") and leave its pair pending.
    """

    def __init__(self, store: RolloutStore, judge: JudgeDouble, *, interval_s: float = 0.3) -> None:
        self.settings = EvalSettings(_env_file=None, backends=["openai"], openai_base_url=judge.base_url,
                                     openai_api_key="k", openai_models=[judge.model],
                                     default_model=f"openai:{judge.model}", log_level="WARNING", retry_attempts=1)
        self.store = store
        self.interval_s = interval_s
        self.judged = 0
        self.failed = 0  # judge calls that failed (their pairs stay pending)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="judge-loop", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._passes())

    async def _passes(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                run = await judge_passes(self.store, once=True, interval_s=0, limit=20, settings=self.settings)
                if run is not None:
                    self.judged += run.judged
                    self.failed += run.failed
            await asyncio.sleep(self.interval_s)

    def __enter__(self) -> JudgeLoop:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)
