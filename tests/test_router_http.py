"""Router faults through the HTTP app: fallback metadata, 503 when all is down, error events, node states."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from langserve_app import create_app
from peptalk.settings import Settings
from tests.conftest import ARTIFACTS
from tests.doubles.faults import TOKENS, FaultServer, closed_port_url
from tests.helpers import GENEROUS_S, ROOT, free_port, python, running
from tests.test_langserve_app import REQUEST, sse_events

pytestmark = pytest.mark.timeout(120)
OLLAMA = "ollama:starling-lm:7b"
OPENAI = "openai:gpt-4"
FAST_YAML = """
fallback_chain: ["ollama:starling-lm:7b", "openai:gpt-4"]
first_token_timeout_s: 0.5
timeout_s: 3
deadline_s: 10
retry: {attempts: 3, backoff_s: 0.05, backoff_max_s: 0.2}
breaker: {failures: 3, cooldown_s: 1.0}
"""


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app behind an in-process client that, like a real server, ends a failed stream instead of raising."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://peptalk.test", timeout=60) as client:
            yield client


def fault_settings(make_settings: Callable[..., Settings], tmp_path: Path, ollama: str, openai: str) -> Settings:
    config = tmp_path / "router.yaml"
    config.write_text(FAST_YAML)
    # The cache would answer repeated requests itself; these tests are about the router below it.
    return make_settings(backends=["ollama", "openai"], default_model=OLLAMA, ollama_base_url=ollama,
                         openai_base_url=f"{openai}/v1", openai_api_key="k", router_config=config,
                         cache_enabled=False, data_dir=tmp_path / "data")


async def test_fallback_is_reported_in_the_response_and_the_stream(make_settings, tmp_path: Path) -> None:
    with FaultServer(["500"]) as failing, FaultServer(["ok"], tags=("gpt-4",)) as gpt:
        app = create_app(fault_settings(make_settings, tmp_path, failing.url, gpt.url))
        async with serving(app) as http:
            started = time.perf_counter()
            response = await http.post("/peptalk/invoke", json={"input": REQUEST})
            assert response.status_code == 200, response.text
            output = response.json()["output"]
            assert output["model"] == OPENAI and output["text"] == "".join(TOKENS)
            [fallback] = output["metadata"]["fallbacks"]
            assert fallback["model"] == OLLAMA and fallback["reason"] == "server_error"
            assert failing.chat_requests == 3 and time.perf_counter() - started < GENEROUS_S

            # The breaker is open now: the stream skips ollama at once and says so in its first chunk.
            started = time.perf_counter()
            response = await http.post("/peptalk/stream", json={"input": REQUEST})
            data = [json.loads(payload) for name, payload in sse_events(response.text) if name == "data"]
            assert data[0]["model"] == OPENAI and data[0]["metadata"]["fallbacks"][0]["reason"] == "cooling_down"
            assert failing.chat_requests == 3 and time.perf_counter() - started < GENEROUS_S  # not tried again

            # A batch with a config per input (as RemoteRunnable sends it) is checked input by input.
            response = await http.post("/peptalk/batch", json={"inputs": [REQUEST], "config": [{}]})
            assert response.status_code == 200 and response.json()["output"][0]["model"] == OPENAI

            nodes = (await http.get("/models")).json()["nodes"]
            assert nodes[OLLAMA][0]["state"] == "cooling_down" and nodes[OLLAMA][0]["failed"] == 3
            assert nodes[OPENAI][0]["state"] == "up" and nodes[OPENAI][0]["served"] == 3
            ready = await http.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["nodes"][OLLAMA][0]["state"] == "cooling_down"


async def test_everything_down_is_a_fast_503_with_the_reason(make_settings, tmp_path: Path) -> None:
    app = create_app(fault_settings(make_settings, tmp_path, closed_port_url(), closed_port_url()))
    async with serving(app) as http:
        started = time.perf_counter()
        response = await http.post("/peptalk/invoke", json={"input": REQUEST})
        assert response.status_code == 503, response.text
        body = response.json()
        assert "no backend could answer" in body["detail"] and len(body["attempts"]) == 2
        assert "cannot connect" in body["attempts"][0]
        assert time.perf_counter() - started < GENEROUS_S

        # Breakers open: invoke, batch and stream are refused before any work, with Retry-After.
        pinned = {"configurable": {"model": OPENAI}}
        for endpoint, payload in (("invoke", {"input": REQUEST}), ("batch", {"inputs": [REQUEST]}),
                                  ("batch", {"inputs": [REQUEST, REQUEST], "config": [pinned, {}]}),
                                  ("stream", {"input": REQUEST, "config": pinned})):
            started = time.perf_counter()
            response = await http.post(f"/peptalk/{endpoint}", json=payload)
            assert response.status_code == 503, (endpoint, response.text)
            assert "cooling down" in response.json()["detail"]
            assert 1 <= int(response.headers["retry-after"]) <= 2
            assert time.perf_counter() - started < GENEROUS_S  # refused by the open breakers, no connection

        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["backends"]["ollama"]["reachable"] is False


async def test_a_stream_that_finds_everything_down_ends_with_an_error_event(make_settings, tmp_path: Path) -> None:
    app = create_app(fault_settings(make_settings, tmp_path, closed_port_url(), closed_port_url()))
    async with serving(app) as http:
        started = time.perf_counter()
        response = await http.post("/peptalk/stream", json={"input": REQUEST})
        events = sse_events(response.text)
        assert events[-1][0] == "error" and json.loads(events[-1][1])["status_code"] == 500
        assert not [name for name, _ in events if name == "data"]
        assert time.perf_counter() - started < GENEROUS_S


async def test_a_stream_dying_mid_way_ends_with_a_clear_error(make_settings, tmp_path: Path) -> None:
    with FaultServer(["die:3"]) as dying, FaultServer(["ok"], tags=("gpt-4",)) as gpt:
        app = create_app(fault_settings(make_settings, tmp_path, dying.url, gpt.url))
        async with serving(app) as http:
            started = time.perf_counter()
            response = await http.post("/peptalk/stream", json={"input": REQUEST})
            events = sse_events(response.text)
            assert time.perf_counter() - started < GENEROUS_S
            data = [json.loads(payload) for name, payload in events if name == "data"]
            assert data[0]["model"] == OLLAMA
            assert "".join(chunk.get("text", "") for chunk in data) == "".join(TOKENS[:3])
            assert data[-1]["metadata"]["error"]["type"] == "StreamInterrupted"
            assert events[-1][0] == "error" and gpt.chat_requests == 0

            dying.set_script(["die:3"])
            response = await http.post("/peptalk/invoke", json={"input": REQUEST})
            assert response.status_code == 502 and response.json()["model"] == OLLAMA


def test_mid_stream_failure_over_real_uvicorn_with_remote_runnable(tmp_path: Path) -> None:
    from langserve import RemoteRunnable

    config = tmp_path / "router.yaml"
    config.write_text(FAST_YAML)
    with FaultServer(["die:2"]) as dying, FaultServer(["ok"], tags=("gpt-4",)) as gpt:
        port = free_port()
        env = {"PEPTALK_BACKENDS": "ollama,openai", "PEPTALK_DEFAULT_MODEL": OLLAMA,
               "PEPTALK_OLLAMA_BASE_URLS": dying.url, "PEPTALK_OPENAI_BASE_URL": f"{gpt.url}/v1",
               "PEPTALK_OPENAI_API_KEY": "k", "PEPTALK_ROUTER_CONFIG": str(config), "PEPTALK_MAX_TOKENS": "8",
               "PEPTALK_CACHE_ENABLED": "false", "PEPTALK_DATA_DIR": str(tmp_path / "data")}
        cmd = [python(), "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1",
               "--port", str(port)]
        with running(cmd, f"http://127.0.0.1:{port}/healthz", log=ARTIFACTS / "uvicorn-router-faults.log", env=env):
            remote = RemoteRunnable(f"http://127.0.0.1:{port}/peptalk/", timeout=30)
            received = []
            started = time.perf_counter()
            with pytest.raises(Exception) as info:  # noqa: PT011 (LangServe's client raises its own error type)
                for chunk in remote.stream(REQUEST):
                    received.append(chunk)
            assert time.perf_counter() - started < GENEROUS_S
            assert received[0]["model"] == OLLAMA and "Internal Server Error" in str(info.value)
            assert received[-1]["metadata"]["error"]["reason"] == "connect"

            dying.set_script(["ok"])  # healthy again: the same server answers in full
            output = remote.invoke(REQUEST)
            assert output["model"] == OLLAMA and output["text"] == "".join(TOKENS)


def test_serve_refuses_a_bad_router_config_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "router.yaml"
    config.write_text("policy: roundrobin\n")
    result = subprocess.run([python(), "-m", "peptalk.cli", "serve"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "PEPTALK_ROUTER_CONFIG": str(config)},
                            timeout=120)
    assert result.returncode == 2
    assert "policy" in result.stderr and str(config) in result.stderr
