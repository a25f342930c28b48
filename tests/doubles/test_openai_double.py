"""The strict OpenAI-protocol doubles reject what the real API rejects, with the API's status and error body."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.doubles.openai_canned import create_double
from tests.doubles.openai_rules import OPENAI_FIELDS, OpenAIError, validate_chat
from tests.helpers import serving

GOOD = {"model": "gpt-4", "messages": [{"role": "system", "content": "Be kind."},
                                       {"role": "user", "content": "Hi"}], "max_completion_tokens": 8}
KEY = {"Authorization": "Bearer sk-test"}


def _with(**changes: Any) -> dict[str, Any]:
    body = {**GOOD, **changes}
    return {key: value for key, value in body.items() if value is not ...}


# Requests the old doubles (llama_cpp.server, the canned double, the fault and slow servers) answered with 200,
# and the real API answers with the status and `code` given.
MALFORMED: list[tuple[str, Any, int, str | None, str | None]] = [
    ("both token limits", _with(max_tokens=8), 400, "invalid_parameter_combination", "max_tokens"),
    ("unknown parameter", _with(top_k=5), 400, None, None),
    ("model missing", _with(model=...), 400, None, None),
    ("messages missing", _with(messages=...), 400, "missing_required_parameter", "messages"),
    ("messages empty", _with(messages=[]), 400, "empty_array", "messages"),
    ("unknown role", _with(messages=[{"role": "bot", "content": "Hi"}]), 400, "invalid_value", "messages[0].role"),
    ("user message without content", _with(messages=[{"role": "user"}]), 400, "missing_required_parameter",
     "messages[0].content"),
    ("unknown message field", _with(messages=[{"role": "user", "content": "Hi", "mood": "sad"}]), 400, None, None),
    ("tool message without tool_call_id", _with(messages=[{"role": "user", "content": "Hi"},
                                                          {"role": "tool", "content": "42"}]),
     400, "missing_required_parameter", "messages[1].tool_call_id"),
    ("stream_options without stream", _with(stream_options={"include_usage": True}), 400, None, "stream_options"),
    ("temperature above 2", _with(temperature=3), 400, "decimal_above_max_value", "temperature"),
    ("token limit as a string", _with(max_completion_tokens="8"), 400, "invalid_type", "max_completion_tokens"),
    ("token limit of 0", _with(max_completion_tokens=0), 400, "integer_below_min_value", "max_completion_tokens"),
    ("n of 0", _with(n=0), 400, "integer_below_min_value", "n"),
    ("five stop sequences", _with(stop=["a", "b", "c", "d", "e"]), 400, "array_above_max_length", "stop"),
    ("top_logprobs without logprobs", _with(top_logprobs=2), 400, "invalid_value", "top_logprobs"),
    ("tool_choice without tools", _with(tool_choice="auto"), 400, None, "tool_choice"),
    ("body not an object", ["not", "an", "object"], 400, None, None),
    ("unknown model", _with(model="gpt-4-nonexistent"), 404, "model_not_found", None),
]


@pytest.fixture(scope="module")
def double_url() -> Iterator[str]:
    with serving(create_double(api_keys=["sk-test"])) as url:
        yield url


@pytest.mark.parametrize(("case", "body", "status", "code", "param"), MALFORMED, ids=[row[0] for row in MALFORMED])
def test_a_malformed_request_gets_the_apis_error(double_url: str, case: str, body: Any, status: int,
                                                 code: str | None, param: str | None) -> None:
    response = httpx.post(f"{double_url}/v1/chat/completions", json=body, headers=KEY)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert error["type"] == "invalid_request_error"
    assert (error["code"], error["param"]) == (code, param)


@pytest.mark.parametrize("stream", [False, True])
def test_a_well_formed_request_gets_200(double_url: str, stream: bool) -> None:
    body = _with(stream=stream, **({"stream_options": {"include_usage": True}} if stream else {}))
    response = httpx.post(f"{double_url}/v1/chat/completions", json=body, headers=KEY)
    assert response.status_code == 200, response.text
    if not stream:
        assert response.json()["usage"]["completion_tokens"] == 8  # cut at the limit, one word a token
        return
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    import json

    chunks = [json.loads(event) for event in events[:-1]]
    assert all("usage" in chunk for chunk in chunks)  # null until the last, as OpenAI sends them
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 8
    assert all(chunk["usage"] is None for chunk in chunks[:-1])


def test_keys_are_checked(double_url: str) -> None:
    missing = httpx.post(f"{double_url}/v1/chat/completions", json=GOOD)
    wrong = httpx.post(f"{double_url}/v1/chat/completions", json=GOOD, headers={"Authorization": "Bearer sk-nope-1234"})
    models = httpx.get(f"{double_url}/v1/models", headers={"Authorization": "Bearer sk-nope-1234"})
    assert (missing.status_code, wrong.status_code, models.status_code) == (401, 401, 401)
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    assert "sk-nope-1234" not in wrong.text  # the API shows only the key's ends


@pytest.mark.parametrize(("action", "status", "error_class"), [
    ("401", 401, openai.AuthenticationError), ("404", 404, openai.NotFoundError),
    ("429:7", 429, openai.RateLimitError), ("500", 500, openai.InternalServerError),
    ("503", 503, openai.InternalServerError)])
def test_scripted_faults_answer_as_the_api_does(action: str, status: int, error_class: type[Exception]) -> None:
    with serving(create_double(script=[action, "ok"])) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-test", max_retries=0)
        with pytest.raises(error_class) as raised:
            client.chat.completions.create(**GOOD)
        assert raised.value.status_code == status
        assert raised.value.body["message"]  # the client read the API's error object
        if status == 429:
            assert raised.value.response.headers["retry-after"] == "7"
        answer = client.chat.completions.create(**GOOD)  # the script moved on
        assert answer.choices[0].message.content


def test_every_field_of_the_openai_client_is_known() -> None:
    """The rules' field list matches the request type the `openai` client is generated from."""
    from openai.types.chat.completion_create_params import CompletionCreateParamsBase

    client_fields = set(CompletionCreateParamsBase.__annotations__) | {"stream"}  # `stream` is in its subclasses
    assert client_fields == OPENAI_FIELDS
    validate_chat(GOOD, target="openai", known_models=["gpt-4"])


def test_targets_differ_where_the_engines_do() -> None:
    both = _with(max_tokens=8)
    for lax in ("vllm", "llamacpp"):
        validate_chat(both, target=lax)
        validate_chat(_with(top_k=5), target=lax)  # ignored by the engine, not rejected
    with pytest.raises(OpenAIError, match="only allowed when 'stream' is enabled"):
        validate_chat(_with(stream_options={"include_usage": True}), target="vllm")
    validate_chat(_with(model=...), target="azure")  # the deployment in the URL names the model
