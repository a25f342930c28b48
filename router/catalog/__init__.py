"""The model catalog (data in `slam.yaml`): the SLaM study's SLM variants, GPT-4 and the embedded model.

Besides size and memory, an entry may carry how its model should generate: its own `max_tokens` and
`temperature` defaults and its sampling (`Sampling`). A model without them generates with the settings' values and its engine's own
sampling defaults, as the study's models did.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CatalogEntry", "Sampling", "find", "find_model", "load_catalog"]


class Sampling(BaseModel):
    """Sampling parameters sent with every request to one model (None: the engine's own default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    top_k: int | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    min_p: float | None = Field(default=None, ge=0.0, le=1.0)
    repeat_penalty: float | None = Field(default=None, gt=0.0)

    def values(self) -> dict[str, float | int]:
        """The parameters that are set, by their llama.cpp names."""
        return {name: value for name, value in self.model_dump().items() if value is not None}


class CatalogEntry(BaseModel):
    """One model variant: its tag, quantisation, size and memory use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tag: str
    family: str
    backend: str = "ollama"
    bits: int | None = None
    params_b: float | None = Field(default=None, description="parameters, in billions")
    size_gb: float | None = None
    memory_mb: int | None = None
    in_study: bool = True
    notes: str = ""
    max_tokens: int | None = Field(default=None, ge=1, le=4096, description="this model's own default limit")
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, description="this model's own default temperature")
    sampling: Sampling | None = None
    ignores_length: bool = Field(default=False, description="writes past a length instruction; see sentence budget")
    source: str = Field(default="", description="where the generation values come from")


@lru_cache(maxsize=1)
def load_catalog() -> tuple[CatalogEntry, ...]:
    """Every catalog entry: the study's variants first, then the others."""
    import yaml

    data = yaml.safe_load(resources.files(__package__).joinpath("slam.yaml").read_text())
    study = [CatalogEntry(**entry) for entry in data["models"]]
    others = [CatalogEntry(**entry, in_study=False) for entry in data.get("others", [])]
    return tuple(study + others)


def find(tag: str) -> CatalogEntry | None:
    """The entry for an Ollama tag (`name` alone means `name:latest`), or None."""
    wanted = {tag, tag.removesuffix(":latest")}
    return next((entry for entry in load_catalog() if entry.tag in wanted), None)


def find_model(backend: str, model: str) -> CatalogEntry | None:
    """The entry for `backend:model`: an Ollama tag, or another backend's model of that name."""
    wanted = {model, model.removesuffix(":latest")}
    return next((entry for entry in load_catalog() if entry.backend == backend and entry.tag in wanted), None)
