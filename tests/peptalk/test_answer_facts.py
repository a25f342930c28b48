"""The cache's and the rollout's facts ride on `AnswerFacts` as extensions; clients see the same JSON as before.

Keys and order of an answer's facts: `model`, `fallbacks`, `cache_hit`, `similarity`, `cache`, `cache_evidence`,
`cache_miss_reason`, `shared_flight`, `rollout`, `error` (the cache layer sits below the rollout layer).
"""

from __future__ import annotations

from langchain_core.messages import AIMessageChunk

from peptalk.cache.facts import CacheFacts, CacheRequest, cache_mode
from peptalk.chat_model import chain_call
from peptalk.output import output_of
from peptalk.rollout.facts import RolloutFact
from router.call import (
    META_KEY,
    AnswerFacts,
    CallOptions,
    ErrorFact,
    FallbackFact,
    facts_chunk,
    facts_of,
    with_facts,
)

CACHE = CacheFacts(hit=True, kind="semantic", similarity=0.93, evidence={"changed_items": []},
                   miss_reason="m", shared_flight=True)
ROLLOUT = RolloutFact(stage="25", version=3, arm="candidate")
WIRE_ORDER = ["model", "fallbacks", "cache_hit", "similarity", "cache", "cache_evidence", "cache_miss_reason",
              "shared_flight", "rollout", "error"]


def test_every_fact_set_comes_in_the_order_clients_know() -> None:
    error: ErrorFact = {"type": "t", "reason": "r", "detail": "d", "model": "m", "request_id": "i"}
    facts = AnswerFacts(model="openai:gpt-4", fallbacks=(FallbackFact(model="ollama:x", reason="timeout", detail="d"),),
                        extensions=(CACHE, ROLLOUT), error=error)
    sent = facts_chunk(facts).response_metadata[META_KEY]
    assert list(sent) == WIRE_ORDER
    assert sent["cache_hit"] is True and sent["similarity"] == 0.93 and sent["cache"] == "semantic"
    assert sent["rollout"] == {"stage": "25", "version": 3, "arm": "candidate"}
    assert facts_of(facts_chunk(facts)) == facts


def test_a_miss_sends_only_what_is_set_and_the_layers_add_their_facts_bottom_up() -> None:
    from_router = facts_chunk(AnswerFacts(model="openai:gpt-4"))
    cached = with_facts(from_router, (facts_of(from_router) or AnswerFacts()).with_(CacheFacts(hit=False, kind="miss")))
    routed = with_facts(cached, (facts_of(cached) or AnswerFacts()).with_(ROLLOUT))
    assert routed.response_metadata[META_KEY] == {"model": "openai:gpt-4", "cache_hit": False, "cache": "miss",
                                                  "rollout": {"stage": "25", "version": 3, "arm": "candidate"}}
    assert (facts_of(routed) or AnswerFacts()).get(CacheFacts) == CacheFacts(hit=False, kind="miss")


def test_the_output_parser_sends_the_facts_unchanged() -> None:
    chunk = facts_chunk(AnswerFacts(model="openai:gpt-4", extensions=(CACHE, ROLLOUT)))
    output = output_of(chunk + AIMessageChunk(content="Go!"))
    assert output["model"] == "openai:gpt-4" and output["text"] == "Go!"
    assert list(output["metadata"]) == WIRE_ORDER[2:-1]


def test_the_cache_mode_is_a_call_option_of_the_cache_package() -> None:
    assert cache_mode(CallOptions()) == "use"
    assert cache_mode(CallOptions().with_(CacheRequest("refresh"))) == "refresh"
    bypassed = chain_call([], request=None, model=None, cache="bypass", template_version="v")
    assert cache_mode(bypassed.options) == "bypass"
    assert chain_call([], request=None, model=None, cache=None, template_version=None).options == CallOptions()
