"""The typed values layers pass: `CallOptions` down, `AnswerFacts` up on the first chunk, as clients see it.

The extension point is tested with facts defined here, as an upper layer would define its own: the router names none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from langchain_core.messages import AIMessageChunk

from router.call import (
    META_KEY,
    AnswerFacts,
    Call,
    CallOptions,
    FallbackFact,
    facts_chunk,
    facts_of,
    with_facts,
)
from router.extensions import UnclaimedFacts, register_fact


@register_fact
@dataclass(frozen=True)
class TierFacts:
    """An upper layer's facts: two keys, `tier` always, `tier_note` when set."""

    WIRE_KEYS: ClassVar[tuple[str, ...]] = ("tier", "tier_note")
    tier: str
    note: str | None = None

    def wire(self) -> dict[str, Any]:
        return {"tier": self.tier} if self.note is None else {"tier": self.tier, "tier_note": self.note}

    @classmethod
    def from_wire(cls, facts: Mapping[str, Any]) -> TierFacts | None:
        return cls(facts["tier"], facts.get("tier_note")) if isinstance(facts.get("tier"), str) else None


@register_fact
@dataclass(frozen=True)
class StageFacts:
    """Another layer's facts, one nested key."""

    WIRE_KEYS: ClassVar[tuple[str, ...]] = ("stage",)
    name: str

    def wire(self) -> dict[str, Any]:
        return {"stage": {"name": self.name}}

    @classmethod
    def from_wire(cls, facts: Mapping[str, Any]) -> StageFacts | None:
        return cls(facts["stage"]["name"]) if isinstance(facts.get("stage"), dict) else None


@dataclass(frozen=True)
class Mode:
    """A per-call option of an upper layer."""

    value: str = "on"


FALLBACK = FallbackFact(model="ollama:x", reason="timeout", detail="d")


def test_unset_facts_are_not_sent_and_the_order_is_the_routers_then_the_extensions_then_the_error() -> None:
    facts = AnswerFacts(model="openai:gpt-4", fallbacks=(FALLBACK,), extensions=(TierFacts("gold"), StageFacts("25")),
                        error={"type": "t", "reason": "r", "detail": "d", "model": "m", "request_id": "i"})
    chunk = facts_chunk(facts)
    assert chunk.content == "" and list(chunk.response_metadata[META_KEY]) == ["model", "fallbacks", "tier", "stage",
                                                                               "error"]
    assert chunk.response_metadata[META_KEY]["fallbacks"] == [{"model": "ollama:x", "reason": "timeout", "detail": "d"}]
    assert facts_chunk(AnswerFacts(model="m")).response_metadata[META_KEY] == {"model": "m"}  # no empty fallbacks


def test_facts_round_trip_through_a_chunk_and_survive_adding_chunks() -> None:
    facts = AnswerFacts(model="embedded:smollm2-135m", extensions=(TierFacts("gold", "n"), StageFacts("25")))
    assert facts_of(facts_chunk(facts)) == facts
    whole = facts_chunk(facts) + AIMessageChunk(content="Go!")  # LangChain merges response_metadata
    assert facts_of(whole) == facts
    assert facts_of(AIMessageChunk(content="no facts")) is None
    assert facts_chunk(facts).response_metadata[META_KEY]["stage"] == {"name": "25"}
    reordered = AnswerFacts(model="m", extensions=(StageFacts("25"), TierFacts("gold")))
    assert list(facts_chunk(reordered).response_metadata[META_KEY]) == ["model", "stage", "tier"]
    assert facts_of(facts_chunk(reordered)) == reordered  # decoding keeps the order the keys came in


def test_typed_get_and_with_replace_one_fact_per_type_in_place() -> None:
    facts = AnswerFacts(model="m").with_(TierFacts("gold")).with_(StageFacts("25")).with_(TierFacts("silver"))
    assert facts.extensions == (TierFacts("silver"), StageFacts("25"))
    assert facts.get(TierFacts) == TierFacts("silver") and facts.get(StageFacts) == StageFacts("25")
    assert AnswerFacts(model="m").get(TierFacts) is None


def test_keys_no_registered_fact_claims_pass_through_unchanged() -> None:
    sent = {"model": "m", "tier": "gold", "someone_elses": {"a": 1}, "and_more": True}
    facts = AnswerFacts.from_dict(sent)
    assert facts.get(TierFacts) == TierFacts("gold")
    assert facts.get(UnclaimedFacts) == UnclaimedFacts({"someone_elses": {"a": 1}, "and_more": True})
    assert facts.as_dict() == sent and list(facts.as_dict()) == list(sent)
    malformed = {"model": "m", "stage": "not a dict"}  # a claimed key its type cannot read is kept as it came
    assert AnswerFacts.from_dict(malformed).get(StageFacts) is None
    assert AnswerFacts.from_dict(malformed).as_dict() == malformed


def test_a_fact_type_may_not_take_the_routers_keys_or_another_types() -> None:
    @dataclass(frozen=True)
    class Thief:
        WIRE_KEYS: ClassVar[tuple[str, ...]] = ("tier",)

        def wire(self) -> dict[str, Any]:
            return {}

        @classmethod
        def from_wire(cls, facts: Mapping[str, Any]) -> Thief | None:
            return None

    with pytest.raises(ValueError, match="tier"):
        register_fact(Thief)
    Thief.WIRE_KEYS = ("model",)
    with pytest.raises(ValueError, match="model"):
        register_fact(Thief)


def test_with_facts_replaces_the_facts_and_keeps_the_rest() -> None:
    chunk = AIMessageChunk(content="", response_metadata={"finish_reason": "stop", META_KEY: {"model": "m"}})
    updated = with_facts(chunk, (facts_of(chunk) or AnswerFacts()).with_(TierFacts("gold")))
    assert updated.response_metadata == {"finish_reason": "stop", META_KEY: {"model": "m", "tier": "gold"}}


def test_call_options_are_frozen_with_the_old_defaults_and_carry_typed_extensions() -> None:
    call = Call(messages=[])
    assert call.options == CallOptions(fallback=True, deadline_s=None, whole_answer=False, extensions=())
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.options.fallback = False  # type: ignore[misc]
    options = CallOptions(fallback=False).with_(Mode("off"))
    assert options.get(Mode) == Mode("off") and CallOptions().get(Mode) is None
    assert options.with_(Mode("on")).extensions == (Mode("on"),) and options.fallback is False
    assert dataclasses.replace(options, deadline_s=1.0).get(Mode) == Mode("off")  # layers' copies keep extensions
    assert hash(options) == hash(CallOptions(fallback=False).with_(Mode("off")))
