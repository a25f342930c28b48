"""The one place peptalk reads configuration from: `PEPTALK_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from peptalk.rollout.settings import RolloutSettings
from router.settings import BackendName, RouterSettings
from router.settings import split_csv as _split_csv

__all__ = ["BackendName", "RouterSettings", "Settings", "get_settings"]


class Settings(RolloutSettings, RouterSettings):
    """Every knob of the service; see docs/settings.md for each variable.

    The router's own settings (backends, generation, policy, retries, breakers) are defined by
    `router.settings.RouterSettings`, and the rollout's by `peptalk.rollout.settings.RolloutSettings`, which this
    class inherits: the variable names and attribute access
    are the same, and each default is written once, by the package that owns it.
    """

    model_config = SettingsConfigDict(env_prefix="PEPTALK_", env_file=".env", extra="ignore")

    # Serving
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    prompt_template: Literal["slam", "hardened"] = "slam"  # slam: the study's production prompt, verbatim
    data_dir: Path = Path("var")  # the SQLite database, cache index and judge cache live here
    database_url: str | None = None  # default: sqlite:///<data_dir>/peptalk.db; PostgreSQL: postgresql+psycopg://...

    # Input limits.
    max_items_per_list: int = Field(default=20, ge=1)
    max_item_chars: int = Field(default=200, ge=1)
    max_total_chars: int = Field(default=4000, ge=1)

    # --- semantic cache (issue 4) ---
    cache_enabled: bool = True
    cache_scope: Literal["user", "shared"] = "user"  # shared: only for prompts that carry no personal data
    cache_model_in_key: bool = True
    cache_item_threshold: float = Field(default=0.40, ge=-1.0, le=1.0)  # least cosine of a changed item (match.py)
    cache_reword_threshold: float = Field(default=0.90, ge=-1.0, le=1.0)  # ... when words differ beyond typos/synonyms
    cache_max_changed_items: int = Field(default=3, ge=0)
    cache_ttl_s: float = Field(default=86400.0, gt=0)
    cache_capacity: int = Field(default=10000, ge=1)
    cache_faiss_above: int = Field(default=1024, ge=0)  # entries of one key above which FAISS searches them
    cache_hnsw_above: int = Field(default=4096, ge=0)  # entries of one key above which FAISS switches flat -> HNSW
    cache_hnsw_ef_search: int = Field(default=64, ge=1, le=4096)  # HNSW search breadth: recall against lookup time
    cache_sync_interval_s: float = Field(default=0.2, gt=0)  # how stale another process's view may be
    cache_maintain_interval_s: float = Field(default=5.0, gt=0)  # hit counts written, expired entries purged
    cache_audit_share: float = Field(default=0.02, ge=0.0, le=1.0)  # semantic hits regenerated and logged
    cache_fast_path: bool = True  # exact repeats answered in front of LangServe (off while LangSmith traces)

    # --- shadow traffic (issue 9) ---
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
        return _split_csv(value)


    # --- evaluation, judges, probes and cost (issues 5 and 6) ---
    eval_judge_model: str = "openai:gpt-4"  # any `backend:model` the router knows
    eval_judge_temperature: float = Field(default=0.0, ge=0.0, le=2.0)  # the `hardened` preset's; `slam` sets its own
    eval_judge_preset: Literal["slam", "hardened"] = "slam"  # judge templates, output formats and temperature
    eval_judge_max_tokens: int = Field(default=256, ge=8, le=4096)
    eval_judge_max_attempts: int = Field(default=2, ge=1, le=5)  # per judge prompt, transport errors included
    eval_judge_concurrency: int = Field(default=4, ge=1, le=64)
    eval_judge_cache_path: Path | None = None  # default: <data_dir>/judge_cache.sqlite
    eval_selector_orders: int = Field(default=2, ge=1, le=24)  # orders each multi-choice prompt is shown in
    eval_bottom_k: int = Field(default=10, ge=1)
    eval_embeddings_base_url: str | None = None  # OpenAI-compatible /v1; unset: the `embeddings` metric is unavailable
    eval_embeddings_model: str = "text-embedding-ada-002"
    eval_embeddings_api_key: SecretStr | None = None
    # Issue 6: diurnal probes, cost model and the report.
    probe_models: Annotated[list[str], NoDecode] = Field(default_factory=list)  # empty: every configured model
    probe_interval_s: float = Field(default=3600.0, gt=0)  # one slot an hour, as in the study
    probe_warmup: int = Field(default=10, ge=0)
    probe_requests: int = Field(default=10, ge=1)
    probe_duration_s: float | None = Field(default=None, gt=0)  # None: until stopped
    price_table: Path | None = None  # default: peptalk/prices/api.yaml (December 2023)
    report_reference_model: str = "openai:gpt-4"  # the API model the report compares every other model against
    selfhosted_usd_per_hour: float = Field(default=0.526, ge=0)  # one GPU node: the study's AWS g4dn.xlarge (T4)
    selfhosted_utilisation: float = Field(default=0.8, gt=0, le=1)
    output_cv_threshold: float = Field(default=0.5, gt=0)  # output-token CV above this flags a model

    @field_validator("probe_models", mode="before")
    @classmethod
    def _probe_models_from_csv(cls, value: object) -> object:
        return _split_csv(value)

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

    @field_validator("rating_criteria", mode="before")
    @classmethod
    def _criteria_from_csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("rating_criteria")
    @classmethod
    def _criteria_are_slugs(cls, value: list[str]) -> list[str]:
        import re

        reserved = {"prompt_id", "model", "rater", "score", "comment", "mode", "unit_id", "preference",
                    "opponent", "updated_at"}
        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", name) or name in reserved:
                raise ValueError(f"criterion {name!r} must be a lowercase slug and not one of {sorted(reserved)}")
        if not value or len(set(value)) != len(value):
            raise ValueError("rating criteria must be a non-empty list without repeats")
        return value


    # --- observability and protection (issue 8) ---
    # Dev mode needs no API key; outside it every endpoint but /healthz needs one of `api_keys`.
    # Unset, dev mode is on exactly when no key is configured, so setting keys alone protects the service.
    dev_mode: bool | None = None
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    docs_enabled: bool = True  # /docs, /redoc and /openapi.json
    playground_enabled: bool = True  # /peptalk/playground/
    # Token buckets: N requests per minute, bursts of up to N; 0 switches that limit off.
    rate_limit_per_key_per_minute: int = Field(default=600, ge=0)
    rate_limit_per_user_per_minute: int = Field(default=60, ge=0)
    # --- replicas (issue 19) ---
    # Where rate-limit counters live: `memory://` (this process; the embedded default) or `redis://host:port/db`
    # (shared by every replica). With Redis the limit is a sliding-window counter of N per 60 s per identity.
    rate_limit_storage_url: str = Field(default="memory://", pattern=r"^(memory|(async\+)?redis|(async\+)?rediss)://")
    rate_limit_key_prefix: str = "peptalk"  # Redis key prefix: one per deployment sharing a Redis
    # Keys for `/admin/...` (erasure of one user), sent in `X-Admin-Key`; empty: the admin endpoints answer 403.
    admin_api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)  # larger request bodies get a 413

    @field_validator("api_keys", "admin_api_keys", mode="before")
    @classmethod
    def _api_keys_from_csv(cls, value: object) -> object:
        return _split_csv(value)

    def resolved_dev_mode(self) -> bool:
        """`dev_mode`, or, when unset, whether no API key is configured."""
        if self.dev_mode is not None:
            return self.dev_mode
        return not any(key.get_secret_value() for key in self.api_keys)

    def resolved_database_url(self) -> str:
        """`database_url`, or the SQLite file in `data_dir`."""
        return self.database_url or f"sqlite:///{self.data_dir / 'peptalk.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
