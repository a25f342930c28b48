"""The `openai` backend: GPT-4 through `ChatOpenAI`, Azure OpenAI, or OpenAI-compatible engines (vLLM, llama.cpp)."""

from __future__ import annotations

import logging
import time

import httpx
from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from router.backends.openai_models import FIXED_SAMPLING, is_reasoning_model
from router.backends.openai_targets import (
    NodeTarget,
    TargetSetting,
    request_kwargs,
    target_from_models,
    target_from_url,
)
from router.base import Backend

OPENAI_API = "https://api.openai.com/v1"

log = logging.getLogger("peptalk.router")


class OpenAIBackend(Backend):
    """OpenAI, Azure OpenAI, vLLM or the llama.cpp server; each base URL is a node, with its own target.

    `target="auto"` reads the target from the URL (no URL or api.openai.com: `openai`; an Azure host: `azure`)
    and asks any other server's GET /models at `start()` who owns the models (vLLM, llama.cpp, Ollama). A node
    that does not answer stays `unknown`, is sent `max_tokens`, and is asked again before a request at most
    every `reprobe_s`, until it answers; its client is then rebuilt for the target it named.
    """

    name = "openai"
    reprobe_s = 5.0  # an unknown node is asked again at most this often (on the request path)
    reprobe_timeout_s = 1.0  # ... and briefly: the request waits for the answer

    def __init__(self, *, models: list[str], base_url: str | None = None, base_urls: list[str] | None = None,
                 api_key: SecretStr | None, temperature: float, max_tokens: int, timeout_s: float,
                 target: TargetSetting, api_version: str, max_retries: int = 0) -> None:
        self._models = models
        urls = list(base_urls or []) or [base_url or OPENAI_API]
        self.base_urls = [url.rstrip("/") for url in urls]
        self._api_key = api_key
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._timeout_s = timeout_s
        self._max_retries = max_retries  # 0: the router retries, with its own backoff and breaker
        self._target_setting: TargetSetting = target
        self._api_version = api_version
        self._detected: dict[str, NodeTarget] = {}  # nodes that answered GET /models
        self._asked_at: dict[str, float] = {}  # when an unknown node was last asked (time.monotonic)

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    def models(self) -> list[str]:
        return list(self._models)

    def nodes(self) -> list[str]:
        return list(self.base_urls)

    def target(self, node: str | None = None) -> NodeTarget:
        """The engine `node` (default the first) is taken to be; `unknown` until a self-hosted node says."""
        url = (node or self.base_url).rstrip("/")
        if self._target_setting != "auto":
            return self._target_setting
        return self._detected.get(url) or target_from_url(url) or "unknown"

    def client_key(self, node: str) -> NodeTarget:
        return self.target(node)

    async def start(self) -> None:
        """With `target="auto"`, asks each self-hosted node which engine it is."""
        for url in self.base_urls:
            await self.prepare_node(url)

    def _undetected(self, url: str) -> bool:
        return self._target_setting == "auto" and target_from_url(url) is None and url not in self._detected

    async def prepare_node(self, node: str) -> None:
        url = node.rstrip("/")
        if self._undetected(url) and url not in self._asked_at:  # asked once here; again by `refresh_node`
            await self._detect(url, timeout_s=3.0)

    async def refresh_node(self, node: str) -> None:
        """Asks a node that has not answered GET /models yet again, at most every `reprobe_s`."""
        url = node.rstrip("/")
        if self._undetected(url) and time.monotonic() - self._asked_at.get(url, float("-inf")) >= self.reprobe_s:
            await self._detect(url, timeout_s=self.reprobe_timeout_s)

    async def _detect(self, url: str, *, timeout_s: float) -> None:
        """Asks `url` who owns its models; an answer is kept, a failure leaves the node `unknown` (asked again)."""
        self._asked_at[url] = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=timeout_s) as client:
                response = await client.get(f"{url}/models", headers=self._auth_headers("openai"))
            response.raise_for_status()
            target = target_from_models(response.json())
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            log.warning("openai target unknown for now; sending max_tokens, asking again later",
                        extra={"node": url, "detail": f"{type(exc).__name__}: {exc}"[:300]})
            return
        self._detected[url] = target
        log.info("openai target detected", extra={"node": url, "target": target})

    def chat_model(self, model: str, *, node: str | None = None) -> BaseChatModel:
        url = node or self.base_url
        target = self.target(url)
        # The client refuses to start without a key; a local engine ignores it.
        api_key = self._api_key or SecretStr("not-set")
        common = {"temperature": self._temperature, "timeout": self._timeout_s, "max_retries": self._max_retries,
                  **request_kwargs(target, max_tokens=self._max_tokens)}
        if is_reasoning_model(model) and self._temperature != FIXED_SAMPLING["temperature"]:
            common["temperature"] = None  # a reasoning model refuses any other value (openai_models.py)
        if target == "azure":
            from langchain_openai import AzureChatOpenAI

            return AzureChatOpenAI(model=model, azure_deployment=model, azure_endpoint=url, api_key=api_key,
                                   api_version=self._api_version, **common)
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=model, base_url=url, api_key=api_key, **common)

    def _auth_headers(self, target: NodeTarget) -> dict[str, str]:
        if self._api_key is None:
            return {}
        key = self._api_key.get_secret_value()
        return {"api-key": key} if target == "azure" else {"Authorization": f"Bearer {key}"}

    async def check_node(self, node: str) -> tuple[bool, str]:
        base = node.rstrip("/")
        target = self.target(base)
        url = f"{base}/openai/models?api-version={self._api_version}" if target == "azure" else f"{base}/models"
        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                response = await client.get(url, headers=self._auth_headers(target))
        except httpx.HTTPError as exc:
            return False, f"{base}: {type(exc).__name__}: {exc}"
        if response.status_code != 200:
            return False, f"{url} answered {response.status_code}"
        return True, base
