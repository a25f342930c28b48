"""Conversion of LangChain messages to the role/content dicts that chat-completion APIs take."""

from __future__ import annotations

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

_ROLES: dict[type[BaseMessage], str] = {SystemMessage: "system", HumanMessage: "user", AIMessage: "assistant"}


def to_role_dicts(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """`[{"role": ..., "content": ...}]`, the format llama.cpp and OpenAI share."""
    converted = []
    for message in messages:
        role = next((name for cls, name in _ROLES.items() if isinstance(message, cls)), "user")
        converted.append({"role": role, "content": message.text if hasattr(message, "text") else str(message.content)})
    return converted
