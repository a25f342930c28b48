"""The public edge's settings: API keys, admin keys, rate limits, body size and what is exposed
(`peptalk.settings.Settings` inherits them)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

from router.settings import PEPTALK_ENV, split_csv


class SecuritySettings(BaseSettings):
    """Who may call the service, how often, with how large a body, and which pages it shows."""

    model_config = PEPTALK_ENV

    # Dev mode needs no API key; outside it every endpoint but /healthz needs one of `api_keys`.
    # Unset, dev mode is on exactly when no key is configured, so setting keys alone protects the service.
    dev_mode: bool | None = None
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    docs_enabled: bool = True  # /docs, /redoc and /openapi.json
    playground_enabled: bool = True  # /peptalk/playground/
    # Token buckets: N requests per minute, bursts of up to N; 0 switches that limit off.
    rate_limit_per_key_per_minute: int = Field(default=600, ge=0)
    rate_limit_per_user_per_minute: int = Field(default=60, ge=0)
    # Where rate-limit counters live: `memory://` (this process; the embedded default) or `redis://host:port/db`
    # (shared by every replica). With Redis the limit is a sliding-window counter of N per 60 s per identity.
    rate_limit_storage_url: str = Field(default="memory://", pattern=r"^(memory|(async\+)?redis|(async\+)?rediss)://")
    rate_limit_key_prefix: str = "peptalk"  # Redis key prefix: one per deployment sharing a Redis
    # Keys for `/admin/...` (erasure of one user, the rollout), sent in `X-Admin-Key`; empty: the admin endpoints
    # answer 403.
    admin_api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)  # larger request bodies get a 413

    @field_validator("api_keys", "admin_api_keys", mode="before")
    @classmethod
    def _api_keys_from_csv(cls, value: object) -> object:
        return split_csv(value)

    def resolved_dev_mode(self) -> bool:
        """`dev_mode`, or, when unset, whether no API key is configured."""
        if self.dev_mode is not None:
            return self.dev_mode
        return not any(key.get_secret_value() for key in self.api_keys)
