"""The LangServe envelope checks: the shapes fuzzing found crashing LangServe get a 422 (or mean "absent")."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from langserve_app import create_app
from peptalk.security.envelope import EnvelopeError, checked
from peptalk.security.parsed import Endpoint, ParsedRequest
from peptalk.settings import Settings
from tests.test_langserve_app import serving

INCOMPLETE = {"user_id": "ada"}


def parsed(body: bytes, endpoint: Endpoint) -> ParsedRequest:
    return ParsedRequest.of(endpoint, None, body)


@pytest.mark.parametrize(
    ("body", "endpoint", "field"),
    [
        (b"\x08\xbfN", "invoke", "body"),
        (b"[1, 2]", "stream", "body"),
        (b'{"input": {}, "kwargs": [null]}', "invoke", "kwargs"),
        (b'{"input": {}, "config": "abc"}', "stream_log", "config"),
        (b'{"inputs": null}', "batch", "inputs"),
        (b'{"inputs": [], "config": [1]}', "batch", "config"),
    ],
)
def test_wrong_shapes_name_their_field(body: bytes, endpoint: Endpoint, field: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        checked(parsed(body, endpoint))
    assert caught.value.field == field


def test_null_optional_keys_mean_absent() -> None:
    assert checked(parsed(b'{"input": {}, "config": null, "kwargs": null}', "invoke")) == {"input": {}}
    assert checked(parsed(b'{"input": {}, "config": {}}', "invoke")) is None  # untouched
    assert checked(parsed(b'{"inputs": [], "config": [{}, {}]}', "batch")) is None
    assert checked(parsed(b"{not json", "invoke")) is None  # LangServe's own 422


async def test_through_the_app(make_settings: Callable[..., Settings]) -> None:
    async with serving(create_app(make_settings())) as client:
        response = await client.post("/peptalk/batch", json={"inputs": None})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "inputs"]
        response = await client.post("/peptalk/c/abc/invoke", content=b"\xff\xfe", headers={"content-type": "application/json"})
        assert response.status_code == 422
        # `config: null` reaches LangServe as no config: the input is validated as usual.
        response = await client.post("/peptalk/invoke", json={"input": INCOMPLETE, "config": None, "kwargs": None})
        assert response.status_code == 422 and "today" in response.text
