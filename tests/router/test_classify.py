"""Failure classification and the retry wait: what is retryable, and how long to wait."""

from __future__ import annotations

import httpx
import pytest
from tenacity import RetryCallState

from router.config import RetryConfig
from router.errors import BackendUnavailable
from router.faults import classify, retry_after_seconds
from router.retry import wait_retry_after_or_backoff


def status_error(status: int, headers: dict[str, str] | None = None) -> Exception:
    request = httpx.Request("POST", "http://node/api/chat")
    response = httpx.Response(status, headers=headers, request=request)
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        try:
            raise RuntimeError("client error") from None  # clients re-raise `from None`; the context remains
        except RuntimeError as wrapped:
            wrapped.status_code = status  # type: ignore[attr-defined]
            return wrapped
    raise AssertionError("unreachable")


@pytest.mark.parametrize(("exc", "kind", "retryable"), [
    (httpx.ConnectError("refused"), "connect", True),
    (ConnectionRefusedError(), "connect", True),
    (TimeoutError(), "timeout", True),
    (httpx.ReadTimeout("slow"), "timeout", True),
    (httpx.RemoteProtocolError("cut"), "connect", True),
    (status_error(503), "server_error", True),
    (status_error(429, {"Retry-After": "3"}), "rate_limited", True),
    (status_error(404), "client_error", False),
    (ValueError("bad json"), "error", False),
])
def test_classify(exc: Exception, kind: str, retryable: bool) -> None:
    failure = classify(exc, model="ollama:m", node="http://node")
    assert (failure.kind, failure.retryable) == (kind, retryable)


def test_retry_after_from_the_response_headers() -> None:
    assert classify(status_error(429, {"Retry-After": "3"}), model="m", node="n").retry_after_s == 3.0
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_seconds({"retry-after": "soon"}) is None


def test_wait_honours_retry_after_up_to_the_cap_else_backs_off() -> None:
    wait = wait_retry_after_or_backoff(RetryConfig(backoff_s=0.1, backoff_max_s=0.5, retry_after_cap_s=2.0))

    def state(failure: Exception, attempt: int) -> RetryCallState:
        retry_state = RetryCallState(None, None, (), {})
        retry_state.attempt_number = attempt
        retry_state.set_exception((type(failure), failure, None))
        return retry_state

    assert wait(state(BackendUnavailable("m", "429", retry_after_s=1.5), 1)) == 1.5
    assert wait(state(BackendUnavailable("m", "429", retry_after_s=30), 1)) == 2.0
    first = wait(state(BackendUnavailable("m", "refused"), 1))
    assert 0.1 <= first <= 0.2
    assert all(wait(state(BackendUnavailable("m", "refused"), 6)) <= 0.5 for _ in range(20))


def _stream_error_event(error: dict[str, object]) -> Exception:
    """What the `openai` client raises on a `data: {"error": ...}` event inside a 200 stream: no status."""
    import openai

    return openai.APIError(str(error.get("message", "")), httpx.Request("POST", "http://node/v1/chat/completions"),
                           body=error)


def _status_error_with_body(status: int, error: dict[str, object], headers: dict[str, str] | None = None) -> Exception:
    """What the `openai` client raises on an HTTP error: its class for the status, the body's `error` object."""
    import openai

    request = httpx.Request("POST", "http://node/v1/chat/completions")
    response = httpx.Response(status, headers=headers, json={"error": error}, request=request)
    return openai.OpenAI(api_key="x", base_url="http://node/v1", max_retries=0)._make_status_error(
        "error", body={"error": error}, response=response)


SERVER_ERROR = {"message": "The server had an error while processing your request.", "type": "server_error",
                "param": None, "code": None}
QUOTA = {"message": "You exceeded your current quota.", "type": "insufficient_quota", "param": None,
         "code": "insufficient_quota"}


@pytest.mark.parametrize(("error", "kind", "retryable"), [
    (SERVER_ERROR, "server_error", True),  # OpenAI's own in-stream failure
    ({"message": "Rate limit reached", "type": "requests", "param": None, "code": "rate_limit_exceeded"},
     "rate_limited", True),
    ({"object": "error", "message": "bad", "type": "BadRequestError", "param": None, "code": 400},
     "client_error", False),  # vLLM names the status in `code`
    ({"code": 503, "message": "Loading model", "type": "unavailable_error"}, "server_error", True),  # llama-server
    ({"message": "something broke"}, "server_error", True),  # names nothing: the server failed after its 200
    (QUOTA, "quota_exhausted", False),
])
def test_an_error_event_in_the_stream_counts_as_the_status_it_names(error: dict[str, object], kind: str,
                                                                     retryable: bool) -> None:
    failure = classify(_stream_error_event(error), model="openai:gpt-4", node="http://node/v1")
    assert (failure.kind, failure.retryable) == (kind, retryable)
    assert "error event in the stream" in failure.reason


def test_insufficient_quota_is_not_retried_and_a_rate_limit_is() -> None:
    quota = classify(_status_error_with_body(429, QUOTA), model="openai:gpt-4", node="http://node/v1")
    assert (quota.kind, quota.retryable, quota.retry_after_s) == ("quota_exhausted", False, None)
    limited = classify(_status_error_with_body(429, {"message": "slow down", "type": "requests",
                                                     "code": "rate_limit_exceeded"}, {"Retry-After": "2"}),
                       model="openai:gpt-4", node="http://node/v1")
    assert (limited.kind, limited.retryable, limited.retry_after_s) == ("rate_limited", True, 2.0)


def test_retry_after_ms_is_read_and_a_429_without_a_header_has_no_wait() -> None:
    assert retry_after_seconds({"retry-after-ms": "800"}) == 0.8
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "2"}) == 1.5  # the finer one wins
    assert retry_after_seconds({"retry-after-ms": "soon", "retry-after": "2"}) == 2.0
    bare = classify(status_error(429), model="m", node="n")
    assert (bare.kind, bare.retry_after_s) == ("rate_limited", None) and "backoff" in bare.reason
