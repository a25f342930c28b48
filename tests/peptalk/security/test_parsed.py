"""One parse per request: the body of a generating request is parsed once, however many layers read it.

Through the real app (rate limiter, envelope check, unroutable check, LangServe, the embedded model), every
`json.loads` of a request body is counted.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from langserve_app import create_app
from peptalk.security.parsed import NOT_JSON, ParsedRequest, route_pattern
from peptalk.settings import Settings
from tests.test_langserve_app import serving

ADA = {"user_id": "ada", "today": "2026-11-22", "last_login": "2026-11-21",
       "completed_tasks": ["Wrote the design doc"], "focused_tasks": ["Review two pull requests"]}


@pytest.fixture
def body_parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every `json.loads` argument that is a LangServe request body (it starts with `{"input`)."""
    parses: list[Any] = []
    real = json.loads

    def counting(text: Any, *args: Any, **kwargs: Any) -> Any:
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes | bytearray) else str(text)
        if raw.lstrip().startswith('{"input'):
            parses.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    yield parses


REQUESTS = {
    "invoke": ("invoke", {"input": ADA}),
    "invoke, null config (the envelope rewrites it)": ("invoke", {"input": ADA, "config": None}),
    "batch, pinned": ("batch", {"inputs": [ADA, ADA | {"user_id": "grace"}],
                                "config": {"configurable": {"model": "embedded:smollm2-135m"}}}),
    "stream": ("stream", {"input": ADA}),
}


@pytest.fixture(scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the cache off (its entries hold request JSON too) and the rate limiter on (it reads bodies)."""
    data_dir: Path = tmp_path_factory.mktemp("parse-once")
    settings = Settings(_env_file=None, max_tokens=4, log_level="WARNING", cache_enabled=False, data_dir=data_dir,
                        rate_limit_per_user_per_minute=100)
    async with serving(create_app(settings)) as http:
        yield http


@pytest.mark.parametrize("name", list(REQUESTS))
async def test_a_request_body_is_parsed_once(name: str, client: httpx.AsyncClient, body_parses: list[Any]) -> None:
    endpoint, body = REQUESTS[name]
    response = await client.post(f"/peptalk/{endpoint}", json=body)
    assert response.status_code == 200, response.text
    assert "text" in response.text
    assert len(body_parses) == 1, body_parses


async def test_a_malformed_body_still_gets_langserves_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/peptalk/invoke", content=b'{"input": ', headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_the_route_is_matched_once_with_or_without_a_config_hash() -> None:
    pattern = route_pattern("/ai/peptalk")
    assert pattern.match("/ai/peptalk/stream_log")["endpoint"] == "stream_log"  # type: ignore[index]
    match = pattern.match("/ai/peptalk/c/N4XyA/batch")
    assert match is not None and (match["config_hash"], match["endpoint"]) == ("N4XyA", "batch")
    assert pattern.match("/ai/peptalk/input_schema") is None and pattern.match("/peptalk/invoke") is None


def test_parsed_request_reads_inputs_and_marks_what_is_not_json() -> None:
    assert ParsedRequest.of("batch", None, b'{"inputs": [1, 2]}').inputs == [1, 2]
    assert ParsedRequest.of("invoke", None, b'{"input": {"user_id": "ada"}}').inputs == [{"user_id": "ada"}]
    assert ParsedRequest.of("invoke", None, b"[]").inputs is None
    broken = ParsedRequest.of("invoke", None, b"{not json")
    assert broken.payload is NOT_JSON and broken.utf8 and not broken.is_json
    assert not ParsedRequest.of("invoke", None, b"\xff\xfe").utf8
    assert ParsedRequest.of("invoke", None, b'\xef\xbb\xbf{"input": 1}').payload == {"input": 1}  # a UTF-8 BOM
