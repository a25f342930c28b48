"""LangSmith tracing: off by default with no network attempt, on only with a flag and a key."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from langchain_core.messages import AIMessageChunk

from peptalk.chain import build_chain
from peptalk.observability import configure_tracing, tracing_state
from peptalk.settings import Settings
from router.call import Call, AnswerFacts, facts_chunk
from router.registry import build_backends
from router.router import Router
from tests.test_langserve_app import REQUEST

VARIABLES = ("LANGSMITH_TRACING", "LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2", "LANGCHAIN_TRACING",
             "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY", "LANGSMITH_ENDPOINT", "LANGCHAIN_ENDPOINT",
             "LANGSMITH_PROJECT", "LANGCHAIN_PROJECT")


class CannedLayer:
    async def astream(self, call: Call):
        yield facts_chunk(AnswerFacts(model="embedded:smollm2-135m"))
        yield AIMessageChunk(content="Keep going.")


def chain():
    router = Router(build_backends(Settings(_env_file=None)), default_model="embedded:smollm2-135m")
    return build_chain(router, layer=CannedLayer())


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    import langsmith
    from langsmith import utils

    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    utils.get_env_var.cache_clear()
    langsmith.configure(enabled=None)  # back to the environment's say
    yield monkeypatch
    utils.get_env_var.cache_clear()
    langsmith.configure(enabled=None)


def test_the_state_needs_a_flag_and_a_key() -> None:
    assert not tracing_state({}).enabled
    assert not tracing_state({"LANGSMITH_TRACING": "false", "LANGSMITH_API_KEY": "k"}).enabled
    no_key = tracing_state({"LANGCHAIN_TRACING_V2": "true"})
    assert not no_key.enabled and "LANGSMITH_API_KEY" in no_key.reason
    on = tracing_state({"LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "k", "LANGSMITH_PROJECT": "peptalk"})
    assert on.enabled and on.project == "peptalk"


async def test_off_by_default_makes_no_network_attempt(clean_env: pytest.MonkeyPatch) -> None:
    from langchain_core.tracers.context import _tracing_v2_is_enabled
    from langchain_core.tracers.langchain import wait_for_all_tracers

    attempts: list[object] = []
    real_connect = socket.socket.connect

    def recording_connect(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        real_connect(sock, address)

    clean_env.setattr(socket.socket, "connect", recording_connect)
    assert not configure_tracing().enabled
    assert not _tracing_v2_is_enabled()
    output = await chain().ainvoke(REQUEST)
    wait_for_all_tracers()
    assert output["text"] == "Keep going."
    assert attempts == []


class Collector(BaseHTTPRequestHandler):
    """A stand-in LangSmith endpoint on 127.0.0.1 that records what it is sent."""

    received: list[str] = []

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        Collector.received.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({}).encode())

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({}).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Collector.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize(("key", "traced"), [("test-key", True), (None, False)])
async def test_a_flag_sends_traces_only_with_a_key(clean_env: pytest.MonkeyPatch, collector: str,
                                                   key: str | None, traced: bool) -> None:
    from langchain_core.tracers.langchain import wait_for_all_tracers

    clean_env.setenv("LANGSMITH_TRACING", "true")
    clean_env.setenv("LANGSMITH_ENDPOINT", collector)
    if key:
        clean_env.setenv("LANGSMITH_API_KEY", key)
    assert configure_tracing().enabled is traced
    await chain().ainvoke(REQUEST)
    wait_for_all_tracers()
    import langsmith.run_trees

    client = langsmith.run_trees.get_cached_client()
    client.flush()
    assert bool([path for path in Collector.received if "runs" in path]) is traced, Collector.received
