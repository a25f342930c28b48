"""Typed errors of the router; callers branch on the type, never on the message."""

from __future__ import annotations

from typing import Literal


class RouterError(Exception):
    """Base of every router error."""


class ConfigError(RouterError):
    """The router or a backend is configured wrongly (raised at start-up)."""


class UnknownModelError(RouterError):
    """A request named a `backend:model` that is not configured."""

    def __init__(self, ref: str, known: list[str]) -> None:
        super().__init__(f"unknown model {ref!r}; configured models: {', '.join(known) or 'none'}")
        self.ref = ref
        self.known = known


# Why a backend could not answer; a closed set, used as a metric label and in `fallbacks[].reason`.
# `quota_exhausted`: a 429 `insufficient_quota` (the account's credit or quota is spent; waiting does not help).
FailureKind = Literal["connect", "timeout", "first_token_timeout", "rate_limited", "quota_exhausted", "server_error",
                      "client_error", "cooling_down", "deadline", "error"]


class BackendUnavailable(RouterError):
    """A backend could not answer (refused, timed out, 5xx, 429 ...)."""

    def __init__(self, model: str, reason: str, *, retryable: bool = True, retry_after_s: float | None = None,
                 kind: FailureKind = "error", node: str | None = None) -> None:
        super().__init__(f"{model}: {reason}")
        self.model = model
        self.reason = reason
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.kind: FailureKind = kind
        self.node = node


class StreamInterrupted(RouterError):
    """A stream failed after it had sent tokens, so it could not fall back transparently."""

    def __init__(self, model: str, reason: str, *, kind: FailureKind = "error", node: str | None = None,
                 chunks_sent: int = 0) -> None:
        super().__init__(f"{model} failed mid-stream after {chunks_sent} chunks: {reason}")
        self.model = model
        self.reason = reason
        self.kind: FailureKind = kind
        self.node = node
        self.chunks_sent = chunks_sent


class AllBackendsFailed(RouterError):
    """Every model in the route failed; `attempts` says why, one line each."""

    def __init__(self, attempts: list[str], *, retry_after_s: float | None = None) -> None:
        super().__init__("no backend could answer: " + "; ".join(attempts))
        self.attempts = attempts
        self.retry_after_s = retry_after_s  # when the first cooling-down node may be tried again
