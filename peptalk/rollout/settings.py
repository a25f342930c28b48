"""The rollout's settings (`PEPTALK_ROLLOUT_*`, `PEPTALK_ADMIN_KEYS`); `peptalk.settings.Settings` inherits them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class RolloutSettings(BaseSettings):
    """How each app process follows the rollout stored in the database, and who may see its status."""

    model_config = SettingsConfigDict(env_prefix="PEPTALK_", env_file=".env", extra="ignore")

    # Off: the app neither reads the rollout tables nor changes routing (a plain deployment).
    rollout_enabled: bool = False
    rollout_refresh_interval_s: float = Field(default=2.0, gt=0)  # how often each process re-reads the stage
    rollout_controller_enabled: bool = True  # evaluate the gates inside the app (else: `peptalk rollout run`)
    # Keys for the admin routes (/rollout, /rollout/status.json), sent as `X-Admin-Key`; empty: those routes answer 403.
    admin_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)

    @field_validator("admin_keys", mode="before")
    @classmethod
    def _admin_keys_from_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
