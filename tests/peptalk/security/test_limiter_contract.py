"""One contract for every rate limiter: in-process token buckets, and `limits` on its memory and on real Redis."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from peptalk.security.limiter import Charge, RateLimiter
from peptalk.security.local_limiter import InProcessLimiter
from peptalk.security.shared_limiter import SharedLimiter
from peptalk.settings import Settings
from tests.helpers import GENEROUS_S, wait_for_async
from tests.peptalk.assemblies import ASSEMBLIES, assemble, serving_assembled

INCOMPLETE = {"user_id": "ada"}  # passes the limiter, then gets a 422: no generation needed

WINDOW_S = 2  # short, so that a test can wait for capacity to come back
IMPLEMENTATIONS = ["in-process", "limits-memory", "redis"]


@pytest.fixture(params=IMPLEMENTATIONS)
def make_limiter(request: pytest.FixtureRequest) -> Callable[..., RateLimiter]:
    prefix = f"peptalk-test-{uuid.uuid4().hex[:8]}"  # a fresh keyspace per test in the shared Redis

    def build(*, key: int = 0, user: int = 0) -> RateLimiter:
        limits = {"key": key, "user": user}
        if request.param == "in-process":
            return InProcessLimiter(limits, window_s=WINDOW_S)
        url = request.getfixturevalue("redis_url") if request.param == "redis" else "memory://"
        return SharedLimiter(url, limits, window_s=WINDOW_S, key_prefix=prefix)

    return build


@pytest.fixture
async def limiter(make_limiter: Callable[..., RateLimiter]) -> AsyncIterator[RateLimiter]:
    built = make_limiter(key=10, user=3)
    yield built
    await built.aclose()


async def test_a_burst_up_to_the_limit_then_a_refusal_with_a_wait(limiter: RateLimiter) -> None:
    for _ in range(3):
        assert await limiter.admit([Charge("user", "ada", 1)]) is None
    refusal = await limiter.admit([Charge("user", "ada", 1)])
    assert refusal is not None
    assert (refusal.scope, refusal.identity, refusal.per_minute) == ("user", "ada", 3)
    assert 0 < refusal.retry_after_s <= 2 * WINDOW_S  # a sliding-window counter may take up to two windows
    assert await limiter.admit([Charge("user", "grace", 1)]) is None  # each identity counts on its own


async def test_capacity_comes_back_after_the_window(limiter: RateLimiter) -> None:
    for _ in range(3):
        assert await limiter.admit([Charge("user", "ada", 1)]) is None
    refusal = await limiter.admit([Charge("user", "ada", 1)])
    refused_at = time.monotonic()
    assert refusal is not None
    assert await limiter.admit([Charge("user", "ada", 1)]) is not None  # still refused: nothing came back yet

    async def admitted() -> bool:
        return await limiter.admit([Charge("user", "ada", 1)]) is None

    await wait_for_async(admitted, timeout_s=refusal.retry_after_s + GENEROUS_S, interval_s=0.05,
                         what="capacity coming back")
    # Retry-After is not too early (a lower bound: a loaded machine only polls later); that it is not too late is
    # bounded loosely above, by the wait's deadline.
    assert time.monotonic() - refused_at >= refusal.retry_after_s - 0.1


async def test_a_cost_above_the_limit_is_never_admitted(limiter: RateLimiter) -> None:
    refusal = await limiter.admit([Charge("key", "k", 11)])
    assert refusal is not None and math.isinf(refusal.retry_after_s)
    assert await limiter.admit([Charge("key", "k", 10)]) is None  # the refused batch spent nothing


# All or none, in every order of refusal: a refused request spends none of its charges, whichever one is refused.

async def test_a_request_refused_for_its_user_spends_nothing_of_its_key(limiter: RateLimiter) -> None:
    assert await limiter.admit([Charge("key", "k", 1), Charge("user", "ada", 3)]) is None
    refusal = await limiter.admit([Charge("key", "k", 2), Charge("user", "ada", 1)])
    assert refusal is not None and refusal.scope == "user"
    assert await limiter.admit([Charge("key", "k", 9)]) is None  # 1 + 9 = the key's 10


async def test_a_request_refused_for_its_key_spends_nothing_of_its_users(limiter: RateLimiter) -> None:
    assert await limiter.admit([Charge("key", "k", 9)]) is None
    refusal = await limiter.admit([Charge("key", "k", 2), Charge("user", "ada", 2)])
    assert refusal is not None and refusal.scope == "key"
    assert await limiter.admit([Charge("user", "ada", 3)]) is None  # ada's 3 are all left


async def test_a_request_refused_for_one_user_spends_nothing_of_its_key_or_other_users(limiter: RateLimiter) -> None:
    assert await limiter.admit([Charge("user", "grace", 3)]) is None
    refusal = await limiter.admit([Charge("key", "k", 2), Charge("user", "ada", 1), Charge("user", "grace", 1)])
    assert refusal is not None and (refusal.scope, refusal.identity) == ("user", "grace")
    assert await limiter.admit([Charge("key", "k", 10), Charge("user", "ada", 3)]) is None  # nothing was spent


async def test_a_request_refused_for_its_last_user_spends_nothing_of_the_earlier_ones(limiter: RateLimiter) -> None:
    assert await limiter.admit([Charge("user", "linus", 3)]) is None
    refusal = await limiter.admit([Charge("user", "ada", 2), Charge("user", "grace", 2), Charge("user", "linus", 1)])
    assert refusal is not None and (refusal.scope, refusal.identity) == ("user", "linus")
    assert await limiter.admit([Charge("user", "ada", 3), Charge("user", "grace", 3)]) is None


async def test_a_scope_without_a_limit_is_not_counted(make_limiter: Callable[..., RateLimiter]) -> None:
    limiter = make_limiter(key=0, user=1)
    assert not limiter.limits("key")
    assert await limiter.admit([Charge("key", "k", 1000), Charge("user", "ada", 1)]) is None


@pytest.mark.parametrize("make_limiter", ["redis"], indirect=True)
async def test_replicas_on_one_redis_share_the_limit(make_limiter: Callable[..., RateLimiter]) -> None:
    first, second = make_limiter(user=4), make_limiter(user=4)  # two replicas: two limiters, one keyspace
    outcomes = []
    for index in range(6):
        outcomes.append(await (first if index % 2 else second).admit([Charge("user", "ada", 1)]))
    assert [outcome is None for outcome in outcomes] == [True] * 4 + [False] * 2


@pytest.mark.parametrize("make_limiter", ["in-process"], indirect=True)
async def test_in_process_limiters_do_not_share(make_limiter: Callable[..., RateLimiter]) -> None:
    first, second = make_limiter(user=1), make_limiter(user=1)  # why the embedded default is one replica only
    assert await first.admit([Charge("user", "ada", 1)]) is None
    assert await second.admit([Charge("user", "ada", 1)]) is None


@pytest.mark.parametrize("kind", ASSEMBLIES)
@pytest.mark.parametrize("storage", ["memory", "redis"])
async def test_the_http_contract_is_the_same_on_every_storage(
        storage: str, kind: str, request: pytest.FixtureRequest, make_settings: Callable[..., Settings]) -> None:
    url = request.getfixturevalue("redis_url") if storage == "redis" else "memory://"
    settings = make_settings(rate_limit_per_key_per_minute=0, rate_limit_per_user_per_minute=2,
                             rate_limit_storage_url=url, rate_limit_key_prefix=f"peptalk-test-{uuid.uuid4().hex[:8]}")
    assembled = assemble(kind, settings)  # the standalone service, or a host with `include_peptalk`
    assert isinstance(assembled.peptalk.rate_limiter, SharedLimiter if storage == "redis" else InProcessLimiter)
    async with serving_assembled(assembled) as client:
        for _ in range(2):
            assert (await client.post("/peptalk/invoke", json={"input": INCOMPLETE})).status_code == 422
        refused = await client.post("/peptalk/invoke", json={"input": INCOMPLETE})
        assert refused.status_code == 429
        retry_after = int(refused.headers["retry-after"])
        assert 1 <= retry_after <= 120  # the in-process bucket: 30 s here; the Redis window: up to two minutes
        assert refused.json() == {"detail": f"rate limit of 2 requests per minute exceeded for user 'ada'; "
                                            f"retry after {retry_after} s",
                                  "limit": "user", "per_minute": 2, "retry_after_s": retry_after}
        split = await client.post("/peptalk/batch", json={"inputs": [INCOMPLETE | {"user_id": "grace"}] * 3})
        assert split.status_code == 429 and "split the batch" in split.json()["detail"]
        assert split.headers["retry-after"] == "60"


async def test_an_unreachable_redis_lets_requests_through_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    from tests.helpers import free_port

    limiter = SharedLimiter(f"redis://127.0.0.1:{free_port()}/0", {"user": 1})  # nothing listens there
    with caplog.at_level("ERROR", logger="peptalk.security"):
        for _ in range(3):
            assert await limiter.admit([Charge("user", "ada", 1)]) is None
    assert "rate-limit storage unreachable" in caplog.text
