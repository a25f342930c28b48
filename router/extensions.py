"""The typed extension point: upper layers' values ride on a `CallOptions` or an `AnswerFacts`, unread by the router.

A value is keyed by its type: at most one per type, in the order added (`get`, `with_` on both carriers). An answer
fact also has a wire form, the JSON keys clients see: `register_fact` records which keys its type owns, so that
`AnswerFacts.from_dict` rebuilds it without the router naming it. Keys no registered type claims are kept as they
came (`UnclaimedFacts`), so a layer that re-sends the facts of a chunk passes on what it does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

__all__ = ["AnswerFact", "UnclaimedFacts", "decode_facts", "find", "register_fact", "replaced"]

T = TypeVar("T")
V = TypeVar("V")


@runtime_checkable
class AnswerFact(Protocol):
    """An upper layer's facts about one answer, sent to clients as the keys of `wire()` (unset ones left out)."""

    def wire(self) -> dict[str, Any]: ...


class RegisteredFact(AnswerFact, Protocol):
    """An `AnswerFact` type that rebuilds itself from the wire form, given the keys it owns (`WIRE_KEYS`)."""

    WIRE_KEYS: ClassVar[tuple[str, ...]]

    @classmethod
    def from_wire(cls, facts: Mapping[str, Any]) -> AnswerFact | None: ...


R = TypeVar("R", bound=type[RegisteredFact])

_OWNERS: dict[str, type[RegisteredFact]] = {}  # wire key -> the fact type that owns it
RESERVED = frozenset({"model", "fallbacks", "error"})  # the router's own keys


def register_fact(kind: R) -> R:
    """Class decorator: `kind.from_wire` decodes `kind`'s wire keys from now on (registering again is a no-op)."""
    for key in kind.WIRE_KEYS:
        owner = _OWNERS.get(key)
        same = owner is not None and (owner.__module__, owner.__qualname__) == (kind.__module__, kind.__qualname__)
        if key in RESERVED or (owner is not None and not same):
            raise ValueError(f"answer fact key {key!r} is already owned by {owner or 'the router'}")
    _OWNERS.update({key: kind for key in kind.WIRE_KEYS})
    return kind


def find(values: tuple[object, ...], kind: type[T]) -> T | None:
    """The value of type `kind` (exactly) among `values`, if any."""
    for value in values:
        if type(value) is kind and isinstance(value, kind):
            return value
    return None


def replaced(values: tuple[V, ...], value: V) -> tuple[V, ...]:
    """`values` with `value` in place of the one of its type, or added last."""
    if any(type(item) is type(value) for item in values):
        return tuple(value if type(item) is type(value) else item for item in values)
    return (*values, value)


@dataclass(frozen=True)
class UnclaimedFacts:
    """Wire keys no registered fact type claimed, kept in their order so that they reach clients unchanged."""

    values: dict[str, Any]

    def wire(self) -> dict[str, Any]:
        return dict(self.values)


def decode_facts(facts: Mapping[str, Any]) -> tuple[AnswerFact, ...]:
    """The upper layers' facts in a wire form, in the order their first keys come (the router's keys skipped)."""
    decoded: list[AnswerFact] = []
    seen: set[type[RegisteredFact]] = set()
    unclaimed: dict[str, Any] = {}
    for key, value in facts.items():
        if key in RESERVED:
            continue
        owner = _OWNERS.get(key)
        if owner is not None and owner not in seen:
            seen.add(owner)
            fact = owner.from_wire(facts)
            if fact is not None:
                decoded.append(fact)
                continue
        if owner is not None and any(type(fact) is owner for fact in decoded):
            continue  # its type decoded it with its first key
        if not unclaimed:
            decoded.append(UnclaimedFacts(unclaimed))  # filled in place: it holds every unclaimed key
        unclaimed[key] = value
    return tuple(decoded)
