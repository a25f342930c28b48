"""The routing-policy interface: which models a call should try, in order."""

from __future__ import annotations

import abc
import hashlib
import math
from typing import ClassVar

from router.base import ModelRef
from router.call import Call
from router.errors import ConfigError


def unit_hash(*parts: str) -> float:
    """A stable number in (0, 1) for the parts (blake2b; the same on every process and machine)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / 2**64


def rendezvous_pick(key: str, weights: dict[ModelRef, float], salt: str) -> ModelRef:
    """Weighted rendezvous (highest-random-weight) hashing: `key` goes to arm i with probability w_i / sum(w).

    Each arm scores `w / -ln(h(key, arm))` and the highest score wins, so changing one arm's weight only
    moves keys to or from that arm: the fewest possible users change arms when the split changes.
    """
    best, best_score = None, -1.0
    for arm, weight in weights.items():
        if weight <= 0:
            continue
        score = weight / -math.log(unit_hash(salt, str(arm), key))
        if score > best_score:
            best, best_score = arm, score
    if best is None:
        raise ConfigError("no arm has a positive weight")
    return best


class RoutingPolicy(abc.ABC):
    """Orders the models a non-pinned call tries: a first pick, then the fallback chain."""

    name: ClassVar[str]

    def __init__(self, *, chain: list[ModelRef], weights: dict[ModelRef, float], salt: str) -> None:
        if not chain:
            raise ConfigError("the fallback chain is empty")
        self.chain = chain
        self.weights = weights
        self.salt = salt

    @abc.abstractmethod
    def first_choice(self, call: Call) -> ModelRef | None:
        """The model this policy picks for `call` before the chain; None: start with the chain."""

    def candidates(self, call: Call) -> list[ModelRef]:
        """Every model to try for `call`, in order; deterministic for the call, with no side effects."""
        first = self.first_choice(call)
        if first is None:
            return list(self.chain)
        return [first, *(ref for ref in self.chain if ref != first)]

    def models(self) -> list[ModelRef]:
        """Every model this policy can route to."""
        return list(dict.fromkeys([*self.weights, *self.chain]))


class WeightedBase(RoutingPolicy):
    """A policy that splits traffic by weight; it needs at least one positive weight."""

    def __init__(self, *, chain: list[ModelRef], weights: dict[ModelRef, float], salt: str) -> None:
        super().__init__(chain=chain, weights=weights, salt=salt)
        if not any(weight > 0 for weight in weights.values()):
            raise ConfigError(f"the {self.name} policy needs weights, e.g. PEPTALK_WEIGHTS=ollama:starling-lm:7b=0.9,"
                              "openai:gpt-4=0.1")
        if any(weight < 0 for weight in weights.values()):
            raise ConfigError("weights may not be negative")
