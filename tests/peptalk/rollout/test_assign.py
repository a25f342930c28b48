"""Sticky assignment: stable per user, only adds users as the share rises, and matches the share."""

from __future__ import annotations

from peptalk.rollout.assign import serves_candidate

SHARES = [0.0, 0.05, 0.25, 0.5, 1.0]
USERS = [f"user-{index}" for index in range(4000)]


def test_each_stage_only_adds_users_and_matches_its_share() -> None:
    previous: set[str] = set()
    for share in SHARES:
        served = {user for user in USERS if serves_candidate(user, share, "salt-a")}
        assert previous <= served  # nobody flips back to the primary as the share rises
        # Binomial sampling error: 4 standard deviations.
        tolerance = 4 * (share * (1 - share) / len(USERS)) ** 0.5
        assert abs(len(served) / len(USERS) - share) <= tolerance + 1e-9
        previous = served


def test_assignment_is_sticky_salted_and_skips_anonymous_requests() -> None:
    assert all(serves_candidate(user, 0.3, "s") == serves_candidate(user, 0.3, "s") for user in USERS[:200])
    first = {user for user in USERS if serves_candidate(user, 0.3, "s")}
    second = {user for user in USERS if serves_candidate(user, 0.3, "another experiment")}
    assert first != second
    assert not serves_candidate(None, 0.99, "s")
    assert serves_candidate("anyone", 1.0, "s")
