"""The `openai` backend: GPT-4 through `ChatOpenAI`, or OpenAI-compatible engines (vLLM, llama.cpp) by base URL."""

from __future__ import annotations

import httpx
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from router.base import Backend

OPENAI_API = "https://api.openai.com/v1"


class OpenAIBackend(Backend):
    """OpenAI, Azure's OpenAI-compatible endpoint, vLLM or the llama.cpp server; each base URL is a node."""

    name = "openai"

    def __init__(self, *, models: list[str], base_url: str | None = None, base_urls: list[str] | None = None,
                 api_key: SecretStr | None, temperature: float, max_tokens: int, timeout_s: float,
                 max_retries: int = 0) -> None:
        self._models = models
        urls = list(base_urls or []) or [base_url or OPENAI_API]
        self.base_urls = [url.rstrip("/") for url in urls]
        self._api_key = api_key
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._timeout_s = timeout_s
        self._max_retries = max_retries  # 0: the router retries, with its own backoff and breaker

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    def models(self) -> list[str]:
        return list(self._models)

    def nodes(self) -> list[str]:
        return list(self.base_urls)

    def chat_model(self, model: str, *, node: str | None = None) -> BaseChatModel:
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=model,
            base_url=node or self.base_url,
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

    async def check_node(self, node: str) -> tuple[bool, str]:
        base = node.rstrip("/")
        headers = {"Authorization": f"Bearer {self._api_key.get_secret_value()}"} if self._api_key else {}
        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                response = await client.get(f"{base}/models", headers=headers)
        except httpx.HTTPError as exc:
            return False, f"{base}: {type(exc).__name__}: {exc}"
        if response.status_code != 200:
            return False, f"{base}/models answered {response.status_code}"
        return True, base
