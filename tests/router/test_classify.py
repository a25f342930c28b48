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
