"""The rollout's settings (`PEPTALK_ROLLOUT_*`; its admin routes take PEPTALK_ADMIN_API_KEYS); `peptalk.settings.Settings` inherits them."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from router.settings import PEPTALK_ENV


class RolloutSettings(BaseSettings):
    """How each app process follows the rollout stored in the database."""

    model_config = PEPTALK_ENV

    # Off: the app neither reads the rollout tables nor changes routing (a plain deployment).
    rollout_enabled: bool = False
    rollout_refresh_interval_s: float = Field(default=2.0, gt=0)  # how often each process re-reads the stage
    # A process that cannot read the stage for this long serves the primary (and says so in /readyz) until it can.
    rollout_state_max_age_s: float = Field(default=30.0, gt=0)
    rollout_controller_enabled: bool = True  # evaluate the gates inside the app (else: `peptalk rollout run`)
