"""The study's production prompt, rendered from `templates/peptalk.txt`."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from langchain_core.prompts import ChatPromptTemplate

from peptalk.schema import LIST_FIELDS, PepTalkRequest

EMPTY_LIST = "- (none)"


@lru_cache(maxsize=1)
def template_text() -> str:
    """The template file, word for word."""
    return resources.files("peptalk").joinpath("templates/peptalk.txt").read_text(encoding="utf-8")


def pep_talk_prompt() -> ChatPromptTemplate:
    """The prompt as one user message, the way GPT-4 received it in production."""
    return ChatPromptTemplate.from_messages([("human", template_text())])


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) if items else EMPTY_LIST


def prompt_variables(request: PepTalkRequest) -> dict[str, Any]:
    """The template's variables: dates in ISO form, each list as one `- item` line per entry."""
    variables: dict[str, Any] = {name: _bullets(getattr(request, name)) for name in LIST_FIELDS}
    variables["last_login"] = request.last_login.isoformat()
    variables["today"] = request.today.isoformat()
    return variables


def render_prompt(request: PepTalkRequest) -> str:
    """The exact text the model receives for this request."""
    return template_text().format(**prompt_variables(request))
