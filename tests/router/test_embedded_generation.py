"""The embedded model's catalog generation on the real in-process llama.cpp: its limit, sampling and sentence budget."""

from __future__ import annotations

import re
from collections.abc import Callable

from langchain_core.messages import AIMessageChunk

from peptalk.output import output_of
from peptalk.settings import Settings
from router.backends.embedded import EmbeddedBackend, EmbeddedChatModel
from router.catalog import find_model
from router.registry import build_backends
from router.sentence_budget import FINISH_REASON

LONG = "Write a long story about a dragon who learns to bake bread. Use many sentences."


async def test_without_an_override_the_embedded_model_gets_its_catalog_limit_and_sampling(
        make_settings: Callable[..., Settings]) -> None:
    settings = Settings(_env_file=None, log_level="WARNING")  # no max_tokens given: the catalog's own
    backend = build_backends(settings)["embedded"]
    assert isinstance(backend, EmbeddedBackend)
    entry = find_model("embedded", "smollm2-135m")
    assert entry is not None and entry.sampling is not None
    await backend.start()
    try:
        chat = backend.chat_model("smollm2-135m")
        assert isinstance(chat, EmbeddedChatModel)
        assert chat.max_tokens == entry.max_tokens
        params = chat._params(None, {})
        assert {name: params[name] for name in entry.sampling.values()} == entry.sampling.values()
        # The override wins, sampling stays.
        overridden = build_backends(make_settings(max_tokens=8))["embedded"]
        assert isinstance(overridden, EmbeddedBackend) and overridden.generation.max_tokens == 8
    finally:
        await backend.aclose()


async def test_a_sentence_budget_stops_the_real_model_after_whole_sentences(
        make_settings: Callable[..., Settings]) -> None:
    # One thread: the answer, not the speed, is under test, and one thread stays quick on a crowded machine.
    backend = build_backends(make_settings(sentence_budget=2, max_tokens=300, temperature=0.0,
                                           embedded_threads=1))["embedded"]
    await backend.start()
    try:
        chunks = [chunk async for chunk in backend.chat_model("smollm2-135m").astream(LONG)]
    finally:
        await backend.aclose()
    text = "".join(chunk.text for chunk in chunks)
    last = chunks[-1]
    assert isinstance(last, AIMessageChunk)
    assert last.response_metadata["finish_reason"] == FINISH_REASON
    assert last.usage_metadata is not None and 0 < last.usage_metadata["output_tokens"] < 300
    assert len(re.findall(r"[.!?]+[\"')\]]*(?:\s|$)", text.strip())) == 2, text
    assert text.rstrip()[-1] in ".!?\"')]", text
    reported = output_of(last)["metadata"]
    assert reported["finish_reason"] == FINISH_REASON and reported["truncated"] is False
