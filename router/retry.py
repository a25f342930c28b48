"""Bounded retries with tenacity: only retryable failures, exponential backoff with jitter, Retry-After honoured."""

from __future__ import annotations

from collections.abc import Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from router.config import RetryConfig
from router.errors import BackendUnavailable


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, BackendUnavailable) and exc.retryable


class wait_retry_after_or_backoff(wait_base):  # noqa: N801 (tenacity's naming)
    """A 429's `Retry-After` (capped), else exponential backoff with jitter."""

    def __init__(self, config: RetryConfig) -> None:
        self.cap_s = config.retry_after_cap_s
        self.backoff = wait_exponential_jitter(multiplier=config.backoff_s, max=config.backoff_max_s,
                                               jitter=config.backoff_s)

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        failure = outcome.exception() if outcome is not None else None
        if isinstance(failure, BackendUnavailable) and failure.retry_after_s is not None:
            return min(failure.retry_after_s, self.cap_s)
        return float(self.backoff(retry_state))


class stop_before_deadline(stop_base):  # noqa: N801
    """Stops when the next sleep would end past the request's deadline."""

    def __init__(self, deadline: float, clock: Callable[[], float]) -> None:
        self.deadline = deadline
        self.clock = clock

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.clock() + retry_state.upcoming_sleep >= self.deadline


def retrying(config: RetryConfig, *, deadline: float, clock: Callable[[], float],
             before_sleep: Callable[[RetryCallState], None]) -> AsyncRetrying:
    """An `AsyncRetrying` for one model: at most `config.attempts` tries, all before `deadline` (on `clock`)."""
    return AsyncRetrying(
        retry=retry_if_exception(is_retryable),
        stop=stop_after_attempt(config.attempts) | stop_before_deadline(deadline, clock),
        wait=wait_retry_after_or_backoff(config),
        before_sleep=before_sleep,
        reraise=True,
    )
