"""Request ids: echoed or generated, returned in `X-Request-ID`, and on every JSON log line of the request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from langserve_app import create_app
from peptalk.logs import JsonFormatter
from peptalk.observability.request_id import accepted_request_id
from peptalk.settings import Settings
from tests.test_langserve_app import REQUEST, serving


@pytest.fixture
async def client_and_log(make_settings: Callable[..., Settings]) -> AsyncIterator[tuple[httpx.AsyncClient, io.StringIO]]:
    app = create_app(make_settings(log_level="INFO", max_tokens=4))
    handler = next(h for h in logging.getLogger("peptalk").handlers if isinstance(h.formatter, JsonFormatter))
    sink = io.StringIO()
    previous = handler.setStream(sink)
    try:
        async with serving(app) as client:
            yield client, sink
    finally:
        handler.setStream(previous)


def lines(sink: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in sink.getvalue().splitlines() if line.strip()]


async def test_a_callers_id_is_echoed_and_on_every_log_line(client_and_log) -> None:
    client, sink = client_and_log
    response = await client.post("/peptalk/invoke", json={"input": REQUEST}, headers={"X-Request-ID": "req-42.a"})
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "req-42.a"
    logged = [line for line in lines(sink) if line.get("request_id") == "req-42.a"]
    assert {line["msg"] for line in logged} >= {"served", "request"}  # the router's line and the access line
    access = next(line for line in logged if line["msg"] == "request")
    assert access["route"] == "/peptalk/invoke" and access["status"] == 200
    assert access["model"] == "embedded:smollm2-135m" and access["latency_s"] > 0


async def test_an_id_is_generated_when_missing_or_unsafe(client_and_log) -> None:
    client, sink = client_and_log
    first = (await client.get("/healthz")).headers["x-request-id"]
    second = (await client.get("/healthz", headers={"X-Request-ID": "bad id\" injected"})).headers["x-request-id"]
    assert len(first) == 32 and len(second) == 32 and first != second
    assert {line["request_id"] for line in lines(sink) if line["msg"] == "request"} == {first, second}


def test_accepted_request_id_keeps_only_plain_short_ids() -> None:
    assert accepted_request_id("abc-DEF_1.2:3") == "abc-DEF_1.2:3"
    for unsafe in ("", "x" * 129, "new\nline", "quote\"", None):
        generated = accepted_request_id(unsafe)
        assert generated != unsafe and len(generated) == 32
