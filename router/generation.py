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
from typing import Any, Literal

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


def _own(settings: RouterSettings, name: str, catalog: float | None, env: LimitSource) -> tuple[Any, LimitSource]:
    """A setting `name` given explicitly (its `PEPTALK_*` variable, or `name=`) wins for every model, even at its
    default's value; else the model's catalog value; else the setting's default."""
    if name in settings.model_fields_set:
        return getattr(settings, name), env
    if catalog is not None:
        return catalog, "catalog"
    return getattr(settings, name), "default"


def generation_for(settings: RouterSettings, backend: str, model: str) -> Generation:
    """The parameters `backend:model` generates with under `settings`."""
    entry = find_model(backend, model)
    max_tokens, source = _own(settings, "max_tokens", entry.max_tokens if entry else None, "PEPTALK_MAX_TOKENS")
    temperature, temperature_source = _own(settings, "temperature", entry.temperature if entry else None,
                                           "PEPTALK_TEMPERATURE")
    sampling = entry.sampling.values() if entry is not None and entry.sampling is not None else {}
    budget = settings.sentence_budget if entry is not None and entry.ignores_length else None
    return Generation(temperature=temperature, max_tokens=max_tokens, max_tokens_source=source,
                      temperature_source=temperature_source, sampling=sampling, sentence_budget=budget)
