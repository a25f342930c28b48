"""The model catalog (data in `slam.yaml`): the SLaM study's SLM variants, GPT-4 and the embedded model."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CatalogEntry", "find", "load_catalog"]


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
