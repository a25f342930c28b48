"""The LangServe app in-process: invoke, batch, stream, schemas, health, and 422s for bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from langserve_app import create_app
from peptalk.settings import Settings

REQUEST = {
    "user_id": "ada",
    "today": "2026-11-22",
    "last_login": "2026-11-21",
    "completed_tasks": ["Wrote the design doc"],
    "focused_tasks": ["Review two pull requests"],
    "rituals": ["Morning run"],
    "goals": ["Ship the beta"],
}


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, behind an in-process httpx client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://peptalk.test", timeout=120) as client:
            yield client


@pytest.fixture(scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(_env_file=None, max_tokens=24, max_items_per_list=3, log_level="WARNING",
                        data_dir=tmp_path_factory.mktemp("app-data"))
    async with serving(create_app(settings)) as http:
        yield http


def sse_events(body: str) -> list[tuple[str, str]]:
    """(event name, data) for each server-sent event; data is "" for an event without a data line."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = block.splitlines()
        name = next((line[6:].strip() for line in lines if line.startswith("event:")), "message")
        data = "\n".join(line[5:].strip() for line in lines if line.startswith("data:"))
        if lines:
            events.append((name, data))
    return events


async def test_invoke_returns_text_and_served_model(client: httpx.AsyncClient) -> None:
    response = await client.post("/peptalk/invoke", json={"input": REQUEST})
    assert response.status_code == 200, response.text
    output = response.json()["output"]
    assert output["text"].strip()
    assert output["model"] == "embedded:smollm2-135m"
    assert output["metadata"]["usage"]["output_tokens"] > 0


async def test_batch_answers_each_input(client: httpx.AsyncClient) -> None:
    second = REQUEST | {"user_id": "grace", "focused_tasks": []}
    response = await client.post("/peptalk/batch", json={"inputs": [REQUEST, second]})
    assert response.status_code == 200, response.text
    outputs = response.json()["output"]
    assert len(outputs) == 2
    assert all(output["text"].strip() and output["model"] == "embedded:smollm2-135m" for output in outputs)


async def test_stream_sends_model_first_then_text_chunks(client: httpx.AsyncClient) -> None:
    response = await client.post("/peptalk/stream", json={"input": REQUEST})
    assert response.status_code == 200
    events = sse_events(response.text)
    data = [json.loads(payload) for name, payload in events if name == "data"]
    assert data[0]["model"] == "embedded:smollm2-135m"
    assert sum(1 for chunk in data if chunk.get("text")) >= 2
    assert events[-1][0] == "end"


async def test_pinned_model_via_config(client: httpx.AsyncClient) -> None:
    body = {"input": REQUEST, "config": {"configurable": {"model": "embedded:smollm2-135m"}}}
    response = await client.post("/peptalk/invoke", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["output"]["model"] == "embedded:smollm2-135m"


async def test_unknown_model_is_a_422(client: httpx.AsyncClient) -> None:
    body = {"input": REQUEST, "config": {"configurable": {"model": "openai:gpt-5"}}}
    for endpoint in ("invoke", "stream"):
        response = await client.post(f"/peptalk/{endpoint}", json=body)
        assert response.status_code == 422, (endpoint, response.text)
        assert "model" in response.text


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({k: v for k, v in REQUEST.items() if k != "today"}, "today"),
        (REQUEST | {"last_login": "2026-11-23"}, "last_login"),
        (REQUEST | {"focused_tasks": ["a", "b", "c", "d"]}, "focused_tasks"),
        (REQUEST | {"goals": "not a list"}, "goals"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(client: httpx.AsyncClient, payload: dict, field: str) -> None:
    for endpoint, body in (("invoke", {"input": payload}), ("batch", {"inputs": [REQUEST, payload]})):
        response = await client.post(f"/peptalk/{endpoint}", json=body)
        assert response.status_code == 422, (endpoint, response.text)
        assert field in response.text


async def test_non_json_body_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/peptalk/invoke", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


async def test_schemas_describe_request_and_response(client: httpx.AsyncClient) -> None:
    input_schema = (await client.get("/peptalk/input_schema")).json()
    assert {"user_id", "today", "last_login", "focused_tasks"} <= set(input_schema["properties"])
    output_schema = (await client.get("/peptalk/output_schema")).json()
    assert {"text", "model"} <= set(output_schema["properties"])
    config_schema = (await client.get("/peptalk/config_schema")).json()
    assert "model" in json.dumps(config_schema)


async def test_playground_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/peptalk/playground/index.html")
    assert response.status_code == 200 and "<html" in response.text.lower()


async def test_health_ready_and_models(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["backends"]["embedded"]["reachable"] is True
    models = (await client.get("/models")).json()
    assert {key: models[key] for key in ("default", "models", "backends")} == {
        "default": "embedded:smollm2-135m", "models": ["embedded:smollm2-135m"],
        "backends": {"embedded": ["smollm2-135m"]}}
    assert models["routing"]["policy"] == "fallback"
    assert models["routing"]["fallback_chain"] == ["embedded:smollm2-135m"]
    [node] = models["nodes"]["embedded:smollm2-135m"]
    assert node["node"] == "local" and node["state"] == "up" and node["served"] >= 1
    assert node["latency_ms"]["last"] > 0


async def test_readyz_reports_an_unreachable_backend(make_settings: Callable[..., Settings]) -> None:
    from tests.helpers import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(backends=["embedded", "ollama"], ollama_base_url=closed)
    async with serving(create_app(settings)) as http:
        body = (await http.get("/readyz")).json()
    assert body["backends"]["embedded"]["reachable"] is True
    assert body["backends"]["ollama"]["reachable"] is False
    assert "ConnectError" in body["backends"]["ollama"]["detail"]
