"""The embedded model on a managed llama-server (PEPTALK_EMBEDDED_ENGINE=server): real llama-server child process.

- Greedy answers decoded together (continuous batching) equal the same server's single-stream answers.
- The child dies with SIGKILL: the app restarts it, /readyz says so, and the next request is answered.
- The child stops with the app.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from langserve_app import create_app
from peptalk.settings import Settings
from router.backends.embedded_server import EmbeddedServerBackend
from router.base import Backend
from router.backends.llama_server import default_binary
from router.registry import build_backends
from router.sentence_budget import FINISH_REASON
from tests.test_langserve_app import REQUEST

pytestmark = pytest.mark.timeout(300)
# Different lengths, so the batch holds sequences at different positions, as concurrent users' would.
PROMPTS = ["Say hello to Ada in one short sentence.", "Name three colours.",
           "Write one encouraging sentence for someone reviewing two pull requests today.",
           "What is a good morning ritual? Answer briefly."]
GREEDY_TOKENS = 40
RESTART_WAIT_S = 120.0  # a deadline for polling, not a timing claim: a crowded machine loads the model slowly


@pytest.fixture(scope="module")
def llama_server_bin() -> Path:
    binary = default_binary()
    if not binary.is_file():
        pytest.skip(f"llama-server is not built at {binary}: scripts/bootstrap.sh builds it")
    return binary


def server_settings(make_settings: Callable[..., Settings], **values: object) -> Settings:
    return make_settings(embedded_engine="server", embedded_parallel=4, **values)


async def _answers(backend: Backend, *, together: bool) -> list[str]:
    await backend.start()
    try:
        model = backend.chat_model("smollm2-135m")
        if together:
            return [str(m.content) for m in await asyncio.gather(*(model.ainvoke(p) for p in PROMPTS))]
        return [str((await model.ainvoke(prompt)).content) for prompt in PROMPTS]
    finally:
        await backend.aclose()


async def test_greedy_answers_decoded_together_equal_single_stream_answers(
        make_settings: Callable[..., Settings], llama_server_bin: Path) -> None:
    # One thread each: the answers, not the speed, are under test (and one thread stays quick on a crowded machine).
    greedy = {"temperature": 0.0, "max_tokens": GREEDY_TOKENS, "embedded_threads": 1}
    server = build_backends(server_settings(make_settings, **greedy))["embedded"]
    assert isinstance(server, EmbeddedServerBackend)
    assert server.generation.sampling["repeat_penalty"] == 1.1  # the catalog's sampling, as served
    together = await _answers(server, together=True)
    alone = await _answers(server, together=False)
    assert all(alone) and together == alone


def _embedded_status(body: dict) -> tuple[bool, str]:
    node = body["backends"]["embedded"]["nodes"]["local"]
    return bool(node["reachable"]), str(node["detail"])


async def _wait_for(client: httpx.AsyncClient, wanted: Callable[[int, dict], bool], what: str) -> dict:
    deadline = time.monotonic() + RESTART_WAIT_S
    while time.monotonic() < deadline:
        response = await client.get("/readyz")
        body = response.json()
        if wanted(response.status_code, body):
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"/readyz never showed {what}: {body}")


async def test_a_killed_server_is_restarted_and_readyz_reports_it(
        make_settings: Callable[..., Settings], llama_server_bin: Path, tmp_path: Path) -> None:
    settings = server_settings(make_settings, cache_enabled=False, data_dir=tmp_path / "data")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://peptalk.test", timeout=120) as client:
            body = (await client.get("/readyz")).json()
            reachable, detail = _embedded_status(body)
            assert reachable and "restarts 0" in detail, detail
            pid = int(detail.split("pid ")[1].split()[0])
            os.kill(pid, signal.SIGKILL)
            body = await _wait_for(client, lambda code, b: not _embedded_status(b)[0], "the dead server")
            assert "restart" in _embedded_status(body)[1]
            body = await _wait_for(client, lambda code, b: code == 200 and "restarts 1" in _embedded_status(b)[1],
                                   "the restarted server")
            detail = _embedded_status(body)[1]
            assert "last exit code -9" in detail and f"pid {pid} " not in detail, detail
            answer = await client.post("/peptalk/invoke", json={"input": REQUEST})
            assert answer.status_code == 200, answer.text
            assert answer.json()["output"]["text"].strip()
            new_pid = int(detail.split("pid ")[1].split()[0])
    _assert_gone(new_pid)


def _assert_gone(pid: int) -> None:
    """The child was stopped with the app (a zombie reaped by asyncio counts as gone)."""
    deadline = time.monotonic() + RESTART_WAIT_S
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"llama-server pid {pid} still runs after the app stopped")


async def test_a_sentence_budget_cuts_the_server_stream_and_still_counts_its_tokens(
        make_settings: Callable[..., Settings], llama_server_bin: Path) -> None:
    long = "Write a long story about a dragon who learns to bake bread. Use many sentences."
    server = build_backends(server_settings(make_settings, sentence_budget=2, max_tokens=300, temperature=0.0,
                                            embedded_threads=1))["embedded"]
    await server.start()
    try:
        model = server.chat_model("smollm2-135m")
        chunks = [chunk async for chunk in model.astream(long)]
        invoked = await model.ainvoke(long)
        unbudgeted = await server._client.chat_model("smollm2-135m").ainvoke(long)  # type: ignore[union-attr]
    finally:
        await server.aclose()
    text = "".join(chunk.text for chunk in chunks)
    assert len(re.findall(r"[.!?]+[\"')\]]*(?:\s|$)", text.strip())) == 2, text
    last = chunks[-1]
    assert last.response_metadata["finish_reason"] == FINISH_REASON
    assert last.usage_metadata is not None and unbudgeted.usage_metadata is not None
    assert last.usage_metadata["input_tokens"] == unbudgeted.usage_metadata["input_tokens"]
    assert 0 < last.usage_metadata["output_tokens"] < unbudgeted.usage_metadata["output_tokens"]
    assert invoked.content == text  # invoked, the model streams underneath and stops alike
