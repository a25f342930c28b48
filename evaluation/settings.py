"""Evaluation's settings: judges, similarity metrics, probes, the report's cost model and human rating.

`EvalSettings` extends the serving `peptalk.settings.Settings` with the `PEPTALK_*` variables that only evaluation
reads; serving never imports evaluation, so evaluation code and the CLI read these through `get_eval_settings()`.
Each default and bound is written once, here (or in the study's cost preset it names).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from evaluation.cost_presets import SLAM
from peptalk.settings import Settings
from router.settings import PEPTALK_ENV, field_default, split_csv

__all__ = ["EvalSettings", "eval_default", "get_eval_settings"]

# Rating criteria are columns of the export beside these.
RESERVED_CRITERIA = frozenset({"prompt_id", "model", "rater", "score", "comment", "mode", "unit_id", "preference",
                               "opponent", "updated_at"})


class EvalSettings(Settings):
    """The serving settings plus what the evaluation tools read; see docs/settings.md for each variable."""

    model_config = PEPTALK_ENV

    # --- judges and similarity metrics (issue 5) ---
    eval_judge_model: str = "openai:gpt-4"  # any `backend:model` the router knows
    eval_judge_temperature: float = Field(default=0.0, ge=0.0, le=2.0)  # the `hardened` preset's; `slam` sets its own
    eval_judge_preset: Literal["slam", "hardened"] = "slam"  # judge templates, output formats and temperature
    eval_judge_max_tokens: int = Field(default=256, ge=8, le=4096)
    eval_judge_max_attempts: int = Field(default=2, ge=1, le=5)  # per judge prompt, transport errors included
    eval_judge_concurrency: int = Field(default=4, ge=1, le=64)
    eval_judge_cache_path: Path | None = None  # default: <data_dir>/judge_cache.sqlite
    eval_selector_orders: int = Field(default=2, ge=1, le=24)  # orders each multi-choice prompt is shown in
    eval_bottom_k: int = Field(default=10, ge=1)  # the study compared the bottom 10 models
    eval_embeddings_base_url: str | None = None  # OpenAI-compatible /v1; unset: the `embeddings` metric is unavailable
    eval_embeddings_model: str = "text-embedding-ada-002"
    eval_embeddings_api_key: SecretStr | None = None

    # --- diurnal probes, cost model and the report (issue 6) ---
    probe_models: Annotated[list[str], NoDecode] = Field(default_factory=list)  # empty: every configured model
    probe_interval_s: float = Field(default=3600.0, gt=0)  # one slot an hour, as in the study
    probe_warmup: int = Field(default=10, ge=0)
    probe_requests: int = Field(default=10, ge=1)
    probe_duration_s: float | None = Field(default=None, gt=0)  # None: until stopped
    report_reference_model: str = "openai:gpt-4"  # the API model the report compares every other model against
    # One GPU node: the study's AWS g4dn.xlarge (T4), busy 80% of the time.
    selfhosted_usd_per_hour: float = Field(default=float(SLAM.node.usd_per_hour), ge=0)
    selfhosted_utilisation: float = Field(default=float(SLAM.utilisation), gt=0, le=1)
    output_cv_threshold: float = Field(default=0.5, gt=0)  # output-token CV above this flags a model
    # No verdict without evidence: below these a model (or the reference) is "not enough evidence", never worse.
    report_min_scored_per_model: int = Field(default=10, ge=1)  # the study's 10 responses per model (Fig. 9)
    report_max_unparsed_share: float = Field(default=0.2, ge=0, le=1)  # of the quality source's answers

    # --- human rating UI (issue 7) ---
    rating_mode: Literal["score", "pairwise"] = "score"  # 0-10 per response, or A/B/tie plus criteria
    rating_criteria: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["clarity", "relevance", "accuracy", "tone", "overall"])
    rating_raters_per_item: int = Field(default=3, ge=1)
    rating_items_per_rater: int = Field(default=20, ge=1)
    rating_signin: Literal["token", "name"] = "token"  # token: admin-issued tokens only; name: any rater name
    rating_admin_token: SecretStr | None = None  # admin progress page; `peptalk rate serve` makes one when unset
    rating_secret: SecretStr | None = None  # signs cookies and keys blinding; default: <data_dir>/rating-secret
    rating_session_hours: float = Field(default=12.0, gt=0)
    rating_port: int = Field(default=8001, ge=1, le=65535)
    rating_max_comment_chars: int = Field(default=2000, ge=0)

    @field_validator("probe_models", "rating_criteria", mode="before")
    @classmethod
    def _eval_lists_from_csv(cls, value: object) -> object:
        return split_csv(value)

    @field_validator("rating_criteria")
    @classmethod
    def _criteria_are_slugs(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", name) or name in RESERVED_CRITERIA:
                raise ValueError(f"criterion {name!r} must be a lowercase slug and not one of "
                                 f"{sorted(RESERVED_CRITERIA)}")
        if not value or len(set(value)) != len(value):
            raise ValueError("rating criteria must be a non-empty list without repeats")
        return value


def eval_default(name: str) -> Any:
    """The default of the evaluation setting `name`."""
    return field_default(EvalSettings, name)


@lru_cache(maxsize=1)
def get_eval_settings() -> EvalSettings:
    """The process-wide evaluation settings, read from the environment once."""
    return EvalSettings()
