"""The `ollama` backend: `ChatOllama` against an Ollama server on a GPU node."""

from __future__ import annotations

import httpx
from langchain_core.language_models import BaseChatModel

from router.base import Backend, BackendStatus


class OllamaBackend(Backend):
    """Models pulled into an Ollama server, addressed by tag (e.g. `starling-lm:7b`)."""

    name = "ollama"

    def __init__(self, *, models: list[str], base_url: str, temperature: float, max_tokens: int,
                 timeout_s: float) -> None:
        self._models = models
        self.base_url = base_url.rstrip("/")
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._timeout_s = timeout_s

    def models(self) -> list[str]:
        return list(self._models)

    def chat_model(self, model: str) -> BaseChatModel:
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=model,
            base_url=self.base_url,
            temperature=self._temperature,
            num_predict=self._max_tokens,
            client_kwargs={"timeout": self._timeout_s},
        )

    async def check(self) -> BackendStatus:
        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                response = await client.get(f"{self.base_url}/api/tags")
                response.raise_for_status()
        except httpx.HTTPError as exc:
            return BackendStatus(self.name, False, f"{self.base_url}: {type(exc).__name__}: {exc}", self.models())
        installed = {entry.get("name") for entry in response.json().get("models", [])}
        missing = [tag for tag in self._models if tag not in installed and f"{tag}:latest" not in installed]
        if missing:
            return BackendStatus(self.name, False, f"not pulled on {self.base_url}: {', '.join(missing)}", self.models())
        return BackendStatus(self.name, True, self.base_url, self.models())
