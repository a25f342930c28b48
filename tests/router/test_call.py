"""The typed values layers pass: `CallOptions` down, `AnswerFacts` up on the first chunk, as clients see it."""

from __future__ import annotations

import dataclasses

import pytest
from langchain_core.messages import AIMessageChunk

from router.call import (
    META_KEY,
    AnswerFacts,
    Call,
    CallOptions,
    FallbackFact,
    RolloutFact,
    facts_chunk,
    facts_of,
    with_facts,
)


def test_unset_facts_are_not_sent_and_the_order_is_fixed() -> None:
    facts = AnswerFacts(model="openai:gpt-4", fallbacks=(FallbackFact(model="ollama:x", reason="timeout", detail="d"),),
                        cache_hit=False, cache="miss")
    chunk = facts_chunk(facts)
    assert chunk.content == "" and list(chunk.response_metadata[META_KEY]) == ["model", "fallbacks", "cache_hit", "cache"]
    assert chunk.response_metadata[META_KEY]["fallbacks"] == [{"model": "ollama:x", "reason": "timeout", "detail": "d"}]
    assert facts_chunk(AnswerFacts(model="m")).response_metadata[META_KEY] == {"model": "m"}  # no empty fallbacks


def test_facts_round_trip_through_a_chunk_and_survive_adding_chunks() -> None:
    facts = AnswerFacts(model="embedded:smollm2-135m", cache_hit=True, similarity=0.93, cache="semantic",
                        cache_evidence={"changed": []})
    assert facts_of(facts_chunk(facts)) == facts
    whole = facts_chunk(facts) + AIMessageChunk(content="Go!")  # LangChain merges response_metadata
    assert facts_of(whole) == facts
    assert facts_of(AIMessageChunk(content="no facts")) is None
    routed = AnswerFacts(model="ollama:x", rollout=RolloutFact(stage="25", version=3, arm="candidate"))
    assert facts_of(facts_chunk(routed)) == routed  # the rollout layer's fact reaches clients as it was set
    sent = facts_chunk(routed).response_metadata[META_KEY]
    assert sent["rollout"] == {"stage": "25", "version": 3, "arm": "candidate"}
    assert AnswerFacts.from_dict({"model": "m", "unknown_key": 1}) == AnswerFacts(model="m")


def test_with_facts_replaces_the_facts_and_keeps_the_rest() -> None:
    chunk = AIMessageChunk(content="", response_metadata={"finish_reason": "stop", META_KEY: {"model": "m"}})
    updated = with_facts(chunk, dataclasses.replace(facts_of(chunk) or AnswerFacts(), cache_hit=False, cache="bypass"))
    assert updated.response_metadata == {"finish_reason": "stop", META_KEY: {"model": "m", "cache_hit": False,
                                                                              "cache": "bypass"}}


def test_call_options_are_frozen_with_the_old_defaults() -> None:
    call = Call(messages=[])
    assert call.options == CallOptions(cache="use", fallback=True, deadline_s=None, whole_answer=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.options.cache = "bypass"  # type: ignore[misc]
