"""Shadow traffic's settings (`PEPTALK_SHADOW_*`); `peptalk.settings.Settings` inherits them.

Each default and bound is written once, here: `ShadowPolicy` and the rollout's mirror take their defaults from
these fields.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode

from router.settings import PEPTALK_ENV, field_default, split_csv


class ShadowSettings(BaseSettings):
    """Which requests are mirrored to which candidates, how much work may wait, and how long pairs are kept."""

    model_config = PEPTALK_ENV

    # Candidate `backend:model`s that every sampled request is mirrored to (empty: shadowing off).
    shadow_candidates: Annotated[list[str], NoDecode] = Field(default_factory=list)
    shadow_sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    # User ids, or fnmatch patterns such as `acme:*` for a tenant, whose requests are shadowed (empty: all).
    shadow_allow_users: Annotated[list[str], NoDecode] = Field(default_factory=list)
    shadow_max_in_flight: int = Field(default=2, ge=1)  # candidate calls running at once
    shadow_queue_size: int = Field(default=100, ge=1)  # jobs waiting; a full queue drops new ones
    shadow_timeout_s: float = Field(default=120.0, gt=0)  # one candidate call, stream included
    shadow_hash_user_ids: bool = True
    shadow_user_id_salt: SecretStr | None = None  # HMAC key for the user-id hash
    shadow_batch_size: int = Field(default=50, ge=1)  # rows per database commit
    shadow_flush_interval_s: float = Field(default=1.0, gt=0)  # longest a finished pair waits to be committed
    shadow_retention_days: int = Field(default=30, ge=0)  # 0 keeps rows forever
    shadow_prune_interval_s: float = Field(default=3600.0, gt=0)
    shadow_drain_timeout_s: float = Field(default=30.0, gt=0)  # graceful shutdown: most time to finish queued jobs

    @field_validator("shadow_candidates", "shadow_allow_users", mode="before")
    @classmethod
    def _shadow_lists_from_csv(cls, value: object) -> object:
        return split_csv(value)


def shadow_default(name: str) -> Any:
    """The default of the shadow setting `name`."""
    return field_default(ShadowSettings, name)
