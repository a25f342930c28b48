"""The `embedded` backend on llama.cpp's own server: the same SmolLM2, concurrent requests decoded together.

peptalk starts llama-server as a child process (router/backends/llama_server.py) when the app starts and
stops it with the app. Requests reach it through the OpenAI-protocol backend with the `llamacpp` target, plus
the model's catalog sampling in the request body (llama-server reads top_k, min_p and repeat_penalty there).
With a sentence budget, the stream is cut after N sentences here (router/backends/budgeted_openai.py).
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models import BaseChatModel

from router.backends.budgeted_openai import BudgetedChatOpenAI
from router.backends.embedded_runtime import default_gguf_path
from router.backends.llama_server import ManagedLlamaServer, ServerOptions, default_binary
from router.backends.openai import OpenAIBackend
from router.base import Backend
from router.errors import ConfigError
from router.generation import Generation


class EmbeddedServerBackend(Backend):
    """SmolLM2-135M-Instruct served by a managed llama-server with continuous batching."""

    name = "embedded"
    # Local and loopback-only: a slow first token means a busy CPU, as in process (see RouterConfig.timeouts_for).
    in_process = True

    def __init__(self, *, model_name: str, model_path: str | None, n_ctx: int, n_threads: int, parallel: int,
                 binary: str | None, port: int, generation: Generation, timeout_s: float, api_version: str) -> None:
        self.model_name = model_name
        self.generation = generation
        self._model_path = model_path
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._parallel = parallel
        self._binary = binary
        self._port = port
        self._timeout_s = timeout_s
        self._api_version = api_version
        self.server: ManagedLlamaServer | None = None
        self._client: OpenAIBackend | None = None

    def models(self) -> list[str]:
        return [self.model_name]

    async def start(self) -> None:
        if self.server is None:
            path = Path(self._model_path) if self._model_path else default_gguf_path()
            binary = Path(self._binary) if self._binary else default_binary()
            self.server = ManagedLlamaServer(ServerOptions(
                binary=binary, model_path=path, alias=self.model_name, n_ctx=self._n_ctx, parallel=self._parallel,
                threads=self._n_threads, port=self._port))
        await self.server.start()
        gen = self.generation
        self._client = OpenAIBackend(models=[self.model_name], base_url=f"{self.server.base_url}/v1", api_key=None,
                                     temperature=gen.temperature, max_tokens=gen.max_tokens,
                                     timeout_s=self._timeout_s, target="llamacpp", api_version=self._api_version)

    def chat_model(self, model: str, *, node: str | None = None) -> BaseChatModel:
        if self._client is None:
            raise ConfigError("the embedded backend was not started")
        chat = self._client.chat_model(model)
        sampling = dict(self.generation.sampling)
        top_p = sampling.pop("top_p", None)
        # llama-server reads top_k, min_p and repeat_penalty from the body, beside the token limit already there.
        body = {**(getattr(chat, "extra_body", None) or {}), **sampling}
        update: dict[str, object] = {"extra_body": body}
        if top_p is not None:
            update["top_p"] = top_p
        chat = chat.model_copy(update=update)
        if not self.generation.sentence_budget or self.server is None:
            return chat
        # Streamed even when invoked, so that the budget can stop it (router/backends/budgeted_openai.py).
        fields = {**dict(chat), "streaming": True, "sentence_budget": self.generation.sentence_budget,
                  "server_url": self.server.base_url}
        return BudgetedChatOpenAI.model_construct(**fields)

    async def check_node(self, node: str) -> tuple[bool, str]:
        if self.server is None:
            return False, "llama-server not started"
        return await self.server.check()

    async def aclose(self) -> None:
        if self.server is not None:
            await self.server.stop()
        self._client = None
