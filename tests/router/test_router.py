"""Router resolution and start-up configuration errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from peptalk.settings import Settings
from router import ConfigError, ModelRef, Router, UnknownModelError, build_backends


def test_model_ref_keeps_colons_in_the_model_part() -> None:
    ref = ModelRef.parse("ollama:starling-lm:7b")
    assert (ref.backend, ref.model, str(ref)) == ("ollama", "starling-lm:7b", "ollama:starling-lm:7b")
    with pytest.raises(UnknownModelError):
        ModelRef.parse("gpt-4")


def test_resolve_default_pinned_and_unknown(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(backends=["embedded", "openai", "ollama"])
    router = Router(build_backends(settings), default_model="embedded:smollm2-135m")
    assert router.known_models() == ["embedded:smollm2-135m", "openai:gpt-4", "ollama:starling-lm:7b"]
    assert router.resolve(None) == ModelRef("embedded", "smollm2-135m")
    assert router.resolve("ollama:starling-lm:7b") == ModelRef("ollama", "starling-lm:7b")
    with pytest.raises(UnknownModelError) as info:
        router.resolve("ollama:llama3:70b")
    assert "ollama:starling-lm:7b" in str(info.value)


def test_default_model_must_be_configured(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(default_model="openai:gpt-4")
    with pytest.raises(ConfigError, match="default model"):
        Router(build_backends(settings), default_model=settings.default_model)


def test_unknown_backend_is_a_settings_error() -> None:
    with pytest.raises(ValidationError, match="backends"):
        Settings(_env_file=None, backends="embedded,vllm")


def test_backends_accept_comma_separated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPTALK_BACKENDS", "embedded, ollama")
    monkeypatch.setenv("PEPTALK_OLLAMA_MODELS", "starling-lm:7b,orca-mini:3b")
    settings = Settings(_env_file=None)
    assert settings.backends == ["embedded", "ollama"]
    assert settings.ollama_models == ["starling-lm:7b", "orca-mini:3b"]


async def test_missing_model_file_fails_start(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings(embedded_model_path=tmp_path / "nope.gguf")
    router = Router(build_backends(settings), default_model=settings.default_model)
    with pytest.raises(ConfigError, match="nope.gguf"):
        await router.start()
