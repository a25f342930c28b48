"""Per-model generation: the catalog's limits and sampling, PEPTALK_MAX_TOKENS over all, the sentence budget."""

from __future__ import annotations

import pytest

from router.backends.embedded import EmbeddedBackend
from router.backends.ollama import OllamaBackend
from router.backends.openai import OpenAIBackend
from router.catalog import find_model, load_catalog
from router.generation import generation_for
from router.registry import build_backends
from router.sentence_budget import SentenceBudget
from router.settings import RouterSettings

STUDY_LIMIT = 1024


def settings(**values: object) -> RouterSettings:
    return RouterSettings(_env_file=None, **values)  # type: ignore[call-arg]


def test_the_embedded_model_has_its_own_limit_and_llama_cpp_server_sampling() -> None:
    entry = find_model("embedded", "smollm2-135m")
    assert entry is not None and entry.max_tokens is not None and entry.max_tokens < STUDY_LIMIT
    assert entry.sampling is not None
    assert entry.sampling.values() == {"top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.1}
    assert entry.source and entry.ignores_length
    generation = generation_for(settings(), "embedded", "smollm2-135m")
    assert (generation.max_tokens, generation.max_tokens_source) == (entry.max_tokens, "catalog")
    assert generation.sampling["repeat_penalty"] == 1.1
    assert (generation.temperature, generation.temperature_source) == (entry.temperature, "catalog")
    assert entry.temperature is not None and entry.temperature < settings().temperature


def test_only_embedded_models_carry_a_temperature_and_peptalk_temperature_overrides_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The OpenAI and Ollama backends send PEPTALK_TEMPERATURE to every model: a catalog temperature there
    # would be silently ignored.
    assert [entry.tag for entry in load_catalog() if entry.temperature is not None and entry.backend != "embedded"] == []
    for backend, model in [("openai", "gpt-4"), ("ollama", "starling-lm:7b")]:
        assert (generation_for(settings(), backend, model).temperature_source) == "default"
    monkeypatch.setenv("PEPTALK_TEMPERATURE", "0.7")  # the default's own value: still an override
    generation = generation_for(settings(), "embedded", "smollm2-135m")
    assert (generation.temperature, generation.temperature_source) == (0.7, "PEPTALK_TEMPERATURE")


def test_gpt4_and_the_study_models_keep_the_study_limit_and_their_engine_sampling() -> None:
    assert settings().max_tokens == STUDY_LIMIT
    models = [("openai", "gpt-4")] + [(entry.backend, entry.tag) for entry in load_catalog() if entry.in_study]
    assert len(models) == 29
    for backend, model in models:
        generation = generation_for(settings(), backend, model)
        assert (generation.max_tokens, generation.max_tokens_source, generation.sampling) == (
            STUDY_LIMIT, "default", {}), model


def test_peptalk_max_tokens_overrides_every_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPTALK_MAX_TOKENS", "48")
    from_env = settings()
    for backend, model in [("embedded", "smollm2-135m"), ("openai", "gpt-4"), ("ollama", "starling-lm:7b")]:
        generation = generation_for(from_env, backend, model)
        assert (generation.max_tokens, generation.max_tokens_source) == (48, "PEPTALK_MAX_TOKENS")
    # Set to the default's own value, it is still an override: the embedded model then gets 1,024 too.
    assert generation_for(settings(max_tokens=STUDY_LIMIT), "embedded", "smollm2-135m").max_tokens == STUDY_LIMIT


def limit_sent(chat: object) -> int:
    """The token limit in the request body the OpenAI client would send."""
    payload = chat._get_request_payload([("user", "hi")])  # type: ignore[attr-defined]
    return int(payload.get("max_completion_tokens") or payload["max_tokens"])


def test_the_backends_are_built_with_each_models_limit_and_sampling() -> None:
    built = build_backends(settings(backends=["embedded", "openai", "ollama"], openai_models=["gpt-4"],
                                    ollama_models=["starling-lm:7b"]))
    embedded = built["embedded"]
    assert isinstance(embedded, EmbeddedBackend)
    assert embedded.generation.max_tokens == find_model("embedded", "smollm2-135m").max_tokens  # type: ignore[union-attr]
    openai, ollama = built["openai"], built["ollama"]
    assert isinstance(openai, OpenAIBackend) and isinstance(ollama, OllamaBackend)
    assert limit_sent(openai.chat_model("gpt-4")) == STUDY_LIMIT
    assert ollama.chat_model("starling-lm:7b").num_predict == STUDY_LIMIT  # type: ignore[attr-defined]


def test_a_catalog_limit_reaches_the_remote_backends_too() -> None:
    openai = OpenAIBackend(models=["gpt-4", "small"], api_key=None, temperature=0.0, max_tokens=STUDY_LIMIT,
                           timeout_s=5.0, target="openai", api_version="x", model_max_tokens={"small": 64})
    assert limit_sent(openai.chat_model("small")) == 64
    assert limit_sent(openai.chat_model("gpt-4")) == STUDY_LIMIT
    ollama = OllamaBackend(models=["a:1b", "b:1b"], base_urls=["http://127.0.0.1:1"], temperature=0.0,
                           max_tokens=STUDY_LIMIT, timeout_s=5.0, model_max_tokens={"a:1b": 64})
    assert ollama.chat_model("a:1b").num_predict == 64  # type: ignore[attr-defined]
    assert ollama.chat_model("b:1b").num_predict == STUDY_LIMIT  # type: ignore[attr-defined]


def test_the_sentence_budget_is_off_by_default_and_only_for_models_that_ignore_length() -> None:
    assert generation_for(settings(), "embedded", "smollm2-135m").sentence_budget is None
    on = settings(sentence_budget=4)
    assert generation_for(on, "embedded", "smollm2-135m").sentence_budget == 4
    assert generation_for(on, "openai", "gpt-4").sentence_budget is None
    assert generation_for(on, "ollama", "starling-lm:7b").sentence_budget is None


def feed_all(budget: SentenceBudget, pieces: list[str]) -> str:
    return "".join(budget.feed(piece) for piece in pieces)


def test_a_sentence_budget_keeps_whole_sentences_and_nothing_of_the_next() -> None:
    budget = SentenceBudget(2)
    text = feed_all(budget, ["Great", " job", " on", " the doc.", " Keep", " going!", " Then", " rest."])
    assert text == "Great job on the doc. Keep going!" and budget.exhausted
    assert budget.feed(" more.") == ""


def test_a_sentence_ends_only_before_white_space() -> None:
    budget = SentenceBudget(1)
    assert feed_all(budget, ["Version 3.5 is", " out", "..."]) == "Version 3.5 is out..."
    assert not budget.exhausted  # no white space yet after the dots: the sentence may go on
    assert budget.feed('" Next') == '"' and budget.exhausted  # the closing quote belongs to the sentence


def test_a_list_marker_or_an_abbreviation_ends_no_sentence() -> None:
    """SmolLM2 numbers its points: an answer cut after "1." and "2." counted as sentences ended on a bare "2."."""
    text = "Great start! Here is today:\n\n1. Review two pull requests.\n2. Ship the beta. Then rest."
    assert feed_all(SentenceBudget(2), [text[i:i + 3] for i in range(0, len(text), 3)]) == (
        "Great start! Here is today:\n\n1. Review two pull requests.")
    abbreviated = "Ask Dr. Smith, e.g. at noon. Then go."
    assert SentenceBudget(2).feed(abbreviated + " More.") == abbreviated
    assert SentenceBudget(1).feed("I finished 2. Then more.") == "I finished 2."  # a number ending a sentence


def test_a_piece_holding_a_sentence_end_is_cut_inside() -> None:
    budget = SentenceBudget(1)
    assert budget.feed("Well done. Now the slides.") == "Well done."
    with pytest.raises(ValueError):
        SentenceBudget(0)


async def test_the_started_embedded_model_samples_at_its_catalog_temperature() -> None:
    """Through the real embedded backend (llama.cpp loads SmolLM2): the chat model it hands out carries the
    catalog's temperature, which every request to llama.cpp then sends."""
    embedded = build_backends(settings(backends=["embedded"], embedded_threads=1))["embedded"]
    await embedded.start()
    try:
        chat = embedded.chat_model("smollm2-135m")
        entry = find_model("embedded", "smollm2-135m")
        assert entry is not None and chat.temperature == entry.temperature  # type: ignore[attr-defined]
        assert chat._params(None, {})["temperature"] == entry.temperature  # type: ignore[attr-defined]
    finally:
        await embedded.aclose()
