"""The weighted split: each request goes to an arm with probability proportional to its weight."""

from __future__ import annotations

from router.base import ModelRef
from router.call import Call
from router.policies.base import WeightedBase, rendezvous_pick


class WeightedPolicy(WeightedBase):
    """A gradual rollout, e.g. 90% `ollama:starling-lm:7b`, 10% `openai:gpt-4`, then the chain.

    The pick hashes the request id, so it is random across requests yet fixed for one call: `plan(call)`
    and the call itself agree.
    """

    name = "weighted"

    def first_choice(self, call: Call) -> ModelRef | None:
        return rendezvous_pick(call.request_id, self.weights, self.salt)
