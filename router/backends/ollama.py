"""The `ollama` backend: `ChatOllama` against Ollama servers on one or more GPU nodes."""

from __future__ import annotations

import httpx
from langchain_core.language_models import BaseChatModel

from router.base import Backend
from router.errors import ConfigError


class OllamaBackend(Backend):
    """Models pulled into Ollama servers, addressed by tag (e.g. `starling-lm:7b`); each base URL is a node."""

    name = "ollama"

    def __init__(self, *, models: list[str], base_urls: list[str], temperature: float, max_tokens: int,
                 timeout_s: float, model_max_tokens: dict[str, int] | None = None) -> None:
        if not base_urls:
            raise ConfigError("the ollama backend needs at least one base URL")
        self._models = models
        self.base_urls = [url.rstrip("/") for url in base_urls]
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._model_max_tokens = dict(model_max_tokens or {})  # a model's own limit (router/generation.py)
        self._timeout_s = timeout_s

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    def models(self) -> list[str]:
        return list(self._models)

    def nodes(self) -> list[str]:
        return list(self.base_urls)

    def chat_model(self, model: str, *, node: str | None = None) -> BaseChatModel:
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=model,
            base_url=(node or self.base_url).rstrip("/"),
            temperature=self._temperature,
            num_predict=self._model_max_tokens.get(model, self._max_tokens),
            client_kwargs={"timeout": self._timeout_s},
        )

    async def check_node(self, node: str) -> tuple[bool, str]:
        url = node.rstrip("/")
        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                response = await client.get(f"{url}/api/tags")
                response.raise_for_status()
        except httpx.HTTPError as exc:
            return False, f"{url}: {type(exc).__name__}: {exc}"
        installed = {entry.get("name") for entry in response.json().get("models", [])}
        missing = [tag for tag in self._models if tag not in installed and f"{tag}:latest" not in installed]
        if missing:
            return False, f"not pulled on {url}: {', '.join(missing)}"
        return True, url
