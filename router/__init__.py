"""The router: backends (embedded llama.cpp, OpenAI, Ollama) behind one interface."""

from router.base import Backend, BackendStatus, ModelRef
from router.errors import AllBackendsFailed, BackendUnavailable, ConfigError, RouterError, UnknownModelError
from router.registry import BACKENDS, build_backends
from router.router import Router

__all__ = [
    "BACKENDS",
    "AllBackendsFailed",
    "Backend",
    "BackendStatus",
    "BackendUnavailable",
    "ConfigError",
    "ModelRef",
    "Router",
    "RouterError",
    "UnknownModelError",
    "build_backends",
]
