"""The one place peptalk reads configuration from: `PEPTALK_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from peptalk.cache.settings import CacheSettings
from peptalk.rollout.settings import RolloutSettings
from peptalk.security.settings import SecuritySettings
from peptalk.shadow.settings import ShadowSettings
from router.settings import PEPTALK_ENV, BackendName, RouterSettings, field_default

__all__ = ["BackendName", "CacheSettings", "RolloutSettings", "RouterSettings", "SecuritySettings", "Settings",
           "ShadowSettings", "get_settings", "serving_default"]


class Settings(SecuritySettings, ShadowSettings, CacheSettings, RolloutSettings, RouterSettings):
    """Every knob of the service; see docs/settings.md for each variable.

    Each package defines its own settings, and this class inherits them: the router's (`router.settings`), the
    rollout's, the semantic cache's, shadow traffic's and the public edge's (`peptalk.<package>.settings`). The
    variable names and attribute access (`settings.cache_ttl_s`) are the same, and each default is written once,
    by the package that owns it. Serving itself owns the fields below. Evaluation's settings extend this class in
    `evaluation.settings`, since serving never imports evaluation.
    """

    model_config = PEPTALK_ENV

    # Serving
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    prompt_template: Literal["slam", "slam-recorded", "hardened"] = "slam"  # slam: the paper's printed prompt
    data_dir: Path = Path("var")  # the SQLite database, cache index and judge cache live here
    database_url: str | None = None  # default: sqlite:///<data_dir>/peptalk.db; PostgreSQL: postgresql+psycopg://...
    price_table: Path | None = None  # default: peptalk/prices/api.yaml (December 2023); cost metric and reports

    # Input limits (`peptalk.schema.RequestLimits` takes its defaults from these).
    max_items_per_list: int = Field(default=20, ge=1)
    max_item_chars: int = Field(default=200, ge=1)
    max_total_chars: int = Field(default=4000, ge=1)

    def resolved_database_url(self) -> str:
        """`database_url`, or the SQLite file in `data_dir`."""
        return self.database_url or f"sqlite:///{self.data_dir / 'peptalk.db'}"


def serving_default(name: str) -> Any:
    """The default of the setting `name` of `Settings`."""
    return field_default(Settings, name)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
