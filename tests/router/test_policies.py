"""Routing policies: pinned, weighted split, sticky A/B (10k synthetic users), ordered fallback, and `plan`."""

from __future__ import annotations

from collections import Counter

import pytest

from router import ConfigError, ModelRef
from router.policies import POLICIES, StickyPolicy, WeightedPolicy
from tests.router.routing_kit import EMBEDDED, OLLAMA, OPENAI, call, make_router

A, B, C = ModelRef.parse(OLLAMA), ModelRef.parse(OPENAI), ModelRef.parse(EMBEDDED)
USERS = [f"user-{index:05d}" for index in range(10_000)]


def sticky(weights: dict[ModelRef, float], salt: str = "peptalk") -> StickyPolicy:
    return StickyPolicy(chain=[A, B, C], weights=weights, salt=salt)


def arms(policy: StickyPolicy) -> dict[str, ModelRef]:
    return {user: policy.candidates(call(user))[0] for user in USERS}


@pytest.mark.parametrize("split", [(0.9, 0.1), (0.5, 0.5), (0.7, 0.3)])
def test_sticky_split_over_10k_users_is_within_two_points(split: tuple[float, float]) -> None:
    assigned = arms(sticky({A: split[0], B: split[1]}))
    counts = Counter(assigned.values())
    assert abs(counts[A] / len(USERS) - split[0]) <= 0.02
    assert abs(counts[B] / len(USERS) - split[1]) <= 0.02


def test_sticky_user_keeps_the_arm_across_calls_and_router_instances() -> None:
    first = sticky({A: 0.5, B: 0.5})
    second = sticky({A: 0.5, B: 0.5})
    for user in USERS[:500]:
        picks = {first.candidates(call(user, request_id=f"r{n}"))[0] for n in range(3)}
        assert picks == {second.candidates(call(user))[0]}


def test_changing_the_split_moves_the_fewest_users() -> None:
    before = arms(sticky({A: 0.9, B: 0.1}))
    after = arms(sticky({A: 0.8, B: 0.2}))
    moved = [user for user in USERS if before[user] != after[user]]
    assert all(before[user] == A and after[user] == B for user in moved)  # only towards the grown arm
    assert abs(len(moved) / len(USERS) - 0.10) <= 0.02  # the minimum possible is 10%

    three = arms(sticky({A: 0.8, B: 0.2, C: 0.1}))  # a new arm takes users from the others, and only that
    assert all(three[user] in (after[user], C) for user in USERS)
    assert abs(sum(three[user] == C for user in USERS) / len(USERS) - 0.1 / 1.1) <= 0.02


def test_a_new_salt_reshuffles_users() -> None:
    old, new = arms(sticky({A: 0.5, B: 0.5})), arms(sticky({A: 0.5, B: 0.5}, salt="exp-2"))
    assert 0.4 < sum(old[user] != new[user] for user in USERS) / len(USERS) < 0.6


def test_weighted_split_is_random_per_request_but_fixed_per_call() -> None:
    policy = WeightedPolicy(chain=[C], weights={A: 0.9, B: 0.1}, salt="s")
    picks = Counter(policy.candidates(call("ada", request_id=f"req-{n}"))[0] for n in range(10_000))
    assert abs(picks[A] / 10_000 - 0.9) <= 0.02
    same = call("ada")
    assert len({tuple(policy.candidates(same)) for _ in range(20)}) == 1
    assert policy.candidates(same)[1:] == [C]


def test_candidates_put_the_pick_first_then_the_chain_without_repeats() -> None:
    policy = WeightedPolicy(chain=[A, B, C], weights={B: 1.0}, salt="s")
    assert policy.candidates(call()) == [B, A, C]
    assert POLICIES["fallback"](chain=[A, B, C], weights={}, salt="s").candidates(call()) == [A, B, C]


def test_weighted_policies_need_positive_weights() -> None:
    with pytest.raises(ConfigError, match="weights"):
        StickyPolicy(chain=[A], weights={}, salt="s")
    with pytest.raises(ConfigError, match="negative"):
        WeightedPolicy(chain=[A], weights={A: 1.0, B: -1.0}, salt="s")


def test_router_plan_pinned_sticky_and_fallback() -> None:
    router = make_router(ollama=["http://127.0.0.1:1"], openai=["http://127.0.0.1:2"], policy="sticky",
                         weights={OLLAMA: 0.5, OPENAI: 0.5}, fallback_chain=[OLLAMA, OPENAI])
    assert router.plan(call(model=OPENAI)) == [B]
    for user in ("ada", "grace", "linus", "barbara"):
        planned = router.plan(call(user))
        assert sorted(planned) == sorted([A, B]) and planned == router.plan(call(user))
    plain = make_router(ollama=["http://127.0.0.1:1"], openai=["http://127.0.0.1:2"], fallback_chain=[OPENAI, OLLAMA])
    assert plain.plan(call()) == [B, A]


def test_router_rejects_unknown_models_in_the_policy() -> None:
    with pytest.raises(ConfigError, match="fallback chain"):
        make_router(ollama=["http://127.0.0.1:1"], fallback_chain=["ollama:llama3:70b"])
    with pytest.raises(ConfigError, match="weights"):
        make_router(ollama=["http://127.0.0.1:1"], policy="weighted", weights={"openai:gpt-4": 1.0})
