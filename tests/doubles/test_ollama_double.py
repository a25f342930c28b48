"""The Ollama double behaves as Ollama documents, and peptalk handles each of those paths."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from peptalk.cli import app
from router import StreamInterrupted
from tests.conftest import OLLAMA_TAG, start_ollama_double
from tests.doubles.faults import TOKENS, FaultServer
from tests.helpers import ROOT, python
from tests.router.routing_kit import OPENAI, call, collect, make_router, meta, metric, text

CRASHING = "crashy:7b"
EARLY_CRASH = "crashy-early:7b"
SLOWING = "slowing:7b"
SLOW_S = 3.0
CHAT = {"model": OLLAMA_TAG, "messages": [{"role": "user", "content": "Say hi."}], "options": {"num_predict": 4}}


@pytest.fixture(scope="module")
def strict_double(gguf_path: Path) -> Iterator[str]:
    """A fresh double (nothing loaded yet) with a tag whose runner dies after 2 tokens, one that dies at once, and
    one that slows down after its first generation."""
    port, server = start_ollama_double(gguf_path, tags=[OLLAMA_TAG, CRASHING, EARLY_CRASH, SLOWING],
                                       name="ollama-strict",
                                       extra_args=["--crash", f"{CRASHING}:2", "--crash", f"{EARLY_CRASH}:0",
                                                   "--slow", f"{SLOWING}:1:{SLOW_S}", "--load-s", "0.2"])
    with server:
        yield f"http://127.0.0.1:{port}"


def _lines(response: httpx.Response) -> list[dict]:
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]


def test_ps_lists_only_loaded_models_and_the_first_request_pays_the_load(strict_double: str) -> None:
    assert httpx.get(f"{strict_double}/api/ps").json() == {"models": []}  # installed, none loaded
    first = httpx.post(f"{strict_double}/api/chat", json=CHAT | {"stream": False}, timeout=120).json()
    second = httpx.post(f"{strict_double}/api/chat", json=CHAT | {"stream": False}, timeout=120).json()
    assert first["done"] and first["message"]["content"] and first["eval_count"] >= 1
    assert first["load_duration"] >= 0.2e9  # a real load: at least the double's simulated transfer
    assert 0 < second["load_duration"] < first["load_duration"]  # loaded: near zero, but measured
    assert first["total_duration"] >= first["load_duration"]
    loaded = httpx.get(f"{strict_double}/api/ps").json()["models"]
    assert [entry["name"] for entry in loaded] == [OLLAMA_TAG] and loaded[0]["expires_at"]
    installed = {entry["name"] for entry in httpx.get(f"{strict_double}/api/tags").json()["models"]}
    assert installed == {OLLAMA_TAG, CRASHING, EARLY_CRASH, SLOWING}


@pytest.mark.parametrize("stream", [True, False])
def test_empty_messages_load_the_model_and_generate_nothing(strict_double: str, stream: bool) -> None:
    response = httpx.post(f"{strict_double}/api/chat", json={"model": OLLAMA_TAG, "messages": [], "stream": stream},
                          timeout=120)
    assert response.status_code == 200
    body = response.json()  # one JSON object, never a stream
    assert body["done"] is True and body["done_reason"] == "load" and body["message"]["content"] == ""
    assert "eval_count" not in body


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"messages": []}, 400, "model is required"),
    ({"model": "nosuch:1b", "messages": []}, 404, 'model "nosuch:1b" not found, try pulling it first'),
    ({"model": OLLAMA_TAG, "messages": "hi"}, 400, "cannot unmarshal string"),
    ({"model": OLLAMA_TAG, "messages": [{"role": "user", "content": 5}]}, 400, "cannot unmarshal number"),
    ({"model": OLLAMA_TAG, "messages": [], "stream": "yes"}, 400, "cannot unmarshal string"),
    ({"model": OLLAMA_TAG, "messages": [{"role": 1, "content": "hi"}]}, 400, "cannot unmarshal number"),
    # Options are read when the runner is scheduled (`Options.FromMap`); `handleScheduleError` answers 500.
    ({"model": OLLAMA_TAG, "messages": [], "options": {"num_predict": "8"}}, 500,
     'option "num_predict" must be of type integer'),
    ({"model": OLLAMA_TAG, "messages": [], "options": {"temperature": "hot"}}, 500,
     'option "temperature" must be of type float32'),
    ({"model": OLLAMA_TAG, "messages": [], "options": {"stop": "\n"}}, 500, 'option "stop" must be of type array'),
])
def test_malformed_chat_requests_get_ollamas_errors(strict_double: str, body: dict, status: int, error: str) -> None:
    response = httpx.post(f"{strict_double}/api/chat", json=body)
    assert response.status_code == status and error in response.json()["error"], response.text


def test_a_message_without_a_role_is_accepted(strict_double: str) -> None:
    """`api.Message.Role` is a plain string: a message without one decodes as role "" (api/types.go)."""
    body = CHAT | {"messages": [{"content": "Say hi."}], "stream": False}
    response = httpx.post(f"{strict_double}/api/chat", json=body, timeout=120)
    assert response.status_code == 200, response.text
    assert response.json()["done"] is True


@pytest.mark.parametrize("stream", [True, False])
def test_a_runner_dying_before_the_first_token_is_an_http_500(strict_double: str, stream: bool) -> None:
    """`streamResponse` writes nothing before the first event: an error first becomes the status (routes.go)."""
    response = httpx.post(f"{strict_double}/api/chat", json=CHAT | {"model": EARLY_CRASH, "stream": stream},
                          timeout=120)
    assert response.status_code == 500
    assert response.json() == {"error": "llama runner process has terminated: signal: killed"}


def test_a_runner_crash_is_an_error_line_inside_a_200_stream(strict_double: str) -> None:
    response = httpx.post(f"{strict_double}/api/chat", json=CHAT | {"model": CRASHING, "options": {"num_predict": 16}},
                          timeout=120)
    assert response.status_code == 200
    lines = _lines(response)
    assert [line.get("done") for line in lines[:-1]] == [False, False]  # two tokens first
    assert lines[-1] == {"error": "llama runner process has terminated: signal: killed"}
    assert CRASHING not in {entry["name"] for entry in httpx.get(f"{strict_double}/api/ps").json()["models"]}


def test_a_slowing_tag_waits_before_its_first_token_after_its_first_generations(strict_double: str) -> None:
    body = CHAT | {"model": SLOWING, "options": {"num_predict": 1}}
    fast = httpx.post(f"{strict_double}/api/chat", json=body | {"stream": False}, timeout=120).json()
    slow = _lines(httpx.post(f"{strict_double}/api/chat", json=body, timeout=120))  # streamed: the same wait
    assert fast["prompt_eval_duration"] < SLOW_S * 1e9 <= slow[-1]["prompt_eval_duration"]  # time to first token
    assert slow[0]["message"]["content"] and slow[-1]["done"] is True  # late, but a whole answer
    ok = httpx.post(f"{strict_double}/api/chat", json=CHAT | {"stream": False}, timeout=120).json()
    assert ok["prompt_eval_duration"] < SLOW_S * 1e9  # other tags keep their speed


@pytest.mark.parametrize(("flag", "problem"), [
    (f"{SLOWING}:1", "is not TAG:N:SECONDS"), (f"{SLOWING}:x:2", "is not TAG:N:SECONDS"),
    (f"{SLOWING}:-1:2", "N >= 0 and SECONDS > 0"), (f"{SLOWING}:1:0", "N >= 0 and SECONDS > 0"),
    (f"{SLOWING}:1:nan", "N >= 0 and SECONDS > 0"), ("nosuch:1b:1:2", "nosuch:1b is not an installed --tag"),
])
def test_a_bad_slow_flag_is_refused_at_start(flag: str, problem: str) -> None:
    result = subprocess.run([python(), "-m", "tests.doubles.ollama_server", "--port", "1", "--model-path", "none.gguf",
                             "--tag", SLOWING, "--slow", flag], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2 and "--slow" in result.stderr and problem in result.stderr, result.stderr


def test_a_pull_of_an_unknown_tag_fails_inside_a_200_stream(strict_double: str) -> None:
    response = httpx.post(f"{strict_double}/api/pull", json={"model": "nosuchmodel:1b"})
    assert response.status_code == 200
    assert _lines(response) == [{"status": "pulling manifest"}, {"error": "pull model manifest: file does not exist"}]
    not_streamed = httpx.post(f"{strict_double}/api/pull", json={"model": "nosuchmodel:1b", "stream": False})
    assert not_streamed.status_code == 500 and "file does not exist" in not_streamed.json()["error"]


def test_the_cli_reports_the_in_stream_pull_error_with_exit_2(strict_double: str) -> None:
    result = CliRunner().invoke(app, ["models", "pull", "nosuchmodel:1b", "--ollama-url", strict_double])
    assert result.exit_code == 2, result.output
    assert "pull failed: nosuchmodel:1b: pull model manifest: file does not exist" in " ".join(result.output.split())
    assert "Traceback" not in result.output


async def test_the_router_falls_back_when_the_runner_dies_before_the_first_token(strict_double: str) -> None:
    """The real langchain-ollama client raises `ResponseError` (status 500); it is retried, counts toward the breaker,
    then falls back."""
    with FaultServer(["ok"], tags=("gpt-4",)) as gpt:
        router = make_router(ollama=[strict_double], openai=[gpt.url], fallback_chain=[f"ollama:{EARLY_CRASH}", OPENAI],
                             timeout_s=120.0, first_token_timeout_s=120.0, ollama_models=[EARLY_CRASH],
                             default=f"ollama:{EARLY_CRASH}", deadline_s=300.0)  # each try loads the model again
        retries_before = metric("peptalk_retries_total", model=f"ollama:{EARLY_CRASH}", reason="server_error")
        chunks, _ = await collect(router, call())
        assert meta(chunks)["model"] == OPENAI and text(chunks) == "".join(TOKENS)
        [fallback] = meta(chunks)["fallbacks"]
        assert fallback["reason"] == "server_error" and "llama runner process has terminated" in fallback["detail"]
        assert metric("peptalk_retries_total", model=f"ollama:{EARLY_CRASH}", reason="server_error") - retries_before == 2
        [node] = router.pools[router.resolve(f"ollama:{EARLY_CRASH}")].nodes
        assert node.failed == 3 and "500" in (node.last_error or "")


async def test_a_runner_crash_after_content_interrupts_the_stream(strict_double: str) -> None:
    router = make_router(ollama=[strict_double], default=f"ollama:{CRASHING}", timeout_s=120.0,
                         first_token_timeout_s=120.0, ollama_models=[CRASHING])
    received = []
    with pytest.raises(StreamInterrupted) as raised:
        async for chunk in router.astream(call()):
            received.append(chunk)
    assert raised.value.kind == "server_error" and raised.value.chunks_sent >= 2
    assert "llama runner process has terminated" in raised.value.reason
    error = received[-1].response_metadata["peptalk"]["error"]  # the client is told why before the stream ends
    assert error["type"] == "StreamInterrupted" and error["reason"] == "server_error"


async def test_the_fault_server_crash_action_matches_the_double() -> None:
    with FaultServer(["crash:0", "crash:0", "ok"]) as ollama:
        assert httpx.post(f"{ollama.url}/api/chat", json=CHAT).status_code == 500  # before the first token
        router = make_router(ollama=[ollama.url])
        chunks, _ = await collect(router, call())
        assert text(chunks) == "".join(TOKENS) and ollama.chat_requests == 3  # retried once, then served


def test_warmup_reports_the_first_requests_real_load(gguf_path: Path) -> None:
    """`peptalk models warmup` reads `load_duration`: the first request pays the load, the next one does not."""
    import re

    port, server = start_ollama_double(gguf_path, tags=["fresh:1b"], name="ollama-fresh", extra_args=["--load-s", "0.5"])
    with server:
        result = CliRunner().invoke(app, ["models", "warmup", "fresh:1b", "-n", "2", "--max-tokens", "2",
                                          "--ollama-url", f"http://127.0.0.1:{port}"])
    assert result.exit_code == 0, result.output
    loads = [int(value) for value in re.findall(r"\(load (\d+) ms", result.output)]
    assert len(loads) == 2 and loads[0] >= 500 and loads[1] < loads[0], result.output
