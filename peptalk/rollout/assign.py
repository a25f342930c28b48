"""Sticky assignment: a user hashes to a fixed point in [0, 1) and is served by the candidate while it is below the share.

Raising the share only adds users (nobody flips back and forth between stages), and every process computes
the same answer without talking to any other.
"""

from __future__ import annotations

from router.policies import unit_hash


def user_point(user_id: str, salt: str) -> float:
    """The user's fixed point in (0, 1) for this rollout's salt."""
    return unit_hash(salt, "user", user_id)


def serves_candidate(user_id: str | None, share: float, salt: str) -> bool:
    """Whether the candidate serves this user at `share`; a request without a user stays on the primary."""
    if user_id is None or share <= 0.0:
        return False
    if share >= 1.0:
        return True
    return user_point(user_id, salt) < share
