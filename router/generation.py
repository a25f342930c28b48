"""How one model generates: its token limit, its sampling and its sentence budget, from settings and catalog.

- `max_tokens`: `PEPTALK_MAX_TOKENS` when it is set (it overrides every model), else the model's catalog
  default, else the setting's default (the study's 1,024).
- `temperature`: likewise, `PEPTALK_TEMPERATURE` when it is set, else the catalog's, else the setting's default
  (the study's 0.7).
- `sampling`: the catalog's values for the model; a model without them gets its engine's own defaults.
- `sentence_budget`: `PEPTALK_SENTENCE_BUDGET`, for models the catalog marks as ignoring length instructions
  only; off (None) by default and in reproduction runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from router.catalog import find_model
from router.settings import RouterSettings

LimitSource = Literal["PEPTALK_MAX_TOKENS", "PEPTALK_TEMPERATURE", "catalog", "default"]


@dataclass(frozen=True)
class Generation:
    """The generation parameters of one `backend:model`."""

    temperature: float
    max_tokens: int
    max_tokens_source: LimitSource = "default"
    temperature_source: LimitSource = "default"
    sampling: dict[str, float | int] = field(default_factory=dict)  # llama.cpp names: top_k, top_p, min_p, ...
    sentence_budget: int | None = None


def max_tokens_overridden(settings: RouterSettings) -> bool:
    """Whether `PEPTALK_MAX_TOKENS` (or an explicit `max_tokens=`) was given, which then wins for every model."""
    return "max_tokens" in settings.model_fields_set


def generation_for(settings: RouterSettings, backend: str, model: str) -> Generation:
    """The parameters `backend:model` generates with under `settings`."""
    entry = find_model(backend, model)
    source: LimitSource
    if max_tokens_overridden(settings):
        max_tokens, source = settings.max_tokens, "PEPTALK_MAX_TOKENS"
    elif entry is not None and entry.max_tokens is not None:
        max_tokens, source = entry.max_tokens, "catalog"
    else:
        max_tokens, source = settings.max_tokens, "default"
    temperature_source: LimitSource
    if "temperature" in settings.model_fields_set:
        temperature, temperature_source = settings.temperature, "PEPTALK_TEMPERATURE"
    elif entry is not None and entry.temperature is not None:
        temperature, temperature_source = entry.temperature, "catalog"
    else:
        temperature, temperature_source = settings.temperature, "default"
    sampling = entry.sampling.values() if entry is not None and entry.sampling is not None else {}
    budget = settings.sentence_budget if entry is not None and entry.ignores_length else None
    return Generation(temperature=temperature, max_tokens=max_tokens, max_tokens_source=source,
                      temperature_source=temperature_source, sampling=sampling, sentence_budget=budget)
