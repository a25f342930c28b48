"""A circuit breaker per node: failures in a row take it out for a cooldown, then one probe decides."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from router.base import NodeState

BreakerPhase = Literal["closed", "open", "half_open"]
Verdict = Literal["success", "failure", "neutral"]


class CircuitBreaker:
    """Closed -> open after `failures` in a row -> half-open after the cooldown -> one probe closes or reopens it.

    Each reopening after a failed probe doubles the cooldown, up to `max_cooldown_s`; a node that
    fails its probe is reported `down`, one that is waiting out its first cooldown `cooling_down`.
    """

    def __init__(self, *, failures: int, cooldown_s: float, max_cooldown_s: float,
                 clock: Callable[[], float] = time.monotonic,
                 on_change: Callable[[NodeState], None] | None = None) -> None:
        self.threshold = failures
        self.base_cooldown_s = cooldown_s
        self.max_cooldown_s = max(max_cooldown_s, cooldown_s)
        self._clock = clock
        self._on_change = on_change
        self.phase: BreakerPhase = "closed"
        self.failures_in_row = 0
        self.trips = 0  # openings since the breaker was last closed
        self.opened_at = 0.0
        self.probing = False
        self.opened_total = 0  # how many times it has opened, ever (for tests and logs)

    @property
    def cooldown_s(self) -> float:
        return min(self.base_cooldown_s * 2 ** max(self.trips - 1, 0), self.max_cooldown_s)

    def seconds_until_probe(self) -> float:
        """0 when a request may be sent now; otherwise how long the cooldown still runs."""
        if self.phase != "open":
            return 0.0
        return max(self.opened_at + self.cooldown_s - self._clock(), 0.0)

    def available(self) -> bool:
        """Whether a request may go to the node now (a half-open breaker lets one probe through)."""
        if self.phase == "open" and self.seconds_until_probe() == 0.0:
            self.phase = "half_open"
        if self.phase == "half_open":
            return not self.probing
        return self.phase == "closed"

    def acquire(self) -> None:
        """Marks a request as sent; in half-open it is the probe."""
        if self.phase == "half_open":
            self.probing = True

    def record(self, verdict: Verdict) -> None:
        """The outcome of a request: a success closes, a failure counts, `neutral` only ends a probe."""
        before = self.state
        if verdict == "success":
            self.phase, self.failures_in_row, self.trips, self.probing = "closed", 0, 0, False
        elif verdict == "failure":
            if self.phase == "half_open":
                self._open()
            elif self.phase == "closed":
                self.failures_in_row += 1
                if self.failures_in_row >= self.threshold:
                    self._open()
        else:
            self.probing = False
        if self.state != before and self._on_change is not None:
            self._on_change(self.state)

    def _open(self) -> None:
        self.phase = "open"
        self.trips += 1
        self.opened_total += 1
        self.opened_at = self._clock()
        self.probing = False
        self.failures_in_row = 0

    @property
    def state(self) -> NodeState:
        """`up`, `cooling_down` (first cooldown or probing) or `down` (a probe failed)."""
        if self.phase == "closed":
            return "up"
        return "down" if self.trips >= 2 else "cooling_down"
