"""The router: backends (embedded llama.cpp, OpenAI, Ollama) behind one interface, with policies and failover."""

from router.base import Backend, BackendStatus, ModelRef
from router.config import RouterConfig, load_router_config
from router.errors import (
    AllBackendsFailed,
    BackendUnavailable,
    ConfigError,
    RouterError,
    StreamCutOff,
    StreamInterrupted,
    UnknownModelError,
)
from router.policies import POLICIES
from router.registry import BACKENDS, build_backends, build_router
from router.router import Router

__all__ = [
    "BACKENDS",
    "POLICIES",
    "AllBackendsFailed",
    "Backend",
    "BackendStatus",
    "BackendUnavailable",
    "ConfigError",
    "ModelRef",
    "Router",
    "RouterConfig",
    "RouterError",
    "StreamCutOff",
    "StreamInterrupted",
    "UnknownModelError",
    "build_backends",
    "build_router",
    "load_router_config",
]
