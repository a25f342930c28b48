"""A reproduction run generates under the study's conditions: no sentence budget, one temperature for all."""

from __future__ import annotations

from peptalk.cli.eval import generation_settings
from peptalk.settings import Settings
from router.generation import generation_for


def test_the_slam_prompt_runs_every_model_at_the_studys_temperature_without_a_sentence_budget() -> None:
    served = Settings(_env_file=None, sentence_budget=4)
    assert generation_for(served, "embedded", "smollm2-135m").temperature < served.temperature  # the catalog's
    study = generation_settings(served, "slam")
    for backend, model in [("embedded", "smollm2-135m"), ("openai", "gpt-4"), ("ollama", "starling-lm:7b")]:
        generation = generation_for(study, backend, model)
        assert (generation.temperature, generation.sentence_budget) == (served.temperature, None), model


def test_another_prompt_keeps_the_served_settings() -> None:
    served = Settings(_env_file=None, sentence_budget=4)
    kept = generation_settings(served, "hardened")
    assert kept is served
    assert generation_for(kept, "embedded", "smollm2-135m").sentence_budget == 4
