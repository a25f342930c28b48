"""Typed errors of the router; callers branch on the type, never on the message."""

from __future__ import annotations


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


class BackendUnavailable(RouterError):
    """A backend could not answer (refused, timed out, 5xx, 429 ...)."""

    def __init__(self, model: str, reason: str, *, retryable: bool = True, retry_after_s: float | None = None) -> None:
        super().__init__(f"{model}: {reason}")
        self.model = model
        self.reason = reason
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class AllBackendsFailed(RouterError):
    """Every model in the route failed; `attempts` says why, one line each."""

    def __init__(self, attempts: list[str]) -> None:
        super().__init__("no backend could answer: " + "; ".join(attempts))
        self.attempts = attempts
