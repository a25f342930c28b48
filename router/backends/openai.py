"""The `openai` backend: GPT-4 through `ChatOpenAI`, or any OpenAI-compatible engine by base URL."""

from __future__ import annotations

import httpx
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from router.base import Backend, BackendStatus


class OpenAIBackend(Backend):
    """OpenAI, Azure's OpenAI-compatible endpoint, vLLM or the llama.cpp server."""

    name = "openai"

    def __init__(self, *, models: list[str], base_url: str | None, api_key: SecretStr | None,
                 temperature: float, max_tokens: int, timeout_s: float, max_retries: int = 0) -> None:
        self._models = models
        self.base_url = base_url
        self._api_key = api_key
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._timeout_s = timeout_s
        self._max_retries = max_retries

    def models(self) -> list[str]:
        return list(self._models)

    def chat_model(self, model: str) -> BaseChatModel:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=model,
            base_url=self.base_url,
            # The client refuses to start without a key; a local engine ignores it.
            api_key=self._api_key or SecretStr("not-set"),
            temperature=self._temperature,
            max_completion_tokens=self._max_tokens,
            # OpenAI-compatible engines such as llama.cpp's server ignore `max_completion_tokens`.
            extra_body={"max_tokens": self._max_tokens} if self.base_url else None,
            timeout=self._timeout_s,
            max_retries=self._max_retries,
            stream_usage=True,
        )

    async def check(self) -> BackendStatus:
        base = (self.base_url or "https://api.openai.com/v1").rstrip("/")
        headers = {"Authorization": f"Bearer {self._api_key.get_secret_value()}"} if self._api_key else {}
        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                response = await client.get(f"{base}/models", headers=headers)
        except httpx.HTTPError as exc:
            return BackendStatus(self.name, False, f"{base}: {type(exc).__name__}: {exc}", self.models())
        if response.status_code != 200:
            return BackendStatus(self.name, False, f"{base}/models answered {response.status_code}", self.models())
        return BackendStatus(self.name, True, base, self.models())
