"""Optional LangSmith tracing: on only when its usual environment variables ask for it and a key is set."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger("peptalk.tracing")

# The variables LangChain and LangSmith read themselves; peptalk adds none of its own.
FLAG_VARIABLES = ("LANGSMITH_TRACING", "LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2", "LANGCHAIN_TRACING")
KEY_VARIABLES = ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")
PROJECT_VARIABLES = ("LANGSMITH_PROJECT", "LANGCHAIN_PROJECT")


@dataclass(frozen=True)
class TracingState:
    """Whether traces go to LangSmith, and why not when they do not."""

    enabled: bool
    project: str | None = None
    reason: str = ""


def tracing_state(env: Mapping[str, str]) -> TracingState:
    """What the environment asks for: on needs a flag set to `true` and an API key."""
    if not any(env.get(name, "").strip().lower() == "true" for name in FLAG_VARIABLES):
        return TracingState(False, reason="no tracing flag set")
    if not any(env.get(name, "").strip() for name in KEY_VARIABLES):
        return TracingState(False, reason="a tracing flag is set but no LANGSMITH_API_KEY")
    project = next((env[name] for name in PROJECT_VARIABLES if env.get(name)), "default")
    return TracingState(True, project=project)


def configure_tracing(env: Mapping[str, str] | None = None) -> TracingState:
    """Logs whether tracing is on; a flag without a key switches LangSmith off instead of failing every call."""
    state = tracing_state(os.environ if env is None else env)
    if state.enabled:
        log.info("LangSmith tracing on", extra={"project": state.project})
    elif state.reason.startswith("a tracing flag"):
        import langsmith

        langsmith.configure(enabled=False)
        log.warning("LangSmith tracing off", extra={"reason": state.reason})
    return state
