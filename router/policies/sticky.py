"""Sticky A/B: a user is hashed to an arm and stays there while the split holds."""

from __future__ import annotations

from router.base import ModelRef
from router.call import Call
from router.policies.base import WeightedBase, rendezvous_pick


class StickyPolicy(WeightedBase):
    """Arms by weighted rendezvous hashing of `user_id`: a new split moves the fewest users possible.

    A call without a user id is hashed by its request id, like the weighted split.
    """

    name = "sticky"

    def first_choice(self, call: Call) -> ModelRef | None:
        user = call.user_id
        key = f"user:{user}" if user else f"request:{call.request_id}"
        return rendezvous_pick(key, self.weights, self.salt)
