"""The circuit breaker on a fake clock: opening, cooldown, one probe, closing, doubling cooldowns."""

from __future__ import annotations

from router.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock, changes: list[str] | None = None) -> CircuitBreaker:
    return CircuitBreaker(failures=3, cooldown_s=5.0, max_cooldown_s=12.0, clock=clock,
                          on_change=None if changes is None else changes.append)


def test_opens_after_failures_in_a_row_only() -> None:
    breaker = make(Clock())
    for verdict in ("failure", "failure", "success", "failure", "failure"):
        breaker.record(verdict)  # type: ignore[arg-type]
    assert breaker.state == "up" and breaker.available()
    breaker.record("failure")
    assert breaker.state == "cooling_down" and not breaker.available()


def test_probe_after_cooldown_closes_or_reopens_with_a_longer_cooldown() -> None:
    clock, changes = Clock(), []
    breaker = make(clock, changes)
    for _ in range(3):
        breaker.record("failure")
    clock.now += 4.9
    assert not breaker.available() and round(breaker.seconds_until_probe(), 1) == 0.1
    clock.now += 0.2
    assert breaker.available()
    breaker.acquire()
    assert not breaker.available()  # one probe at a time
    breaker.record("failure")
    assert breaker.state == "down" and breaker.cooldown_s == 10.0
    clock.now += 10.1
    assert breaker.available()
    breaker.acquire()
    breaker.record("failure")
    assert breaker.cooldown_s == 12.0  # capped
    clock.now += 12.1
    breaker.acquire()
    breaker.record("success")
    assert breaker.state == "up" and breaker.available() and breaker.cooldown_s == 5.0
    assert changes == ["cooling_down", "down", "up"]


def test_a_neutral_outcome_frees_the_probe_without_a_verdict() -> None:
    clock = Clock()
    breaker = make(clock)
    for _ in range(3):
        breaker.record("failure")
    clock.now += 6
    assert breaker.available()
    breaker.acquire()
    breaker.record("neutral")
    assert breaker.available() and breaker.state == "cooling_down"
