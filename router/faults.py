"""Turns whatever a backend client raised into a typed `BackendUnavailable`: what failed, and may it be retried."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from router.errors import BackendUnavailable, FailureKind


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes and contexts (clients re-raise their own errors `from None`)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status_and_headers(exc: BaseException) -> tuple[int | None, Any]:
    """The HTTP status and response headers behind a client error (openai vendors its own httpx, so duck-typed)."""
    status: int | None = None
    headers: Any = None
    for link in _chain(exc):
        if status is None:
            code = getattr(link, "status_code", None)  # openai.APIStatusError, ollama.ResponseError
            if isinstance(code, int) and code > 0:
                status = code
        response: Any = getattr(link, "response", None)
        if headers is None and response is not None and hasattr(response, "headers") and hasattr(response, "status_code"):
            headers = response.headers
            status = status or int(response.status_code)
    return status, headers


# The HTTP status an error object names by its `type` or `code`, when it comes without one (an error event inside
# a 200 stream): OpenAI's types and codes (`openai_rules` in the tests has their bodies); vLLM and llama.cpp's
# server put the status itself in `code`.
ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400, "authentication_error": 401, "invalid_api_key": 401, "permission_error": 403,
    "not_found_error": 404, "model_not_found": 404, "rate_limit_error": 429, "rate_limit_exceeded": 429,
    "requests": 429, "tokens": 429, "insufficient_quota": 429, "server_error": 500, "overloaded_error": 503,
}
QUOTA_EXHAUSTED = "insufficient_quota"  # OpenAI's `type` and `code` of a 429 that waiting does not fix


def _error_object(exc: BaseException) -> Mapping[str, Any] | None:
    """The API's `error` object a client error carries (openai's `APIError.body`), if any."""
    for link in _chain(exc):
        body = getattr(link, "body", None)
        if isinstance(body, Mapping):
            inner = body.get("error", body)
            if isinstance(inner, Mapping):
                return inner
    return None


def named_status(error: Mapping[str, Any]) -> int:
    """The HTTP status an error object names (its numeric `code`, else its `code` or `type`); 500 if none."""
    code = error.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return code
    for name in (code, error.get("type")):
        if isinstance(name, str) and name in ERROR_STATUS:
            return ERROR_STATUS[name]
    return 500  # the server accepted the request with a 200 and then failed


def _is_quota(error: Mapping[str, Any] | None) -> bool:
    return error is not None and QUOTA_EXHAUSTED in (error.get("code"), error.get("type"))


def retry_after_seconds(headers: Any) -> float | None:
    """`retry-after-ms` (Azure) or `Retry-After` (a number or an HTTP date) as seconds; None when absent or
    unreadable, and the retry then waits its own backoff."""
    milliseconds = headers.get("retry-after-ms") if headers is not None else None
    if milliseconds:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after") if headers is not None else None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _is_connect(exc: BaseException) -> bool:
    if isinstance(exc, (httpx.ConnectError, ConnectionRefusedError)):
        return True
    return type(exc).__name__ == "APIConnectionError" and not _is_timeout(exc)  # openai's, without importing it


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, (TimeoutError, httpx.TimeoutException)) or type(exc).__name__ == "APITimeoutError"


def _is_in_stream_error(exc: BaseException) -> bool:
    """Ollama's `{"error": ...}` line inside a 200 stream (its runner failed): `ResponseError` without a status."""
    return type(exc).__name__ == "ResponseError" and getattr(exc, "status_code", None) == -1  # ollama's, not imported


def classify(exc: BaseException, *, model: str, node: str) -> BackendUnavailable:
    """The failure as a `BackendUnavailable`; retryable: connection refused, timeout, 429 (not `insufficient_quota`),
    5xx, a cut connection, an error line in the stream. An error event in a 200 stream counts as the status it names."""
    if isinstance(exc, BackendUnavailable):
        return exc
    detail = f"{type(exc).__name__}: {exc}".strip().rstrip(":")[:300]
    status, headers = _status_and_headers(exc)
    error = _error_object(exc)
    event = ""
    if status is None and error is not None:  # openai's APIError of a `data: {"error": ...}` event: no status
        status = named_status(error)
        event = "error event in the stream: "
        detail = f"{event}{detail}"
    kind: FailureKind
    retry_after: float | None = None
    if status == 429 and _is_quota(error):
        kind, retryable, detail = "quota_exhausted", False, f"429 insufficient_quota from {node}: {detail}"
    elif status == 429:
        kind, retryable = "rate_limited", True
        retry_after = retry_after_seconds(headers)
        wait = "no Retry-After: backoff" if retry_after is None else f"Retry-After: {retry_after:g} s"
        detail = f"{event}429 Too Many Requests from {node} ({wait})"
    elif status is not None and status >= 500:
        kind, retryable, detail = "server_error", True, f"{status} from {node}: {detail}"
    elif status is not None and status >= 400:
        kind, retryable, detail = "client_error", status in (408, 409), f"{status} from {node}: {detail}"
    elif any(_is_in_stream_error(link) for link in _chain(exc)):
        # The server failed while generating; a new request gets a new runner, so it may be retried.
        kind, retryable, detail = "server_error", True, f"error in the stream from {node}: {detail}"
    elif any(_is_timeout(link) for link in _chain(exc)):
        kind, retryable = "timeout", True
    elif any(_is_connect(link) for link in _chain(exc)):
        kind, retryable, detail = "connect", True, f"cannot connect to {node}: {detail}"
    elif any(isinstance(link, (httpx.TransportError, ConnectionError)) for link in _chain(exc)):
        kind, retryable = "connect", True  # reset, cut mid-response, protocol error
    else:
        kind, retryable = "error", False
    return BackendUnavailable(model, detail, retryable=retryable, retry_after_s=retry_after, kind=kind, node=node)
