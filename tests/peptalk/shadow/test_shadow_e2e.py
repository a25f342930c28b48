"""Real traffic end to end: the app on uvicorn serves the embedded model and mirrors each request to the
llama.cpp OpenAI-protocol server (and the Ollama double); the pairs land in the log with real token counts."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from peptalk.db import sqlite_url
from peptalk.shadow import SqlShadowStore
from tests.conftest import ARTIFACTS, OLLAMA_TAG, OPENAI_ALIAS
from tests.helpers import free_port, python, running
from tests.peptalk.shadow.helpers import REQUEST
from tests.test_langserve_app import sse_events

PRIMARY = "embedded:smollm2-135m"
CANDIDATES = [f"openai:{OPENAI_ALIAS}", f"ollama:{OLLAMA_TAG}"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_requests_over_http_are_mirrored_to_real_candidates(openai_server: str, ollama_double: str,
                                                            tmp_path: Path) -> None:
    database = tmp_path / "peptalk.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"PEPTALK_BACKENDS": "embedded,openai,ollama", "PEPTALK_OPENAI_BASE_URL": openai_server,
           "PEPTALK_OPENAI_API_KEY": "test-key", "PEPTALK_OPENAI_MODELS": OPENAI_ALIAS,
           "PEPTALK_OLLAMA_BASE_URL": ollama_double, "PEPTALK_OLLAMA_MODELS": OLLAMA_TAG, "PEPTALK_MAX_TOKENS": "12",
           "PEPTALK_DATABASE_URL": sqlite_url(database),
           "PEPTALK_SHADOW_CANDIDATES": ",".join(CANDIDATES),
           "PEPTALK_SHADOW_USER_ID_SALT": "pepper", "PEPTALK_SHADOW_TIMEOUT_S": "240",
           "PEPTALK_SHADOW_DRAIN_TIMEOUT_S": "400",
           "PEPTALK_DATA_DIR": str(tmp_path / "data")}  # a fresh semantic cache: no hit left by an earlier run
    cmd = [python(), "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port)]
    answers = []
    with running(cmd, f"{url}/readyz", log=ARTIFACTS / "shadow-e2e.log", env=env, timeout_s=120) as process:
        with httpx.Client(timeout=240) as client:
            response = client.post(f"{url}/peptalk/invoke", json={"input": REQUEST | {"user_id": "ada"}})
            assert response.status_code == 200
            answers.append(response.json()["output"])
            stream = client.post(f"{url}/peptalk/stream", json={"input": REQUEST | {"user_id": "grace"}})
            assert stream.status_code == 200
            chunks = [json.loads(data) for name, data in sse_events(stream.text) if name == "data"]
            answers.append({"model": chunks[0]["model"], "text": "".join(chunk.get("text", "") for chunk in chunks)})
        # SIGTERM right after the answers: the app drains the shadow queue and commits before it exits.
        process.terminate()
        assert process.wait(timeout=450) in (0, -15)  # uvicorn re-raises SIGTERM once shut down
    assert all(answer["model"] == PRIMARY and answer["text"].strip() for answer in answers)

    store = SqlShadowStore.from_url(sqlite_url(database))
    rows = sorted(store.read(), key=lambda row: row.created_at)
    store.close()
    assert len(rows) == 2
    for row, answer in zip(rows, answers, strict=True):
        assert len(row.user_id) == 64 and row.user_id not in ("ada", "grace")
        assert row.request["goals"] == REQUEST["goals"] and "Ship the beta" in row.prompt
        assert row.primary.model == PRIMARY and row.primary.response == answer["text"]
        assert row.primary.usage_source == "backend" and row.primary.input_tokens > 20
        assert 0 < row.primary.output_tokens <= 12 and row.primary.cache_hit is False
        assert 0 < row.primary.ttft_s < row.primary.latency_s
        openai, ollama = row.candidates
        assert (openai.model, ollama.model) == tuple(CANDIDATES)
        for candidate in (openai, ollama):
            assert candidate.error is None and candidate.response and candidate.response.strip()
            assert candidate.output_tokens and candidate.input_tokens and 0 < candidate.ttft_s < candidate.latency_s
        # Ollama reports prompt_eval_count/eval_count, which ChatOllama maps into usage_metadata.
        assert ollama.usage_source == "backend" and ollama.output_tokens <= 12
