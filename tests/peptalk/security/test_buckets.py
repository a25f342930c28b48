"""Token buckets: bursts up to the limit, steady refill, all-or-nothing admission, bounded memory."""

from __future__ import annotations

import math

import pytest

from peptalk.security import TokenBuckets, admit, requested_users
from peptalk.security.parsed import ParsedRequest


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_up_to_the_limit_then_a_wait_that_matches_the_refill_rate() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(60, clock=clock)  # one token per second
    for _ in range(60):
        assert buckets.wait_s("ada") == 0
        buckets.take("ada")
    assert buckets.wait_s("ada") == pytest.approx(1.0)
    clock.now += 0.25
    assert buckets.wait_s("ada") == pytest.approx(0.75)
    clock.now += 0.75
    assert buckets.wait_s("ada") == 0
    assert buckets.wait_s("grace") == 0  # each identity has its own bucket


def test_a_cost_above_the_capacity_can_never_be_admitted() -> None:
    buckets = TokenBuckets(3, clock=FakeClock())
    assert math.isinf(buckets.wait_s("key", 4))
    assert buckets.wait_s("key", 3) == 0


def test_admit_spends_nothing_when_any_charge_is_refused() -> None:
    clock = FakeClock()
    keys, users = TokenBuckets(10, clock=clock), TokenBuckets(1, clock=clock)
    assert admit([("key", keys, "k", 1), ("user", users, "ada", 1)]) is None
    refusal = admit([("key", keys, "k", 1), ("user", users, "ada", 1)])
    assert refusal is not None and refusal.scope == "user" and refusal.identity == "ada"
    assert refusal.retry_after_s == pytest.approx(60.0)
    assert keys.wait_s("k", 9) == 0  # the refused request did not spend the key's token


def test_memory_stays_bounded_under_many_identities() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(60, clock=clock, max_identities=100)
    for index in range(1000):
        buckets.take(f"user-{index}")
        clock.now += 0.01
    assert len(buckets._buckets) <= 100


@pytest.mark.parametrize(
    ("body", "inputs", "users"),
    [
        (b'{"input": {"user_id": "ada"}}', 1, {"ada": 1}),
        (b'{"inputs": [{"user_id": "ada"}, {"user_id": "ada"}, {"user_id": "bob"}]}', 3, {"ada": 2, "bob": 1}),
        (b'{"inputs": [{"user_id": "bad id with spaces"}, 3]}', 2, {}),
        (b"{not json", 1, {}),
        (b'[1, 2]', 1, {}),
    ],
)
def test_requested_users_reads_invoke_and_batch_bodies(body: bytes, inputs: int, users: dict[str, int]) -> None:
    count, per_user = requested_users(ParsedRequest.of("batch" if b"inputs" in body else "invoke", None, body))
    assert count == inputs
    assert dict(per_user) == users
